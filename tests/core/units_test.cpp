#include "core/units.h"

#include <gtest/gtest.h>

#include <limits>

namespace xop {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(Units, SizesWithUnits) {
  EXPECT_EQ(*parse_size("0"), 0);
  EXPECT_EQ(*parse_size("4096"), 4096);
  EXPECT_EQ(*parse_size("512B"), 512);
  EXPECT_EQ(*parse_size("64MiB"), 64LL << 20);
  EXPECT_EQ(*parse_size("64 MiB"), 64LL << 20);
  EXPECT_EQ(*parse_size("1GiB"), 1LL << 30);
  EXPECT_EQ(*parse_size("1gib"), 1LL << 30);
  EXPECT_EQ(*parse_size("2TiB"), 2LL << 40);
  EXPECT_EQ(*parse_size("10MB"), 10'000'000);
  EXPECT_EQ(*parse_size("1kb"), 1000);
  EXPECT_EQ(*parse_size("1.5GiB"), 3LL << 29);
  EXPECT_EQ(*parse_size("0.5KiB"), 512);
  EXPECT_EQ(*parse_size("9223372036854775807"), kMax);
  EXPECT_EQ(*parse_size("8388607TiB"), 8388607LL << 40);
}

TEST(Units, HostileSizesAreErrors) {
  for (const char* bad : {"",
                          " ",
                          "-1",
                          "+1",
                          "-64MiB",
                          "1.5.3",
                          "1.5.3GiB",
                          "9999999999TiB",
                          "9223328065734775.209999039099TiB",  // found by fuzz_units: 128-bit overflow
                          "18446744073709551615.999999999999TiB",
                          "8388608TiB",
                          "9223372036854775808",
                          "99999999999999999999",
                          "18446744073709551616",
                          "64MiBx",
                          "64 ",
                          "64  MiB",
                          "MiB",
                          ".5GiB",
                          "1.GiB",
                          "1.5",
                          "0.3B",
                          "1e9",
                          "0x10",
                          "64Mi",
                          "64M",
                          "1,000",
                          "\x00"
                          "1",
                          "1\n",
                          "nan",
                          "inf",
                          "1.0000000000001GiB"}) {
    auto r = parse_size(bad);
    EXPECT_FALSE(r) << "\"" << bad << "\" parsed as " << (r ? *r : 0);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_FALSE(parse_size(std::string(100, '1')));
  EXPECT_FALSE(parse_size(std::string_view("1\0MiB", 5)));
}

TEST(Units, FormatSizeRoundTrips) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(100), "100B");
  EXPECT_EQ(format_size(64LL << 20), "64MiB");
  EXPECT_EQ(format_size(1LL << 30), "1GiB");
  EXPECT_EQ(format_size(1536 * 1024), "1536KiB");
  EXPECT_EQ(format_size(-2048), "-2KiB");
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{1023}, int64_t{1024}, int64_t{3} << 29, kMax, kMax - 1,
                    int64_t{1} << 62, int64_t{123456789}}) {
    EXPECT_EQ(*parse_size(format_size(n)), n) << n;
  }
  EXPECT_FALSE(format_size(std::numeric_limits<int64_t>::min()).empty());
  EXPECT_EQ(format_size_approx(3LL << 29), "1.5GiB");
  EXPECT_EQ(format_size_approx(64LL << 20), "64MiB");
  EXPECT_EQ(format_size_approx(512), "512B");
  EXPECT_EQ(format_size_approx(kMax), "8388608TiB");
  EXPECT_FALSE(format_size_approx(std::numeric_limits<int64_t>::min()).empty());
}

TEST(Units, Credits) {
  EXPECT_EQ(parse_credits("0.10")->micros(), 100'000);
  EXPECT_EQ(parse_credits("10")->micros(), 10'000'000);
  EXPECT_EQ(parse_credits("2.5")->micros(), 2'500'000);
  EXPECT_EQ(parse_credits("0.000001")->micros(), 1);
  EXPECT_EQ(parse_credits("0")->micros(), 0);
  EXPECT_EQ(parse_credits("9223372036854.775807")->micros(), kMax);
  for (const char* bad : {"",
                          "-1",
                          "+1",
                          "-0.10",
                          "1.5.3",
                          "0.0000001",
                          "9223372036854.775808",
                          "9999999999999999999",
                          "99999999999999999999",
                          ".5",
                          "5.",
                          "1e3",
                          "1,5",
                          "0.10 ",
                          " 0.10",
                          "10cr",
                          "abc",
                          "0x10",
                          "nan",
                          "\x01"}) {
    auto r = parse_credits(bad);
    EXPECT_FALSE(r) << "\"" << bad << "\" parsed as " << (r ? r->micros() : 0);
  }
  EXPECT_FALSE(parse_credits(std::string(1000, '9')));
}

TEST(Units, FormatCredits) {
  EXPECT_EQ(format_credits(Money::micros(100'000)), "0.10");
  EXPECT_EQ(format_credits(Money::micros(25'000'000)), "25.00");
  EXPECT_EQ(format_credits(Money::micros(1'234'567)), "1.234567");
  EXPECT_EQ(format_credits(Money::micros(1'230'000)), "1.23");
  EXPECT_EQ(format_credits(Money::micros(1'234'500)), "1.2345");
  EXPECT_EQ(format_credits(Money::micros(-500'000)), "-0.50");
  EXPECT_EQ(format_credits(Money::micros(0)), "0.00");
  EXPECT_FALSE(format_credits(Money::micros(std::numeric_limits<int64_t>::min())).empty());
  for (int64_t m : {int64_t{0}, int64_t{1}, int64_t{10}, int64_t{100'000}, int64_t{999'999}, kMax}) {
    EXPECT_EQ(parse_credits(format_credits(Money::micros(m)))->micros(), m) << m;
  }
}

}  // namespace
}  // namespace xop
