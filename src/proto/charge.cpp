#include "proto/charge.h"

namespace xop {
namespace {
__extension__ using i128 = __int128;
constexpr i128 kHourMs = 3'600'000;
constexpr i128 kGiB = i128{1} << 30;

i128 term(i128 a, i128 b, i128 c, i128 denom) { return (a * b * c) / denom; }
}  // namespace

Result<ChargeBreakdown> compute_charge(const Rates& rates, const Resources& reserved, const Usage& used,
                                       int64_t period_ms) {
  if (period_ms < 0 || period_ms > kMaxPeriodMs) return invalid("charge period out of range");
  if (reserved.any_negative() || reserved.cpu_millis > kMaxCpuMillis || reserved.memory_bytes > kMaxMemoryBytes ||
      reserved.disk_bytes > kMaxDiskBytes || reserved.net_bps > kMaxNetBps) {
    return invalid("reserved resources out of range");
  }
  if (used.cpu_ns < 0 || used.memory_byte_seconds < 0 || used.disk_bytes < 0 || used.net_bytes < 0 ||
      used.cpu_ns > kMaxUsage || used.memory_byte_seconds > kMaxUsage || used.disk_bytes > kMaxUsage ||
      used.net_bytes > kMaxUsage) {
    return invalid("usage out of range");
  }
  const Rates& r = rates;
  for (int64_t v : {r.cpu_reserve_per_core_hour, r.memory_reserve_per_gib_hour, r.disk_reserve_per_gib_hour,
                    r.net_reserve_per_mbps_hour, r.cpu_use_per_core_hour, r.memory_use_per_gib_hour, r.disk_io_per_gib,
                    r.net_io_per_gib}) {
    if (v < 0 || v > kMaxRate) return invalid("rate out of range");
  }
  // Each term can exceed int64 on its own (e.g. a day of 10^6 cores at the maximum rate), so the
  // terms and their sum stay in 128 bits until the total is known to fit.
  const i128 terms[8] = {
      term(reserved.cpu_millis, period_ms, r.cpu_reserve_per_core_hour, 1000 * kHourMs),
      term(reserved.memory_bytes, period_ms, r.memory_reserve_per_gib_hour, kGiB * kHourMs),
      term(reserved.disk_bytes, period_ms, r.disk_reserve_per_gib_hour, kGiB * kHourMs),
      term(reserved.net_bps, period_ms, r.net_reserve_per_mbps_hour, i128{1'000'000} * kHourMs),
      term(used.cpu_ns, r.cpu_use_per_core_hour, 1, i128{3'600'000'000'000}),
      term(used.memory_byte_seconds, r.memory_use_per_gib_hour, 1, kGiB * 3600),
      term(used.disk_bytes, r.disk_io_per_gib, 1, kGiB),
      term(used.net_bytes, r.net_io_per_gib, 1, kGiB),
  };
  i128 total = 0;
  for (i128 t : terms) total += t;
  if (total > INT64_MAX) return invalid("charge exceeds the largest representable amount");
  // Every term is non-negative, so each one fits when the total does.
  ChargeBreakdown b;
  b.cpu_reserve = static_cast<int64_t>(terms[0]);
  b.memory_reserve = static_cast<int64_t>(terms[1]);
  b.disk_reserve = static_cast<int64_t>(terms[2]);
  b.net_reserve = static_cast<int64_t>(terms[3]);
  b.cpu_use = static_cast<int64_t>(terms[4]);
  b.memory_use = static_cast<int64_t>(terms[5]);
  b.disk_io = static_cast<int64_t>(terms[6]);
  b.net_io = static_cast<int64_t>(terms[7]);
  b.total = Money::micros(static_cast<int64_t>(total));
  return b;
}

Result<Money> hourly_reservation_price(const Rates& rates, const Resources& reserved) {
  XOP_ASSIGN_OR_RETURN(auto b, compute_charge(rates, reserved, Usage{}, 3'600'000));
  return b.total;
}

const Schema<ChargeBreakdown>& charge_breakdown_schema() {
  static const auto s = Schema<ChargeBreakdown>("charge")
                            .i64("cpu_reserve_micros", &ChargeBreakdown::cpu_reserve, 0)
                            .i64("memory_reserve_micros", &ChargeBreakdown::memory_reserve, 0)
                            .i64("disk_reserve_micros", &ChargeBreakdown::disk_reserve, 0)
                            .i64("net_reserve_micros", &ChargeBreakdown::net_reserve, 0)
                            .i64("cpu_use_micros", &ChargeBreakdown::cpu_use, 0)
                            .i64("memory_use_micros", &ChargeBreakdown::memory_use, 0)
                            .i64("disk_io_micros", &ChargeBreakdown::disk_io, 0)
                            .i64("net_io_micros", &ChargeBreakdown::net_io, 0)
                            .money("total_micros", &ChargeBreakdown::total, 0);
  return s;
}

Json to_json(const ChargeBreakdown& b) { return charge_breakdown_schema().encode(b); }

}  // namespace xop
