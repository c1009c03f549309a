#include "proto/usage_bounds.h"

#include <algorithm>
#include <limits>

#include "core/int128.h"

namespace xop {
namespace {
int64_t saturate(i128 v) {
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  return v < 0 ? 0 : static_cast<int64_t>(v);
}
}  // namespace

int64_t max_claimable_cpu_ns(int64_t cpu_millis, int64_t period_ms) {
  const int64_t millis = std::max<int64_t>(cpu_millis, kCfsMinQuotaUs / kCfsPeriodMs);
  return saturate(static_cast<i128>(millis) * (static_cast<i128>(period_ms) + kCfsToleranceMs) * 1000);
}

int64_t max_claimable_memory_byte_seconds(int64_t memory_bytes, int64_t period_ms) {
  const i128 mem = static_cast<i128>(memory_bytes) + memory_bytes / 16;
  return saturate(mem * (static_cast<i128>(period_ms) + kCfsToleranceMs) / 1000);
}

}  // namespace xop
