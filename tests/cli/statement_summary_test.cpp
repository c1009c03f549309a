// The statement's sums per session, server and UTC day, and its CSV (cli/statement_summary.h).
#include "cli/statement_summary.h"

#include <gtest/gtest.h>

#include <climits>

namespace xop {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kDec4 = 1'796'342'400'000;  // 2026-12-04T00:00:00Z

StatementRecordView rec(const std::string& session, int64_t seq, int64_t start, int64_t end, int64_t cpu,
                        int64_t amount, int64_t charged) {
  StatementRecordView r;
  r.session = session;
  r.seq = seq;
  r.period_start = start;
  r.period_end = end;
  r.used.cpu_ns = cpu;
  r.used.net_bytes = 10 * seq;
  r.amount = amount;
  r.charged = charged;
  return r;
}

StatementView two_servers_over_midnight() {
  StatementView s;
  s.account = "a_user";
  StatementPoView p1;
  p1.po_id = "po1";
  p1.server = "a_server_one";
  p1.records = {rec("s1", 1, kDec4 - 2000, kDec4 - 1, 100, 50, 50),  // ends 23:59:59.999 on the 3rd
                rec("s1", 2, kDec4 - 1, kDec4, 200, 70, 70),         // ends exactly at midnight: the 4th
                rec("s2", 1, kDec4 + 10, kDec4 + 1000, 300, 90, 40)};
  StatementPoView p2;
  p2.po_id = "po2";
  p2.server = "a_server_two";
  p2.records = {rec("s3", 1, kDec4 + kDay, kDec4 + kDay + 500, 400, 11, 11)};
  s.purchase_orders = {p1, p2};
  return s;
}

TEST(UtcDateTest, DaysAreUtcAndMidnightStartsTheNextOne) {
  EXPECT_EQ(utc_date(0), "1970-01-01");
  EXPECT_EQ(utc_date(kDec4), "2026-12-04");
  EXPECT_EQ(utc_date(kDec4 - 1), "2026-12-03");
  EXPECT_EQ(utc_date(-1), "1969-12-31");
  EXPECT_EQ(utc_date(951'782'400'000), "2000-02-29");  // a leap day of a century divisible by 400
  EXPECT_EQ(utc_date(4'107'456'000'000), "2100-02-28");
  EXPECT_EQ(utc_date(4'107'542'400'000), "2100-03-01");  // 2100 is no leap year
}

TEST(StatementSummaryTest, SumsPerSessionServerAndDay) {
  const StatementView s = two_servers_over_midnight();
  auto by_session = summarize_statement(s, StatementGrouping::kSession);
  ASSERT_TRUE(by_session);
  ASSERT_EQ(by_session->size(), 3u);
  EXPECT_EQ((*by_session)[0].key, "s1");
  EXPECT_EQ((*by_session)[0].records, 2);
  EXPECT_EQ((*by_session)[0].used.cpu_ns, 300);
  EXPECT_EQ((*by_session)[0].charged, 120);
  EXPECT_EQ((*by_session)[1].claimed, 90);
  EXPECT_EQ((*by_session)[1].charged, 40) << "charged can be less than claimed (a PO ran dry)";

  auto by_server = summarize_statement(s, StatementGrouping::kServer);
  ASSERT_TRUE(by_server);
  ASSERT_EQ(by_server->size(), 2u);
  EXPECT_EQ((*by_server)[0].key, "a_server_one");
  EXPECT_EQ((*by_server)[0].records, 3);
  EXPECT_EQ((*by_server)[0].charged, 160);
  EXPECT_EQ((*by_server)[1].charged, 11);

  auto by_day = summarize_statement(s, StatementGrouping::kDay);
  ASSERT_TRUE(by_day);
  ASSERT_EQ(by_day->size(), 3u);
  EXPECT_EQ((*by_day)[0].key, "2026-12-03");
  EXPECT_EQ((*by_day)[0].charged, 50);
  EXPECT_EQ((*by_day)[1].key, "2026-12-04");
  EXPECT_EQ((*by_day)[1].records, 2);
  EXPECT_EQ((*by_day)[1].charged, 110);
  EXPECT_EQ((*by_day)[2].key, "2026-12-05");
  // However grouped, the totals are the statement's.
  for (auto by : {StatementGrouping::kSession, StatementGrouping::kServer, StatementGrouping::kDay}) {
    int64_t charged = 0;
    int64_t records = 0;
    const auto rows = summarize_statement(s, by);
    ASSERT_TRUE(rows);
    for (const auto& r : *rows) {
      charged += r.charged;
      records += r.records;
    }
    EXPECT_EQ(charged, 171);
    EXPECT_EQ(records, 4);
  }
  EXPECT_TRUE(summarize_statement(StatementView{}, StatementGrouping::kDay)->empty());
}

TEST(StatementSummaryTest, TotalsThatOverflowAreRefusedNotWrapped) {
  StatementView s;
  StatementPoView p;
  p.server = "srv";
  p.records = {rec("s", 1, 0, 1, 1, INT64_MAX, 0), rec("s", 2, 1, 2, 1, 1, 0)};
  s.purchase_orders = {p};
  auto r = summarize_statement(s, StatementGrouping::kServer);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  p.records = {rec("s", 1, 0, 1, INT64_MAX, 0, 0), rec("s", 2, 1, 2, 1, 0, 0)};
  s.purchase_orders = {p};
  EXPECT_FALSE(summarize_statement(s, StatementGrouping::kSession));
}

TEST(CsvTest, FieldsAreQuotedAsRfc4180AndFormulasAreDefused) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(csv_field("+1"), "\"'+1\"");
  EXPECT_EQ(csv_field("@SUM(A1)"), "\"'@SUM(A1)\"");
  EXPECT_EQ(csv_field("-12.5"), "-12.5") << "a negative number is data";
  EXPECT_EQ(csv_field("-cmd"), "\"'-cmd\"");
}

TEST(CsvTest, CreditsAreExactDecimals) {
  EXPECT_EQ(credits_decimal(0), "0.000000");
  EXPECT_EQ(credits_decimal(12'345'678), "12.345678");
  EXPECT_EQ(credits_decimal(-1), "-0.000001");
  EXPECT_EQ(credits_decimal(INT64_MIN), "-9223372036854.775808");
  EXPECT_EQ(credits_decimal(INT64_MAX), "9223372036854.775807");
}

// Splits CSV text into rows of fields (a tiny RFC 4180 reader, for the round trip).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

TEST(CsvTest, RecordsAndSumsRoundTripEvenWithHostileIds) {
  StatementView s = two_servers_over_midnight();
  s.purchase_orders[0].records[0].session = "s,\"evil\"\r\n=1+1";
  const auto rows = parse_csv(records_csv(s));
  ASSERT_EQ(rows.size(), 5u);  // header + 4 records
  for (const auto& r : rows) EXPECT_EQ(r.size(), 16u);
  EXPECT_EQ(rows[0][0], "po_id");
  EXPECT_EQ(rows[1][2], "s,\"evil\"\r\n=1+1");
  EXPECT_EQ(rows[2][7], "2026-12-04T00:00:00.000Z");
  EXPECT_EQ(rows[1][7], "2026-12-03T23:59:59.999Z");
  EXPECT_EQ(rows[3][14], "0.000040");
  const auto by_day = summarize_statement(s, StatementGrouping::kDay);
  ASSERT_TRUE(by_day);
  const auto sums = parse_csv(summary_csv(*by_day, StatementGrouping::kDay));
  ASSERT_EQ(sums.size(), 4u);
  EXPECT_EQ(sums[0][0], "day");
  EXPECT_EQ(sums[2][0], "2026-12-04");
  EXPECT_EQ(sums[2][1], "2");
  EXPECT_EQ(sums[2][7], "110");
}

}  // namespace
}  // namespace xop
