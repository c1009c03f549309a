// Fuzz target: server_config_from_toml(parse_toml(...)) on arbitrary bytes. A config that is
// accepted must hold the documented invariants; anything else must be an error value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/keys.h"
#include "server/server_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = xop::parse_toml(text, "fuzz.toml");
  if (!t) return 0;
  auto c = xop::server_config_from_toml(*t);
  if (!c) {
    if (c.error().message.empty()) std::abort();
    return 0;
  }
  if (c->data_dir.empty() || c->corp_url.empty() || c->key_file.empty()) std::abort();
  if (!xop::is_account_id(c->owner)) std::abort();
  if (c->runtime != "auto" && c->runtime != "runc" && c->runtime != "crun" && c->runtime != "mock") std::abort();
  if (c->capacity_pids < 1) std::abort();
  if (c->sample_interval_ms < 10 || c->sample_interval_ms > c->charging_interval_ms) std::abort();
  if (c->http_threads < 1 || c->http_threads > 256) std::abort();
  if (c->capacity.cpu_millis < 1 || c->capacity.any_negative()) std::abort();
  if (std::abs(c->location.lat_e6) > 90'000'000 || std::abs(c->location.lon_e6) > 180'000'000) std::abort();
  const auto& r = c->rates;
  for (int64_t v : {r.cpu_reserve_per_core_hour, r.memory_reserve_per_gib_hour, r.disk_reserve_per_gib_hour,
                    r.net_reserve_per_mbps_hour, r.cpu_use_per_core_hour, r.memory_use_per_gib_hour, r.disk_io_per_gib,
                    r.net_io_per_gib}) {
    if (v < 0 || v > xop::kMaxRate) std::abort();
  }
  return 0;
}
