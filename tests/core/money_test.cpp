#include "core/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace xop {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(MoneyTest, ToStringAlwaysHasSixDecimalsAndSign) {
  EXPECT_EQ(Money::micros(0).to_string(), "0.000000");
  EXPECT_EQ(Money::micros(1).to_string(), "0.000001");
  EXPECT_EQ(Money::micros(-1).to_string(), "-0.000001");
  EXPECT_EQ(Money::micros(12'345'678).to_string(), "12.345678");
  EXPECT_EQ(Money::micros(-12'500'000).to_string(), "-12.500000");
  EXPECT_EQ(Money::micros(kMax).to_string(), "9223372036854.775807");
  EXPECT_EQ(Money::micros(kMin).to_string(), "-9223372036854.775808");
}

TEST(MoneyTest, ParsesWholeAndFractionalAmounts) {
  EXPECT_EQ(Money::parse("12")->micros(), 12'000'000);
  EXPECT_EQ(Money::parse("12.5")->micros(), 12'500'000);
  EXPECT_EQ(Money::parse("0.000001")->micros(), 1);
  EXPECT_EQ(Money::parse("-0.000001")->micros(), -1);
  EXPECT_EQ(Money::parse("-0")->micros(), 0);
  EXPECT_EQ(Money::parse("007.010")->micros(), 7'010'000);
}

TEST(MoneyTest, RoundTripsThroughText) {
  for (int64_t m : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{999'999}, int64_t{1'000'000}, int64_t{-123'456'789},
                    kMax, kMax - 1, kMin + 1, kMin}) {
    auto parsed = Money::parse(Money::micros(m).to_string());
    ASSERT_TRUE(parsed.has_value()) << m << ": " << parsed.error().message;
    EXPECT_EQ(parsed->micros(), m);
  }
}

TEST(MoneyTest, RefusesMoreThanSixDecimals) {
  auto r = Money::parse("1.0000001");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("six decimals"), std::string::npos);
  EXPECT_FALSE(Money::parse("0.1234567").has_value());
  EXPECT_TRUE(Money::parse("0.123456").has_value());
}

TEST(MoneyTest, RefusesMalformedText) {
  for (const char* bad :
       {"", "-", ".", "-.", "1.2.3", "1,5", "+1", "1e6", " 1", "1 ", "abc", "--1", "1-", "0x10", "١", "1\n"}) {
    EXPECT_FALSE(Money::parse(bad).has_value()) << "'" << bad << "'";
  }
  EXPECT_FALSE(Money::parse(std::string(41, '1')).has_value());
  EXPECT_FALSE(Money::parse(std::string("1\0", 2)).has_value());
}

TEST(MoneyTest, ParseRefusesOverflow) {
  EXPECT_FALSE(Money::parse("9223372036854.775808").has_value());
  EXPECT_FALSE(Money::parse("-9223372036854.775809").has_value());
  EXPECT_FALSE(Money::parse("9223372036855").has_value());
  EXPECT_FALSE(Money::parse("99999999999999999999").has_value());
  EXPECT_FALSE(Money::parse("99999999999999999999999999999999999999").has_value());
  EXPECT_TRUE(Money::parse("9223372036854.775807").has_value());
  EXPECT_TRUE(Money::parse("9223372036854").has_value());
}

TEST(MoneyTest, CreditsChecksOverflow) {
  EXPECT_EQ(Money::credits(5)->micros(), 5'000'000);
  EXPECT_EQ(Money::credits(-5)->micros(), -5'000'000);
  EXPECT_TRUE(Money::credits(kMax / Money::kMicrosPerCredit).has_value());
  EXPECT_FALSE(Money::credits(kMax / Money::kMicrosPerCredit + 1).has_value());
  EXPECT_FALSE(Money::credits(kMin).has_value());
}

TEST(MoneyTest, CheckedArithmetic) {
  const Money a = Money::micros(7);
  const Money b = Money::micros(5);
  EXPECT_EQ(a.plus(b)->micros(), 12);
  EXPECT_EQ(a.minus(b)->micros(), 2);
  EXPECT_EQ(b.minus(a)->micros(), -2);
  EXPECT_EQ(a.times(3)->micros(), 21);
  EXPECT_EQ(a.times(-3)->micros(), -21);
  EXPECT_EQ(a.negated()->micros(), -7);

  EXPECT_FALSE(Money::micros(kMax).plus(Money::micros(1)).has_value());
  EXPECT_FALSE(Money::micros(kMin).plus(Money::micros(-1)).has_value());
  EXPECT_TRUE(Money::micros(kMax).plus(Money::micros(kMin)).has_value());
  EXPECT_FALSE(Money::micros(kMin).minus(Money::micros(1)).has_value());
  EXPECT_FALSE(Money::micros(0).minus(Money::micros(kMin)).has_value());
  EXPECT_FALSE(Money::micros(kMax).minus(Money::micros(-1)).has_value());
  EXPECT_FALSE(Money::micros(kMax / 2 + 1).times(2).has_value());
  EXPECT_FALSE(Money::micros(kMin).times(-1).has_value());
  EXPECT_FALSE(Money::micros(-1).times(kMin).has_value());
  EXPECT_TRUE(Money::micros(kMax).times(-1).has_value());
  EXPECT_FALSE(Money::micros(kMin).negated().has_value());
  EXPECT_EQ(Money::micros(kMax).negated()->micros(), kMin + 1);
}

TEST(MoneyTest, ComparesAndClassifies) {
  EXPECT_LT(Money::micros(-1), Money::micros(0));
  EXPECT_EQ(Money::micros(3), Money::micros(3));
  EXPECT_TRUE(Money::micros(-1).is_negative());
  EXPECT_FALSE(Money::micros(0).is_negative());
  EXPECT_TRUE(Money().is_zero());
}

}  // namespace
}  // namespace xop
