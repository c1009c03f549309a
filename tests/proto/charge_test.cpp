#include "proto/charge.h"

#include <gtest/gtest.h>

namespace xop {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;
constexpr int64_t kHour = 3'600'000;

Rates only(int64_t Rates::*field, int64_t value) {
  Rates r;
  r.*field = value;
  return r;
}

int64_t total(const Rates& r, const Resources& res, const Usage& u, int64_t period) {
  auto b = compute_charge(r, res, u, period);
  EXPECT_TRUE(b.has_value()) << (b ? "" : b.error().message);
  return b ? b->total.micros() : -1;
}

TEST(ChargeTest, EachTermOnAHandComputedExample) {
  // cpu reserve: 2.5 cores for half an hour at 1.2 credits per core-hour = 1.5 credits.
  auto b =
      *compute_charge(only(&Rates::cpu_reserve_per_core_hour, 1'200'000), Resources{2500, 0, 0, 0}, Usage{}, kHour / 2);
  EXPECT_EQ(b.cpu_reserve, 1'500'000);
  EXPECT_EQ(b.total.micros(), 1'500'000);
  // memory reserve: 2 GiB for an hour at 0.3 per GiB-hour = 0.6.
  b = *compute_charge(only(&Rates::memory_reserve_per_gib_hour, 300'000), Resources{0, 2 * kGiB, 0, 0}, Usage{}, kHour);
  EXPECT_EQ(b.memory_reserve, 600'000);
  EXPECT_EQ(b.total.micros(), 600'000);
  // disk reserve: 10 GiB for 6 minutes at 0.01 per GiB-hour = 0.01.
  b = *compute_charge(only(&Rates::disk_reserve_per_gib_hour, 10'000), Resources{0, 0, 10 * kGiB, 0}, Usage{},
                      kHour / 10);
  EXPECT_EQ(b.disk_reserve, 10'000);
  // net reserve: 100 Mbit/s for 36 s at 0.005 per Mbit/s-hour = 0.005.
  b = *compute_charge(only(&Rates::net_reserve_per_mbps_hour, 5'000), Resources{0, 0, 0, 100'000'000}, Usage{}, 36'000);
  EXPECT_EQ(b.net_reserve, 5'000);
  // cpu use: 2 core-hours of CPU time at 0.8 = 1.6.
  b = *compute_charge(only(&Rates::cpu_use_per_core_hour, 800'000), Resources{}, Usage{7'200'000'000'000, 0, 0, 0},
                      1000);
  EXPECT_EQ(b.cpu_use, 1'600'000);
  // memory use: 3 GiB-hours at 0.1 = 0.3.
  b = *compute_charge(only(&Rates::memory_use_per_gib_hour, 100'000), Resources{}, Usage{0, 3 * kGiB * 3600, 0, 0},
                      1000);
  EXPECT_EQ(b.memory_use, 300'000);
  // disk io: 5 GiB at 0.02 = 0.1.
  b = *compute_charge(only(&Rates::disk_io_per_gib, 20'000), Resources{}, Usage{0, 0, 5 * kGiB, 0}, 1000);
  EXPECT_EQ(b.disk_io, 100'000);
  // net io: 0.5 GiB at 0.09 = 0.045.
  b = *compute_charge(only(&Rates::net_io_per_gib, 90'000), Resources{}, Usage{0, 0, 0, kGiB / 2}, 1000);
  EXPECT_EQ(b.net_io, 45'000);
}

TEST(ChargeTest, AllTermsTogetherSumExactly) {
  const Rates r{1'200'000, 300'000, 10'000, 5'000, 800'000, 100'000, 20'000, 90'000};
  const Resources res{2500, 2 * kGiB, 10 * kGiB, 100'000'000};
  const Usage u{7'200'000'000'000, 3 * kGiB * 3600, 5 * kGiB, kGiB / 2};
  auto b = compute_charge(r, res, u, kHour);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->cpu_reserve, 3'000'000);
  EXPECT_EQ(b->memory_reserve, 600'000);
  EXPECT_EQ(b->disk_reserve, 100'000);
  EXPECT_EQ(b->net_reserve, 500'000);
  EXPECT_EQ(b->cpu_use, 1'600'000);
  EXPECT_EQ(b->memory_use, 300'000);
  EXPECT_EQ(b->disk_io, 100'000);
  EXPECT_EQ(b->net_io, 45'000);
  EXPECT_EQ(b->total.micros(), 6'245'000);
  const Json j = to_json(*b);
  EXPECT_EQ(j["total_micros"], 6'245'000);
  EXPECT_EQ(j["net_io_micros"], 45'000);
}

TEST(ChargeTest, EachTermRoundsDown) {
  // 1 milli-core for 1 ms at 1 credit/core-hour = 1/3600000 micro-credits -> 0.
  EXPECT_EQ(total(only(&Rates::cpu_reserve_per_core_hour, 1'000'000), Resources{1, 0, 0, 0}, Usage{}, 1), 0);
  // 1 core for 3599 ms at 1 credit/core-hour = 999.72 -> 999.
  EXPECT_EQ(total(only(&Rates::cpu_reserve_per_core_hour, 1'000'000), Resources{1000, 0, 0, 0}, Usage{}, 3599), 999);
  EXPECT_EQ(total(only(&Rates::memory_reserve_per_gib_hour, 1'000'000), Resources{0, kGiB - 1, 0, 0}, Usage{}, kHour),
            999'999);
  EXPECT_EQ(total(only(&Rates::disk_reserve_per_gib_hour, 7), Resources{0, 0, kGiB, 0}, Usage{}, kHour - 1), 6);
  EXPECT_EQ(total(only(&Rates::net_reserve_per_mbps_hour, 3), Resources{0, 0, 0, 999'999}, Usage{}, kHour), 2);
  EXPECT_EQ(total(only(&Rates::cpu_use_per_core_hour, 1), Resources{}, Usage{3'599'999'999'999, 0, 0, 0}, 0), 0);
  EXPECT_EQ(total(only(&Rates::cpu_use_per_core_hour, 1), Resources{}, Usage{3'600'000'000'000, 0, 0, 0}, 0), 1);
  EXPECT_EQ(total(only(&Rates::memory_use_per_gib_hour, 10), Resources{}, Usage{0, kGiB * 3600 - 1, 0, 0}, 0), 9);
  EXPECT_EQ(total(only(&Rates::disk_io_per_gib, 1000), Resources{}, Usage{0, 0, kGiB - 1, 0}, 0), 999);
  EXPECT_EQ(total(only(&Rates::net_io_per_gib, 1000), Resources{}, Usage{0, 0, 0, kGiB - 1}, 0), 999);
}

TEST(ChargeTest, TermsRoundSeparatelyNotTheSum) {
  // Two terms of 0.5 micro-credits each: each rounds to 0, so the total is 0, not 1.
  Rates r;
  r.disk_io_per_gib = 1;
  r.net_io_per_gib = 1;
  EXPECT_EQ(total(r, Resources{}, Usage{0, 0, kGiB / 2, kGiB / 2}, 0), 0);
}

TEST(ChargeTest, ZeroPeriodChargesOnlyUsage) {
  const Rates r{1'000'000, 1'000'000, 1'000'000, 1'000'000, 0, 0, 1'000, 0};
  auto b = compute_charge(r, Resources{1000, kGiB, kGiB, 1'000'000}, Usage{0, 0, kGiB, 0}, 0);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->cpu_reserve + b->memory_reserve + b->disk_reserve + b->net_reserve, 0);
  EXPECT_EQ(b->total.micros(), 1'000);
}

TEST(ChargeTest, ZeroRatesChargeNothing) {
  EXPECT_EQ(total(Rates{}, Resources{kMaxCpuMillis, kMaxMemoryBytes, kMaxDiskBytes, kMaxNetBps},
                  Usage{kMaxUsage, kMaxUsage, kMaxUsage, kMaxUsage}, kMaxPeriodMs),
            0);
}

TEST(ChargeTest, RefusesOutOfBoundsInputs) {
  const Rates ok_rates{1, 1, 1, 1, 1, 1, 1, 1};
  auto refused = [&](const Rates& r, const Resources& res, const Usage& u, int64_t p) {
    auto b = compute_charge(r, res, u, p);
    return !b.has_value() && b.error().code == ErrorCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused(ok_rates, {}, {}, -1));
  EXPECT_TRUE(refused(ok_rates, {}, {}, kMaxPeriodMs + 1));
  EXPECT_FALSE(refused(ok_rates, {}, {}, kMaxPeriodMs));
  EXPECT_TRUE(refused(ok_rates, {-1, 0, 0, 0}, {}, 1));
  EXPECT_TRUE(refused(ok_rates, {0, -1, 0, 0}, {}, 1));
  EXPECT_TRUE(refused(ok_rates, {0, 0, -1, 0}, {}, 1));
  EXPECT_TRUE(refused(ok_rates, {0, 0, 0, -1}, {}, 1));
  EXPECT_TRUE(refused(ok_rates, {kMaxCpuMillis + 1, 0, 0, 0}, {}, 1));
  EXPECT_TRUE(refused(ok_rates, {0, kMaxMemoryBytes + 1, 0, 0}, {}, 1));
  EXPECT_TRUE(refused(ok_rates, {0, 0, kMaxDiskBytes + 1, 0}, {}, 1));
  EXPECT_TRUE(refused(ok_rates, {0, 0, 0, kMaxNetBps + 1}, {}, 1));
  EXPECT_TRUE(refused(ok_rates, {}, {-1, 0, 0, 0}, 1));
  EXPECT_TRUE(refused(ok_rates, {}, {0, -1, 0, 0}, 1));
  EXPECT_TRUE(refused(ok_rates, {}, {0, 0, -1, 0}, 1));
  EXPECT_TRUE(refused(ok_rates, {}, {0, 0, 0, -1}, 1));
  EXPECT_TRUE(refused(ok_rates, {}, {kMaxUsage + 1, 0, 0, 0}, 1));
  EXPECT_TRUE(refused(ok_rates, {}, {0, kMaxUsage + 1, 0, 0}, 1));
  EXPECT_TRUE(refused(ok_rates, {}, {0, 0, kMaxUsage + 1, 0}, 1));
  EXPECT_TRUE(refused(ok_rates, {}, {0, 0, 0, kMaxUsage + 1}, 1));
  for (int64_t Rates::*f :
       {&Rates::cpu_reserve_per_core_hour, &Rates::memory_reserve_per_gib_hour, &Rates::disk_reserve_per_gib_hour,
        &Rates::net_reserve_per_mbps_hour, &Rates::cpu_use_per_core_hour, &Rates::memory_use_per_gib_hour,
        &Rates::disk_io_per_gib, &Rates::net_io_per_gib}) {
    EXPECT_TRUE(refused(only(f, -1), {}, {}, 1));
    EXPECT_TRUE(refused(only(f, kMaxRate + 1), {}, {}, 1));
    EXPECT_FALSE(refused(only(f, kMaxRate), {}, {}, 1));
  }
}

TEST(ChargeTest, ASingleTermBeyondInt64IsRefusedNotWrapped) {
  // 10^6 cores for a day at the maximum rate: 2.4e19 micro-credits, more than INT64_MAX.
  auto b = compute_charge(only(&Rates::cpu_reserve_per_core_hour, kMaxRate), Resources{kMaxCpuMillis, 0, 0, 0}, Usage{},
                          kMaxPeriodMs);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
  auto d = compute_charge(only(&Rates::disk_io_per_gib, kMaxRate), Resources{}, Usage{0, 0, kMaxUsage, 0}, 0);
  EXPECT_FALSE(d.has_value());
  auto m = compute_charge(only(&Rates::memory_reserve_per_gib_hour, kMaxRate), Resources{0, kMaxMemoryBytes, 0, 0},
                          Usage{}, kMaxPeriodMs);
  EXPECT_FALSE(m.has_value());
}

TEST(ChargeTest, ASumBeyondInt64IsRefused) {
  // Three terms that each fit (4.19e18, 4.19e18, 1.28e18) but whose sum does not.
  Rates r;
  r.disk_io_per_gib = kMaxRate;
  r.net_io_per_gib = kMaxRate;
  const Usage two{0, 0, int64_t{1} << 52, int64_t{1} << 52};
  auto fits = compute_charge(r, Resources{}, two, 0);
  ASSERT_TRUE(fits.has_value());
  EXPECT_EQ(fits->disk_io, (int64_t{1} << 22) * kMaxRate);
  EXPECT_EQ(fits->total.micros(), 2 * (int64_t{1} << 22) * kMaxRate);
  r.cpu_use_per_core_hour = kMaxRate;
  auto over = compute_charge(r, Resources{}, Usage{kMaxUsage, 0, int64_t{1} << 52, int64_t{1} << 52}, 0);
  ASSERT_FALSE(over.has_value());
  EXPECT_NE(over.error().message.find("largest representable"), std::string::npos);
}

TEST(ChargeTest, IsDeterministic) {
  const Rates r{123'457, 98'765, 4'321, 777, 555'555, 31'337, 2'718, 3'141};
  const Resources res{1234, 987'654'321, 55'555'555'555, 123'456'789};
  const Usage u{98'765'432'109'876, 1'234'567'890'123, 44'444'444'444, 9'999'999'999};
  const auto first = total(r, res, u, 61'234);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(total(r, res, u, 61'234), first);
}

TEST(ChargeTest, HourlyReservationPrice) {
  const Rates r{1'000'000, 500'000, 10'000, 2'000, 999, 999, 999, 999};
  auto p = hourly_reservation_price(r, Resources{1500, 4 * kGiB, 20 * kGiB, 50'000'000});
  ASSERT_TRUE(p.has_value());
  // 1.5 cores * 1.0 + 4 GiB * 0.5 + 20 GiB * 0.01 + 50 Mbps * 0.002 (usage rates ignored).
  EXPECT_EQ(p->micros(), 1'500'000 + 2'000'000 + 200'000 + 100'000);
  EXPECT_FALSE(hourly_reservation_price(r, Resources{-1, 0, 0, 0}).has_value());
}

}  // namespace
}  // namespace xop
