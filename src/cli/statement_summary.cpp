#include "cli/statement_summary.h"

#include <fmt/format.h>

#include <map>

namespace xop {
namespace {

// Days since 1970-01-01 to a civil date (proleptic Gregorian), H. Hinnant's algorithm.
void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

std::string utc_time(int64_t t_ms) {
  const int64_t day = floor_div(t_ms, 86'400'000);
  const int64_t in_day = t_ms - day * 86'400'000;
  return fmt::format("{}T{:02}:{:02}:{:02}.{:03}Z", utc_date(t_ms), in_day / 3'600'000, in_day / 60'000 % 60,
                     in_day / 1000 % 60, in_day % 1000);
}

const char* grouping_name(StatementGrouping by) {
  switch (by) {
    case StatementGrouping::kSession:
      return "session";
    case StatementGrouping::kServer:
      return "server";
    case StatementGrouping::kDay:
      return "day";
  }
  return "key";
}

}  // namespace

std::string utc_date(int64_t t_ms) {
  int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(floor_div(t_ms, 86'400'000), &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

Result<std::vector<StatementSummaryRow>> summarize_statement(const StatementView& s, StatementGrouping by) {
  std::map<std::string, StatementSummaryRow> rows;
  for (const auto& po : s.purchase_orders) {
    for (const auto& r : po.records) {
      std::string key;
      switch (by) {
        case StatementGrouping::kSession:
          key = r.session;
          break;
        case StatementGrouping::kServer:
          key = po.server;
          break;
        case StatementGrouping::kDay:
          key = utc_date(r.period_end);
          break;
      }
      auto& row = rows[key];
      row.key = key;
      ++row.records;
      auto used = row.used.plus(r.used);
      if (!used || __builtin_add_overflow(row.claimed, r.amount, &row.claimed) ||
          __builtin_add_overflow(row.charged, r.charged, &row.charged)) {
        return invalid("the statement's totals for " + key + " overflow 64 bits");
      }
      row.used = *used;
    }
  }
  std::vector<StatementSummaryRow> out;
  out.reserve(rows.size());
  for (auto& [k, v] : rows) out.push_back(std::move(v));
  return out;
}

std::string csv_field(std::string_view v) {
  const bool formula = !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@');
  // Negative numbers are data, not formulas: keep "-12.5" as it is.
  bool number = !v.empty();
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (!((c >= '0' && c <= '9') || c == '.' || (i == 0 && c == '-'))) number = false;
  }
  const bool quote = v.find_first_of(",\"\r\n") != std::string_view::npos || (formula && !number);
  if (!quote) return std::string(v);
  std::string out = "\"";
  if (formula && !number) out += '\'';
  for (const char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string credits_decimal(int64_t micros) {
  const bool neg = micros < 0;
  // |INT64_MIN| does not fit an int64: work in unsigned.
  const uint64_t u = neg ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  return fmt::format("{}{}.{:06}", neg ? "-" : "", u / 1'000'000, u % 1'000'000);
}

std::string summary_csv(const std::vector<StatementSummaryRow>& rows, StatementGrouping by) {
  std::string out = fmt::format(
      "{},records,cpu_ns,memory_byte_seconds,disk_bytes,net_bytes,claimed_micros,charged_micros,charged_credits\r\n",
      grouping_name(by));
  for (const auto& r : rows) {
    out += fmt::format("{},{},{},{},{},{},{},{},{}\r\n", csv_field(r.key), r.records, r.used.cpu_ns,
                       r.used.memory_byte_seconds, r.used.disk_bytes, r.used.net_bytes, r.claimed, r.charged,
                       credits_decimal(r.charged));
  }
  return out;
}

std::string records_csv(const StatementView& s) {
  std::string out =
      "po_id,server,session,seq,period_start_ms,period_end_ms,period_start,period_end,cpu_ns,memory_byte_seconds,"
      "disk_bytes,net_bytes,claimed_micros,charged_micros,charged_credits,final\r\n";
  for (const auto& po : s.purchase_orders) {
    for (const auto& r : po.records) {
      out +=
          fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n", csv_field(po.po_id), csv_field(po.server),
                      csv_field(r.session), r.seq, r.period_start, r.period_end, utc_time(r.period_start),
                      utc_time(r.period_end), r.used.cpu_ns, r.used.memory_byte_seconds, r.used.disk_bytes,
                      r.used.net_bytes, r.amount, r.charged, credits_decimal(r.charged), r.final ? "true" : "false");
    }
  }
  return out;
}

}  // namespace xop
