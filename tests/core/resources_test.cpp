#include "core/resources.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace xop {
namespace {

TEST(ResourcesTest, CoversIsComponentWise) {
  const Resources big{2000, 1 << 30, 10, 100};
  EXPECT_TRUE(big.covers(big));
  EXPECT_TRUE(big.covers(Resources{}));
  EXPECT_FALSE(big.covers(Resources{2001, 0, 0, 0}));
  EXPECT_FALSE(big.covers(Resources{0, 0, 0, 101}));
  EXPECT_FALSE(Resources{}.covers(big));
}

TEST(ResourcesTest, CheckedPlusAndMinus) {
  const Resources a{1, 2, 3, 4};
  EXPECT_EQ(*a.plus(a), (Resources{2, 4, 6, 8}));
  EXPECT_EQ(*a.minus(a), Resources{});
  EXPECT_TRUE(Resources{}.minus(a)->any_negative());
  EXPECT_FALSE(a.any_negative());
  EXPECT_FALSE((Resources{0, INT64_MAX, 0, 0}).plus(Resources{0, 1, 0, 0}).has_value());
  EXPECT_FALSE((Resources{0, 0, 0, INT64_MIN}).minus(Resources{0, 0, 0, 1}).has_value());
  EXPECT_FALSE((Usage{INT64_MAX, 0, 0, 0}).plus(Usage{1, 0, 0, 0}).has_value());
  EXPECT_EQ(*(Usage{1, 2, 3, 4}).plus(Usage{1, 1, 1, 1}), (Usage{2, 3, 4, 5}));
}

TEST(ResourcesTest, JsonRoundTrip) {
  const Resources r{1500, 256 << 20, 1 << 30, 1'000'000};
  auto back = resources_from_json(to_json(r), "r");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, r);
  const Usage u{5, 6, 7, 8};
  auto ub = usage_from_json(to_json(u), "u");
  ASSERT_TRUE(ub.has_value());
  EXPECT_EQ(*ub, u);
}

TEST(ResourcesTest, ResourceFieldsAreOptionalUsageFieldsAreNot) {
  EXPECT_EQ(*resources_from_json(Json::object(), "r"), Resources{});
  auto u = usage_from_json(Json::object(), "u");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().message, "u.cpu_ns: missing");
}

TEST(ResourcesTest, RefusesNegativeHugeAndUnknown) {
  EXPECT_FALSE(resources_from_json(Json{{"cpu_millis", -1}}, "r").has_value());
  EXPECT_FALSE(resources_from_json(Json{{"memory_bytes", INT64_MAX}}, "r").has_value());
  EXPECT_FALSE(resources_from_json(Json{{"gpu", 1}}, "r").has_value());
  EXPECT_FALSE(resources_from_json(Json{{"cpu_millis", "1"}}, "r").has_value());
  EXPECT_FALSE(resources_from_json(Json::array(), "r").has_value());
  Json u = to_json(Usage{});
  u["net_bytes"] = -5;
  EXPECT_FALSE(usage_from_json(u, "u").has_value());
  u["net_bytes"] = 1.5;
  EXPECT_FALSE(usage_from_json(u, "u").has_value());
}

TEST(ClockTest, SimulatedClockMovesOnlyWhenTold) {
  SimulatedClock c(1000);
  EXPECT_EQ(c.now_ms(), 1000);
  EXPECT_EQ(c.monotonic_ns(), 1000LL * 1'000'000);
  c.advance_ms(5);
  EXPECT_EQ(c.now_ms(), 1005);
  c.set_ms(7);
  EXPECT_EQ(c.now_ms(), 7);
}

TEST(ClockTest, SystemClockIsPlausibleAndMonotonic) {
  const auto& c = SystemClock::instance();
  EXPECT_GT(c.now_ms(), 1'600'000'000'000);  // after 2020
  const auto a = c.monotonic_ns();
  const auto b = c.monotonic_ns();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace xop
