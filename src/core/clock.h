// Time comes through this seam so that tests can run on simulated time (TimeMs: core/time.h).
#pragma once

#include <atomic>
#include <cstdint>

#include "core/time.h"

namespace xop {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, milliseconds since the epoch.
  [[nodiscard]] virtual TimeMs now_ms() const = 0;
  // A monotonic reading in nanoseconds, for measuring intervals.
  [[nodiscard]] virtual int64_t monotonic_ns() const = 0;
};

// The real clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimeMs now_ms() const override;
  [[nodiscard]] int64_t monotonic_ns() const override;
  static SystemClock& instance();
};

// A clock that moves only when told to. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(TimeMs start_ms = 1'700'000'000'000) : now_(start_ms) {}
  [[nodiscard]] TimeMs now_ms() const override { return now_.load(); }
  [[nodiscard]] int64_t monotonic_ns() const override { return now_.load() * 1'000'000; }
  void advance_ms(int64_t d) { now_.fetch_add(d); }
  void set_ms(TimeMs t) { now_.store(t); }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace xop
