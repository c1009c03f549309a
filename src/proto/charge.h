// The charge computation: a pure, deterministic function of a price sheet's rates, what was
// reserved, what was used, and for how long. The server and XenoCorp run exactly this code,
// so the corp can recompute every amount a server claims.
//
//   charge = Σ_resources floor(reserved × reservation_rate × duration / quantum)
//          + Σ_resources floor(used × usage_rate / quantum)
//
// All intermediate products are computed in 128-bit integers; inputs are bounded so that they
// cannot overflow, and the total must fit in int64 micro-credits. Each term is rounded down, so
// a user is never charged more than the exact price.
#pragma once

#include "core/money.h"
#include "core/resources.h"
#include "proto/price_sheet.h"

namespace xop {

// Limits on charge inputs (anything larger is refused as invalid, not wrapped).
inline constexpr int64_t kMaxPeriodMs = 24LL * 3600 * 1000;  // one record covers at most a day
inline constexpr int64_t kMaxCpuMillis = 1'000'000'000;      // 10^6 cores
inline constexpr int64_t kMaxMemoryBytes = 1LL << 50;        // 1 PiB
inline constexpr int64_t kMaxDiskBytes = 1LL << 56;          // 64 PiB
inline constexpr int64_t kMaxNetBps = 10'000'000'000'000;    // 10 Pbit/s
inline constexpr int64_t kMaxUsage = 1LL << 62;

struct ChargeBreakdown {
  int64_t cpu_reserve = 0;
  int64_t memory_reserve = 0;
  int64_t disk_reserve = 0;
  int64_t net_reserve = 0;
  int64_t cpu_use = 0;
  int64_t memory_use = 0;
  int64_t disk_io = 0;
  int64_t net_io = 0;
  Money total;
};

Result<ChargeBreakdown> compute_charge(const Rates& rates, const Resources& reserved, const Usage& used,
                                       int64_t period_ms);

// Price of holding `reserved` for one hour (no usage): what search price ceilings compare.
Result<Money> hourly_reservation_price(const Rates& rates, const Resources& reserved);

// The wire form, declared once (core/schema.h).
const Schema<ChargeBreakdown>& charge_breakdown_schema();
Json to_json(const ChargeBreakdown& b);

}  // namespace xop
