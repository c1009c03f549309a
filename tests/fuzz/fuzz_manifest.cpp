// Fuzz target: parse_manifest (YAML deployment manifests) on arbitrary bytes. A manifest that
// parses must satisfy every documented bound; anything else must be an error value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "deploy/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = xop::parse_manifest(text, "/base");
  if (!m) {
    if (m.error().code != xop::ErrorCode::kInvalidArgument || m.error().message.empty()) std::abort();
    return 0;
  }
  if (m->image.empty() || m->count < 1 || m->count > 1000) std::abort();
  if (m->resources.cpu_millis < 1 || m->resources.memory_bytes < (4 << 20)) std::abort();
  if (m->resources.disk_bytes < 0 || m->resources.net_bps < 0) std::abort();
  if (m->pids < 1 || m->pids > xop::kMaxPids) std::abort();
  if (m->budget.micros() <= 0) std::abort();
  if (m->max_price_per_hour && m->max_price_per_hour->micros() <= 0) std::abort();
  if (m->near && (std::abs(m->near->lat_e6) > 90'000'000 || std::abs(m->near->lon_e6) > 180'000'000)) std::abort();
  if (m->command.size() > 256 || m->env.size() > 256) std::abort();
  return 0;
}
