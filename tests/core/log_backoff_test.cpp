#include "core/log_backoff.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/clock.h"

namespace xop {
namespace {

// The times (ms after the start) at which failures every `step` ms are reported, up to `until`.
std::vector<int64_t> reported(LogBackoff& b, SimulatedClock& clock, int64_t step, int64_t until) {
  const TimeMs start = clock.now_ms();
  std::vector<int64_t> out;
  for (int64_t t = 0; t <= until; t += step) {
    clock.set_ms(start + t);
    if (b.failure(clock.now_ms())) out.push_back(t);
  }
  return out;
}

TEST(LogBackoffTest, FirstFailureThenDoublingIntervals) {
  SimulatedClock clock;
  LogBackoff b(1000, 60'000);
  EXPECT_EQ(reported(b, clock, 100, 16'000), (std::vector<int64_t>{0, 1000, 3000, 7000, 15000}));
  EXPECT_TRUE(b.failing());
  EXPECT_EQ(b.interval_ms(), 16'000);
}

TEST(LogBackoffTest, IntervalIsCappedAtMax) {
  SimulatedClock clock;
  LogBackoff b(1000, 4000);
  EXPECT_EQ(reported(b, clock, 500, 20'000), (std::vector<int64_t>{0, 1000, 3000, 7000, 11000, 15000, 19000}));
  EXPECT_EQ(b.interval_ms(), 4000);
}

TEST(LogBackoffTest, CountsSuppressedFailures) {
  SimulatedClock clock;
  LogBackoff b(1000, 60'000);
  EXPECT_TRUE(b.failure(clock.now_ms()));
  for (int i = 0; i < 4; ++i) {
    clock.advance_ms(100);
    EXPECT_FALSE(b.failure(clock.now_ms()));
  }
  EXPECT_EQ(b.suppressed(), 4);
  EXPECT_EQ(b.failures(), 5);
  clock.advance_ms(600);
  EXPECT_TRUE(b.failure(clock.now_ms()));
  EXPECT_EQ(b.suppressed(), 0);
}

TEST(LogBackoffTest, RecoveryIsReportedOnceAndResets) {
  SimulatedClock clock;
  LogBackoff b(1000, 60'000);
  EXPECT_FALSE(b.success()) << "healthy successes are not reported";
  (void)reported(b, clock, 100, 10'000);
  EXPECT_TRUE(b.success());
  EXPECT_FALSE(b.success());
  EXPECT_FALSE(b.failing());
  EXPECT_EQ(b.failures(), 0);
  // A new outage starts over: reported at once, then after the initial interval.
  EXPECT_EQ(reported(b, clock, 100, 1000), (std::vector<int64_t>{0, 1000}));
}

TEST(LogBackoffTest, BoundsAreRaisedToSaneValues) {
  LogBackoff b(0, -5);
  EXPECT_EQ(b.interval_ms(), 1);
  EXPECT_TRUE(b.failure(0));
  EXPECT_FALSE(b.failure(0));
  EXPECT_TRUE(b.failure(1));
}

}  // namespace
}  // namespace xop
