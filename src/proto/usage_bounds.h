// The most a usage record may claim for what was reserved: the corp refuses a record above these
// bounds (corp/settlement.h, check_usage_claim), and a server never writes one (it claims at most
// the bound; see SessionManager). One definition for both sides, so that they cannot disagree.
//
//   cpu_ns              <= max(cpu_millis, kCfsMinQuotaUs / kCfsPeriodMs) * (period_ms + kCfsToleranceMs) * 1000
//   memory_byte_seconds <= (memory_bytes + memory_bytes / 16) * (period_ms + kCfsToleranceMs) / 1000
//
// A CFS quota can be used unevenly across period boundaries (two periods of slack), and the kernel
// charges memory per page (1/16 of slack). Pure.
#pragma once

#include <cstdint>

namespace xop {

inline constexpr int64_t kCfsPeriodMs = 100;
inline constexpr int64_t kCfsMinQuotaUs = 1'000;
inline constexpr int64_t kCfsToleranceMs = 2 * kCfsPeriodMs;

// The bounds above for a period of `period_ms` (>= 0); saturate at INT64_MAX.
int64_t max_claimable_cpu_ns(int64_t cpu_millis, int64_t period_ms);
int64_t max_claimable_memory_byte_seconds(int64_t memory_bytes, int64_t period_ms);

}  // namespace xop
