#include "coord/rtt_csv.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <set>
#include <utility>

namespace xop {
namespace {

constexpr std::string_view kHeader = "cty1,cty2,rtt_cnt,rtt_avg,rtt_std,rtt_min,rtt_max";

enum class Code { kCountry, kPlaceholder, kBad };

Code classify(std::string_view s) {
  if (s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z') return Code::kCountry;
  if (s == "None" || s == "Unknown") return Code::kPlaceholder;
  return Code::kBad;
}

// A plain decimal: digits with at most one '.', then optionally e/E, an optional sign, digits.
bool plain_decimal(std::string_view s) {
  size_t i = 0;
  size_t digits = 0;
  bool dot = false;
  for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '.') {
      if (dot) return false;
      dot = true;
    } else if (s[i] >= '0' && s[i] <= '9') {
      ++digits;
    } else {
      return false;
    }
  }
  if (digits == 0) return false;
  if (i == s.size()) return true;
  ++i;  // the exponent marker
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

Result<double> parse_ms(std::string_view s, const char* field, double max = kMaxRttCsvMs) {
  if (!plain_decimal(s) || s.size() > 40) return invalid(fmt::format("{}: not a plain decimal", field));
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0 || v > max) {
    return invalid(fmt::format("{}: not a time in [0, {}] ms", field, max));
  }
  return v;
}

Result<int64_t> parse_count(std::string_view s) {
  if (s.empty() || s.size() > 13 || s[0] == '0') return invalid("rtt_cnt: not an integer in [1, 1e12]");
  for (char c : s) {
    if (c < '0' || c > '9') return invalid("rtt_cnt: not an integer in [1, 1e12]");
  }
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 1'000'000'000'000) {
    return invalid("rtt_cnt: not an integer in [1, 1e12]");
  }
  return v;
}

// Float32 rounding in the source: min and max are printed with ~7 significant digits.
bool le_rounded(double a, double b) { return a <= b + 1e-5 * std::max(1.0, std::fabs(b)); }

Result<RttRow> parse_row(std::string_view line, bool* placeholder) {
  std::array<std::string_view, 7> f;
  size_t n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ',') {
      if (n == f.size()) return invalid("more than 7 fields");
      f[n++] = line.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != f.size()) return invalid(fmt::format("{} fields, want 7", n));
  const Code ca = classify(f[0]);
  const Code cb = classify(f[1]);
  if (ca == Code::kBad) return invalid("cty1: not an ISO 3166 alpha-2 code");
  if (cb == Code::kBad) return invalid("cty2: not an ISO 3166 alpha-2 code");
  *placeholder = ca == Code::kPlaceholder || cb == Code::kPlaceholder;
  RttRow r;
  r.a = std::string(f[0]);
  r.b = std::string(f[1]);
  XOP_ASSIGN_OR_RETURN(r.count, parse_count(f[2]));
  XOP_ASSIGN_OR_RETURN(r.avg_ms, parse_ms(f[3], "rtt_avg"));
  if (f[4].empty()) {
    if (r.count != 1) return invalid("rtt_std: empty, but rtt_cnt is not 1");
  } else {
    XOP_ASSIGN_OR_RETURN(r.std_ms, parse_ms(f[4], "rtt_std", kMaxRttCsvRawMs));
  }
  XOP_ASSIGN_OR_RETURN(r.min_ms, parse_ms(f[5], "rtt_min"));
  XOP_ASSIGN_OR_RETURN(r.max_ms, parse_ms(f[6], "rtt_max", kMaxRttCsvRawMs));
  if (!le_rounded(r.min_ms, r.avg_ms) || !le_rounded(r.avg_ms, r.max_ms)) {
    return invalid("want rtt_min <= rtt_avg <= rtt_max");
  }
  return r;
}

}  // namespace

Result<RttDataset> parse_rtt_csv(std::string_view text) {
  if (text.size() > kMaxRttCsvBytes) return invalid(fmt::format("rtt csv: larger than {} bytes", kMaxRttCsvBytes));
  RttDataset out;
  std::set<std::pair<std::string, std::string>> seen;
  size_t pos = 0;
  size_t line_no = 0;
  size_t rows = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto fail = [&](const std::string& what) { return invalid(fmt::format("rtt csv line {}: {}", line_no, what)); };
    if (line.size() > kMaxRttCsvLine) return fail(fmt::format("longer than {} bytes", kMaxRttCsvLine));
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u > 0x7e) return fail("a byte that is not printable ASCII");
      if (c == '"' || c == ' ') return fail("quotes and spaces are not allowed");
    }
    if (line_no == 1) {
      if (line != kHeader) return fail(fmt::format("header must be `{}`", kHeader));
      continue;
    }
    if (line.empty()) {
      if (pos >= text.size()) break;  // the final newline
      return fail("empty line");
    }
    if (++rows > kMaxRttCsvRows) return fail(fmt::format("more than {} rows", kMaxRttCsvRows));
    bool placeholder = false;
    auto row = parse_row(line, &placeholder);
    if (!row) return fail(row.error().message);
    auto key = row->a < row->b ? std::make_pair(row->a, row->b) : std::make_pair(row->b, row->a);
    if (!seen.insert(key).second) return fail(fmt::format("{}-{} listed twice", key.first, key.second));
    if (placeholder) {
      ++out.unplaced_rows;
    } else if (row->a == row->b) {
      out.self.push_back(std::move(*row));
    } else {
      out.pairs.push_back(std::move(*row));
    }
  }
  if (line_no == 0) return invalid("rtt csv: empty (no header)");
  return out;
}

}  // namespace xop
