// Rate limit for the log lines of a repeated failure (a corp that stays down must not log every
// round). Pure: the caller passes `now`; no clock, no logging here.
//
// Contract, for one failing condition:
//   - the first failure after a success (or ever) is reported;
//   - further failures are reported when at least the current interval has passed since the last
//     reported one; each report doubles the interval (initial, 2x, 4x ... capped at `max_ms`);
//   - the first success after any failure is reported once (a "reachable again" line) and resets
//     the interval; successes while healthy are not reported.
// Not thread-safe: callers serialise (the server calls it under its round lock).
#pragma once

#include <cstdint>

#include "core/time.h"

namespace xop {

class LogBackoff {
 public:
  // `initial_ms` > 0 and `max_ms` >= `initial_ms` (smaller values are raised to those bounds).
  explicit LogBackoff(int64_t initial_ms = 10'000, int64_t max_ms = 3'600'000);

  // Records a failure at `now`; true when this failure should be logged.
  [[nodiscard]] bool failure(TimeMs now);
  // Records a success; true once, for the first success after failures.
  [[nodiscard]] bool success();

  [[nodiscard]] bool failing() const { return failing_; }
  // Failures since the last reported one that were not reported (for "... N more" in a line).
  [[nodiscard]] int64_t suppressed() const { return suppressed_; }
  // Failures since the last success, reported or not.
  [[nodiscard]] int64_t failures() const { return failures_; }
  // The wait before the next failure is reported.
  [[nodiscard]] int64_t interval_ms() const { return interval_ms_; }

 private:
  int64_t initial_ms_;
  int64_t max_ms_;
  int64_t interval_ms_;
  bool failing_ = false;
  TimeMs last_report_ = 0;
  int64_t suppressed_ = 0;
  int64_t failures_ = 0;
};

}  // namespace xop
