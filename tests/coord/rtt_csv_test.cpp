#include "coord/rtt_csv.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "coord/rtt_matrix.h"

namespace xop {
namespace {

const std::string kHead = "cty1,cty2,rtt_cnt,rtt_avg,rtt_std,rtt_min,rtt_max\n";

std::string csv(const std::string& rows) { return kHead + rows; }

void expect_refused(const std::string& text, const std::string& fragment) {
  const auto r = parse_rtt_csv(text);
  ASSERT_FALSE(r) << text;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

TEST(RttCsvTest, ParsesPairsSelfRowsAndPlaceholders) {
  const auto r =
      parse_rtt_csv(csv("AD,AT,3,37.53599421183268,0.11638510226204168,37.420864,37.653595\n"
                        "AE,AL,1,41.2570686340332,,41.25707,41.25707\n"
                        "FM,FM,4335,0.13,0.1,0.05,0.9\n"
                        "DJ,None,6,0.58,0.1,0.5,0.7\n"
                        "Unknown,US,6,10,1,5,20\n"
                        "ZA,AD,2,1e2,1.5E-1,99,101\r\n"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->pairs.size(), 3u);
  EXPECT_EQ(r->pairs[0].a, "AD");
  EXPECT_EQ(r->pairs[0].b, "AT");
  EXPECT_EQ(r->pairs[0].count, 3);
  EXPECT_DOUBLE_EQ(r->pairs[0].avg_ms, 37.53599421183268);
  EXPECT_EQ(r->pairs[1].std_ms, 0);  // empty with one sample
  EXPECT_DOUBLE_EQ(r->pairs[2].avg_ms, 100);
  EXPECT_DOUBLE_EQ(r->pairs[2].std_ms, 0.15);
  ASSERT_EQ(r->self.size(), 1u);
  EXPECT_EQ(r->self[0].a, "FM");
  EXPECT_EQ(r->unplaced_rows, 2u);
}

TEST(RttCsvTest, RefusesMalformedRowsWithTheLine) {
  expect_refused("", "empty");
  expect_refused("cty1,cty2\nAD,AT,1,1,1,1,1\n", "line 1: header");
  expect_refused(csv("AD,AT,1,1,1,1\n"), "line 2: 6 fields");
  expect_refused(csv("AD,AT,1,1,1,1,1,1\n"), "more than 7 fields");
  expect_refused(csv("AD,AT,1,1,1,1,1\n\nAD,BE,1,1,1,1,1\n"), "line 3: empty line");
  expect_refused(csv("ad,AT,1,1,1,1,1\n"), "cty1");
  expect_refused(csv("AD,ATX,1,1,1,1,1\n"), "cty2");
  expect_refused(csv("AD,AT,0,1,1,1,1\n"), "rtt_cnt");
  expect_refused(csv("AD,AT,-3,1,1,1,1\n"), "rtt_cnt");
  expect_refused(csv("AD,AT,01,1,1,1,1\n"), "rtt_cnt");
  expect_refused(csv("AD,AT,99999999999999,1,1,1,1\n"), "rtt_cnt");
  expect_refused(csv("AD,AT,2,1,,1,1\n"), "rtt_std: empty");
  expect_refused(csv("AD,AT,1,,0,1,1\n"), "rtt_avg");
  expect_refused(csv("AD,AT,1,1,1,1,1\nAT,AD,1,1,1,1,1\n"), "line 3: AD-AT listed twice");
  expect_refused(csv("AD,AT,1,10,1,11,12\n"), "rtt_min <= rtt_avg");
  expect_refused(csv("AD,AT,1,10,1,9,9.5\n"), "rtt_min <= rtt_avg");
  expect_refused(csv("AD,AT,1,\"1\",1,1,1\n"), "quotes");
  expect_refused(csv("AD, AT,1,1,1,1,1\n"), "spaces");
  expect_refused(csv("AD,AT,1,1\t,1,1,1\n"), "printable ASCII");
  expect_refused(csv("AD,AT,1,1\xc3\xa9,1,1,1\n"), "printable ASCII");
}

TEST(RttCsvTest, RefusesNonFiniteSignedAndHugeNumbers) {
  for (const char* v : {"nan", "NaN", "inf", "-1", "+1", "0x10", "1e9", "1.2.3", ".", "1e", "1e-", "e5", "1,5"}) {
    const std::string row = std::string("AD,AT,1,") + v + ",0,0,100000\n";
    ASSERT_TRUE(parse_rtt_csv(csv("AD,AT,1,5,0,0,100000\n")));
    EXPECT_FALSE(parse_rtt_csv(csv(row))) << v;
  }
  expect_refused(csv("AD,AT,1,1,1,1,1e400\n"), "rtt_max");
  expect_refused(csv("AD,AT,1,1,1,1,1e9\n"), "rtt_max");
  expect_refused(csv("AD,AT,1,1e6,1,1,1e7\n"), "rtt_avg");
  expect_refused(csv("AD,AT,1,1,1,1," + std::string(50, '1') + "\n"), "rtt_max");
}

TEST(RttCsvTest, RefusesOversizedInput) {
  expect_refused(std::string(kMaxRttCsvBytes + 1, 'A'), "larger than");
  expect_refused(csv("AD,AT,1,1,1,1,1" + std::string(kMaxRttCsvLine, '0') + "\n"), "longer than");
  std::string many = kHead;
  many.reserve(kMaxRttCsvBytes);
  // Distinct pairs are needed to get past the duplicate check: codes AA..ZZ squared.
  size_t rows = 0;
  for (char a = 'A'; a <= 'Z' && rows <= kMaxRttCsvRows; ++a) {
    for (char b = 'A'; b <= 'Z' && rows <= kMaxRttCsvRows; ++b) {
      for (char c = 'A'; c <= 'Z' && rows <= kMaxRttCsvRows; ++c) {
        for (char d = 'A'; d <= 'Z' && rows <= kMaxRttCsvRows; ++d) {
          if (std::string{a, b} >= std::string{c, d}) continue;
          many += {a, b, ',', c, d};
          many += ",1,1,0,1,1\n";
          ++rows;
        }
      }
    }
  }
  ASSERT_LT(many.size(), kMaxRttCsvBytes);
  expect_refused(many, "more than");
}

std::string read_dataset() {
  std::ifstream in(std::string(XOP_SOURCE_DIR) + "/data/rtt/country_rtt.csv", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RttCsvTest, TheShippedDatasetParsesAndItsFiguresHold) {
  const std::string text = read_dataset();
  ASSERT_FALSE(text.empty());
  const auto r = parse_rtt_csv(text);
  ASSERT_TRUE(r) << r.error().message;
  // data/rtt/NOTES.md: 6,827 rows = pairs + self rows + rows naming a placeholder.
  EXPECT_EQ(r->pairs.size() + r->self.size() + r->unplaced_rows, 6827u);
  EXPECT_EQ(r->self.size(), 114u);
  EXPECT_EQ(r->unplaced_rows, 179u);
  EXPECT_EQ(r->pairs.size(), 6534u);
  const RttMatrix m = build_rtt_matrix(*r, 10, 2.0);
  EXPECT_GT(m.size(), 120u);
  for (size_t i = 0; i < m.size(); ++i) {
    EXPECT_GE(m.peers(i).size(), 10u) << m.countries[i];
    for (size_t j : m.peers(i)) {
      EXPECT_EQ(m.rtt(i, j), m.rtt(j, i));
      EXPECT_GE(m.rtt(i, j), 2.0);
    }
    EXPECT_FALSE(m.has(i, i));
  }
}

TEST(RttMatrixTest, ExcludesPoorlyCoveredCountriesAndImplausiblePairs) {
  // AA, BB, CC all measured to each other; DD only to AA; EE-AA is sub-millisecond.
  const auto r =
      parse_rtt_csv(csv("AA,BB,1,10,,10,10\nAA,CC,1,20,,20,20\nBB,CC,1,15,,15,15\nAA,DD,1,30,,30,30\n"
                        "AA,EE,1,0.3,,0.3,0.3\nCC,CC,1,4,,4,4\n"));
  ASSERT_TRUE(r);
  const RttMatrix m = build_rtt_matrix(*r, 2, 2.0);
  EXPECT_EQ(m.countries, (std::vector<std::string>{"AA", "BB", "CC"}));
  EXPECT_EQ(m.dropped_pairs, 1u);
  ASSERT_EQ(m.excluded.size(), 1u);
  EXPECT_EQ(m.excluded[0].first, "DD");
  EXPECT_EQ(m.excluded[0].second, 1u);
  EXPECT_EQ(m.measured_pairs, 3u);
  EXPECT_EQ(m.rtt(1, 2), 15);
  EXPECT_EQ(m.self_ms[2], 4);
  EXPECT_EQ(m.self_ms[0], -1);
}

}  // namespace
}  // namespace xop
