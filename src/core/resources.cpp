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

Json to_json(const Resources& r) {
  return Json{{"cpu_millis", r.cpu_millis},
              {"memory_bytes", r.memory_bytes},
              {"disk_bytes", r.disk_bytes},
              {"net_bps", r.net_bps}};
}

Result<Resources> resources_from_json(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  Resources out;
  out.cpu_millis = r.opt_i64("cpu_millis", 0, kMax).value_or(0);
  out.memory_bytes = r.opt_i64("memory_bytes", 0, kMax).value_or(0);
  out.disk_bytes = r.opt_i64("disk_bytes", 0, kMax).value_or(0);
  out.net_bps = r.opt_i64("net_bps", 0, kMax).value_or(0);
  XOP_RETURN_IF_ERROR(r.finish());
  return out;
}

Json to_json(const Usage& u) {
  return Json{{"cpu_ns", u.cpu_ns},
              {"memory_byte_seconds", u.memory_byte_seconds},
              {"disk_bytes", u.disk_bytes},
              {"net_bytes", u.net_bytes}};
}

Result<Usage> usage_from_json(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  Usage out;
  out.cpu_ns = r.i64("cpu_ns", 0, kMax);
  out.memory_byte_seconds = r.i64("memory_byte_seconds", 0, kMax);
  out.disk_bytes = r.i64("disk_bytes", 0, kMax);
  out.net_bytes = r.i64("net_bytes", 0, kMax);
  XOP_RETURN_IF_ERROR(r.finish());
  return out;
}

}  // namespace xop
