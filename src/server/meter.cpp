#include "server/meter.h"

#include <algorithm>

namespace xop {
namespace {
int64_t delta(int64_t now, int64_t before) { return now > before ? now - before : 0; }
}  // namespace

void Meter::start(TimeMs t, const UsageSample& s) {
  started_ = true;
  last_t_ = t;
  last_ = s;
}

void Meter::add(TimeMs t, const UsageSample& s) {
  if (!started_) {
    start(t, s);
    return;
  }
  if (t < last_t_) return;
  const int64_t cpu = delta(s.cpu_ns, last_.cpu_ns);
  const int64_t disk = delta(s.disk_bytes, last_.disk_bytes);
  const int64_t net = delta(s.net_bytes, last_.net_bytes);
  const i128 mem = static_cast<i128>(std::max<int64_t>(0, last_.memory_bytes)) * (t - last_t_);
  pending_.cpu_ns += cpu;
  pending_.disk_bytes += disk;
  pending_.net_bytes += net;
  pending_mem_byte_ms_ += mem;
  total_.cpu_ns += cpu;
  total_.disk_bytes += disk;
  total_.net_bytes += net;
  total_mem_byte_ms_ += mem;
  total_.memory_byte_seconds = static_cast<int64_t>(total_mem_byte_ms_ / 1000);
  last_t_ = t;
  // Counters that went backwards restart from their new value.
  last_ = s;
}

Usage Meter::take() {
  Usage u = pending_;
  // Whole byte-seconds go into this interval; the sub-second remainder carries over.
  u.memory_byte_seconds = static_cast<int64_t>(pending_mem_byte_ms_ / 1000);
  pending_mem_byte_ms_ -= static_cast<i128>(u.memory_byte_seconds) * 1000;
  pending_ = Usage{};
  return u;
}

void Meter::untake(const Usage& u) {
  pending_.cpu_ns += u.cpu_ns;
  pending_.disk_bytes += u.disk_bytes;
  pending_.net_bytes += u.net_bytes;
  pending_mem_byte_ms_ += static_cast<i128>(u.memory_byte_seconds) * 1000;
}

}  // namespace xop
