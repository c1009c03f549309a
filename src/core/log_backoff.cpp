#include "core/log_backoff.h"

#include <algorithm>

namespace xop {

LogBackoff::LogBackoff(int64_t initial_ms, int64_t max_ms)
    : initial_ms_(std::max<int64_t>(initial_ms, 1)),
      max_ms_(std::max(max_ms, initial_ms_)),
      interval_ms_(initial_ms_) {}

bool LogBackoff::failure(TimeMs now) {
  ++failures_;
  if (!failing_) {
    failing_ = true;
    last_report_ = now;
    suppressed_ = 0;
    interval_ms_ = initial_ms_;
    return true;
  }
  if (now - last_report_ < interval_ms_) {
    ++suppressed_;
    return false;
  }
  last_report_ = now;
  suppressed_ = 0;
  interval_ms_ = interval_ms_ > max_ms_ / 2 ? max_ms_ : interval_ms_ * 2;
  return true;
}

bool LogBackoff::success() {
  if (!failing_) return false;
  failing_ = false;
  failures_ = 0;
  suppressed_ = 0;
  interval_ms_ = initial_ms_;
  return true;
}

}  // namespace xop
