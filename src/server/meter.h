// The metering core: turns a sequence of kernel counter samples into usage over intervals.
// Deterministic: it is given every sample with its time and never reads a clock.
//   cpu_ns, disk_bytes, net_bytes: differences of cumulative counters (a counter that goes
//     backwards, e.g. after a reset, contributes nothing rather than a negative amount);
//   memory_byte_seconds: the integral of the memory level, each sample's level held until the
//     next sample (left Riemann sum), accumulated in byte-milliseconds without loss.
#pragma once

#include "core/int128.h"
#include "core/resources.h"
#include "core/time.h"
#include "server/sandbox.h"

namespace xop {

class Meter {
 public:
  // Starts metering at `t` with an initial sample (usually all zeros at container start).
  void start(TimeMs t, const UsageSample& s);
  // Adds a sample taken at `t` (t must not go backwards; earlier samples are ignored).
  void add(TimeMs t, const UsageSample& s);
  // Usage accumulated since the last take(), and resets the accumulator. The interval it
  // covers ends at the last sample's time.
  Usage take();
  // Puts usage returned by take() back (when it could not be recorded), so that nothing metered
  // is lost; it goes into the next take().
  void untake(const Usage& u);
  [[nodiscard]] TimeMs last_time() const { return last_t_; }
  [[nodiscard]] const UsageSample& last_sample() const { return last_; }
  // Everything metered since start() (for display).
  [[nodiscard]] const Usage& total() const { return total_; }

 private:
  bool started_ = false;
  TimeMs last_t_ = 0;
  UsageSample last_;
  Usage pending_;
  i128 pending_mem_byte_ms_ = 0;
  i128 total_mem_byte_ms_ = 0;
  Usage total_;
};

}  // namespace xop
