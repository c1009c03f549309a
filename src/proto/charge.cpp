#include "proto/charge.h"

namespace xop {
namespace {
__extension__ using i128 = __int128;
constexpr i128 kHourMs = 3'600'000;
constexpr i128 kGiB = i128{1} << 30;

int64_t term(i128 a, i128 b, i128 c, i128 denom) { return static_cast<int64_t>((a * b * c) / denom); }
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
                    r.net_reserve_per_mbps_hour, r.cpu_use_per_core_hour, r.memory_use_per_gib_hour,
                    r.disk_io_per_gib, r.net_io_per_gib}) {
    if (v < 0 || v > kMaxRate) return invalid("rate out of range");
  }
  ChargeBreakdown b;
  b.cpu_reserve = term(reserved.cpu_millis, period_ms, r.cpu_reserve_per_core_hour, 1000 * kHourMs);
  b.memory_reserve = term(reserved.memory_bytes, period_ms, r.memory_reserve_per_gib_hour, kGiB * kHourMs);
  b.disk_reserve = term(reserved.disk_bytes, period_ms, r.disk_reserve_per_gib_hour, kGiB * kHourMs);
  b.net_reserve = term(reserved.net_bps, period_ms, r.net_reserve_per_mbps_hour, i128{1'000'000} * kHourMs);
  b.cpu_use = term(used.cpu_ns, r.cpu_use_per_core_hour, 1, i128{3'600'000'000'000});
  b.memory_use = term(used.memory_byte_seconds, r.memory_use_per_gib_hour, 1, kGiB * 3600);
  b.disk_io = term(used.disk_bytes, r.disk_io_per_gib, 1, kGiB);
  b.net_io = term(used.net_bytes, r.net_io_per_gib, 1, kGiB);
  i128 total = 0;
  for (int64_t t : {b.cpu_reserve, b.memory_reserve, b.disk_reserve, b.net_reserve, b.cpu_use, b.memory_use,
                    b.disk_io, b.net_io}) {
    total += t;
  }
  if (total > INT64_MAX) return invalid("charge exceeds the largest representable amount");
  b.total = Money::micros(static_cast<int64_t>(total));
  return b;
}

Result<Money> hourly_reservation_price(const Rates& rates, const Resources& reserved) {
  XOP_ASSIGN_OR_RETURN(auto b, compute_charge(rates, reserved, Usage{}, 3'600'000));
  return b.total;
}

Json to_json(const ChargeBreakdown& b) {
  return Json{{"cpu_reserve", b.cpu_reserve}, {"memory_reserve", b.memory_reserve},
              {"disk_reserve", b.disk_reserve}, {"net_reserve", b.net_reserve},
              {"cpu_use", b.cpu_use},         {"memory_use", b.memory_use},
              {"disk_io", b.disk_io},         {"net_io", b.net_io},
              {"total", b.total.micros()}};
}

}  // namespace xop
