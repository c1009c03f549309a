#include "core/resources.h"

namespace xop {
namespace {
constexpr int64_t kMax = INT64_MAX / 4;  // generous, but leaves room for sums

bool add(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }
bool sub(int64_t a, int64_t b, int64_t* out) { return !__builtin_sub_overflow(a, b, out); }
}  // namespace

bool Resources::covers(const Resources& o) const {
  return cpu_millis >= o.cpu_millis && memory_bytes >= o.memory_bytes && disk_bytes >= o.disk_bytes &&
         net_bps >= o.net_bps;
}

std::optional<Resources> Resources::plus(const Resources& o) const {
  Resources r;
  if (!add(cpu_millis, o.cpu_millis, &r.cpu_millis) || !add(memory_bytes, o.memory_bytes, &r.memory_bytes) ||
      !add(disk_bytes, o.disk_bytes, &r.disk_bytes) || !add(net_bps, o.net_bps, &r.net_bps)) {
    return std::nullopt;
  }
  return r;
}

std::optional<Resources> Resources::minus(const Resources& o) const {
  Resources r;
  if (!sub(cpu_millis, o.cpu_millis, &r.cpu_millis) || !sub(memory_bytes, o.memory_bytes, &r.memory_bytes) ||
      !sub(disk_bytes, o.disk_bytes, &r.disk_bytes) || !sub(net_bps, o.net_bps, &r.net_bps)) {
    return std::nullopt;
  }
  return r;
}

bool Resources::any_negative() const { return cpu_millis < 0 || memory_bytes < 0 || disk_bytes < 0 || net_bps < 0; }

std::optional<Usage> Usage::plus(const Usage& o) const {
  Usage r;
  if (!add(cpu_ns, o.cpu_ns, &r.cpu_ns) || !add(memory_byte_seconds, o.memory_byte_seconds, &r.memory_byte_seconds) ||
      !add(disk_bytes, o.disk_bytes, &r.disk_bytes) || !add(net_bytes, o.net_bytes, &r.net_bytes)) {
    return std::nullopt;
  }
  return r;
}

const Schema<Resources>& resources_schema() {
  static const auto s = Schema<Resources>("resources")
                            .i64_or("cpu_millis", &Resources::cpu_millis, 0, 0, kMax)
                            .i64_or("memory_bytes", &Resources::memory_bytes, 0, 0, kMax)
                            .i64_or("disk_bytes", &Resources::disk_bytes, 0, 0, kMax)
                            .i64_or("net_bps", &Resources::net_bps, 0, 0, kMax);
  return s;
}

const Schema<Usage>& usage_schema() {
  static const auto s = Schema<Usage>("usage")
                            .i64("cpu_ns", &Usage::cpu_ns, 0, kMax)
                            .i64("memory_byte_seconds", &Usage::memory_byte_seconds, 0, kMax)
                            .i64("disk_bytes", &Usage::disk_bytes, 0, kMax)
                            .i64("net_bytes", &Usage::net_bytes, 0, kMax);
  return s;
}

Json to_json(const Resources& r) { return resources_schema().encode(r); }
Result<Resources> resources_from_json(const Json& j, const std::string& where) {
  return resources_schema().decode(j, where);
}
Json to_json(const Usage& u) { return usage_schema().encode(u); }
Result<Usage> usage_from_json(const Json& j, const std::string& where) { return usage_schema().decode(j, where); }

}  // namespace xop
