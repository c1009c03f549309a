#include "server/server_config.h"

#include <cmath>

#include "crypto/keys.h"

namespace xop {
namespace {
constexpr int64_t kBig = INT64_MAX / 4;

Status read_rates(const toml::table& t, Rates* r) {
  TomlReader tr(t, "prices");
  auto get = [&](const char* k, int64_t* v) { *v = tr.opt_i64(k, 0, kMaxRate).value_or(*v); };
  get("cpu_reserve_per_core_hour", &r->cpu_reserve_per_core_hour);
  get("memory_reserve_per_gib_hour", &r->memory_reserve_per_gib_hour);
  get("disk_reserve_per_gib_hour", &r->disk_reserve_per_gib_hour);
  get("net_reserve_per_mbps_hour", &r->net_reserve_per_mbps_hour);
  get("cpu_use_per_core_hour", &r->cpu_use_per_core_hour);
  get("memory_use_per_gib_hour", &r->memory_use_per_gib_hour);
  get("disk_io_per_gib", &r->disk_io_per_gib);
  get("net_io_per_gib", &r->net_io_per_gib);
  return tr.finish();
}

Status read_capacity(const toml::table& t, Resources* c) {
  TomlReader tr(t, "capacity");
  c->cpu_millis = tr.opt_i64("cpu_millis", 1, 1'000'000'000).value_or(c->cpu_millis);
  c->memory_bytes = tr.opt_i64("memory_bytes", 1 << 20, kBig).value_or(c->memory_bytes);
  c->disk_bytes = tr.opt_i64("disk_bytes", 0, kBig).value_or(c->disk_bytes);
  c->net_bps = tr.opt_i64("net_bps", 0, kBig).value_or(c->net_bps);
  return tr.finish();
}
Status read_images(const toml::table& t, ServerConfig* c) {
  TomlReader tr(t, "images");
  auto& o = c->images;
  o.quota_bytes_per_user = tr.opt_i64("quota_bytes_per_user", 0, kBig).value_or(o.quota_bytes_per_user);
  o.quota_blobs_per_user = tr.opt_i64("quota_blobs_per_user", 0, 1'000'000'000).value_or(o.quota_blobs_per_user);
  o.max_store_bytes = tr.opt_i64("max_store_bytes", 0, kBig).value_or(o.max_store_bytes);
  o.gc_idle_ms = tr.opt_i64("gc_idle_ms", 1000, kBig).value_or(o.gc_idle_ms);
  c->image_gc_interval_ms = tr.opt_i64("gc_interval_ms", 1000, 86'400'000).value_or(c->image_gc_interval_ms);
  return tr.finish();
}
}  // namespace

Result<ServerConfig> server_config_from_toml(const toml::table& t) {
  ServerConfig c;
  TomlReader r(t, "server");
  c.name = r.opt_str("name").value_or(c.name);
  if (auto listen = r.opt_str("listen")) {
    const auto colon = listen->rfind(':');
    if (colon == std::string::npos || colon == 0) return invalid("server.listen: expected host:port");
    c.listen_host = listen->substr(0, colon);
    const std::string port = listen->substr(colon + 1);
    // Digits only (no sign, spaces or trailing junk), at most 5 of them.
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
      return invalid("server.listen: port is not a number");
    }
    const int p = std::stoi(port);
    if (p > 65535) return invalid("server.listen: port out of range");
    c.listen_port = static_cast<uint16_t>(p);
  }
  c.advertise_url = r.opt_str("advertise_url").value_or("");
  c.data_dir = r.opt_str("data_dir").value_or("");
  c.key_file = r.opt_str("key_file").value_or("");
  c.corp_url = r.opt_str("corp_url").value_or("");
  c.corp_public_key = r.opt_str("corp_public_key").value_or("");
  c.xis_url = r.opt_str("xis_url").value_or("");
  c.owner = r.opt_str("owner").value_or("");
  c.city = r.opt_str("city").value_or("");
  const double lat = r.opt_double("latitude", -90, 90).value_or(0);
  const double lon = r.opt_double("longitude", -180, 180).value_or(0);
  c.location = GeoPoint{std::llround(lat * 1e6), std::llround(lon * 1e6)};
  c.runtime = r.opt_str("runtime").value_or(c.runtime);
  c.max_pids_per_session = r.opt_i64("max_pids_per_session", 1, 1 << 22).value_or(c.max_pids_per_session);
  c.sample_interval_ms = r.opt_i64("sample_interval_ms", 10, 60'000).value_or(c.sample_interval_ms);
  c.charging_interval_ms = r.opt_i64("charging_interval_ms", 100, 3'600'000).value_or(c.charging_interval_ms);
  c.advert_interval_ms = r.opt_i64("advert_interval_ms", 100, 3'600'000).value_or(c.advert_interval_ms);
  c.advert_ttl_ms = r.opt_i64("advert_ttl_ms", 100, 3'600'000).value_or(c.advert_ttl_ms);
  c.stop_grace_ms = r.opt_i64("stop_grace_ms", 0, 600'000).value_or(c.stop_grace_ms);
  c.session_disk_default_bytes =
      r.opt_i64("session_disk_default_bytes", 8LL << 20, 1LL << 40).value_or(c.session_disk_default_bytes);
  c.session_log_max_bytes = r.opt_i64("session_log_max_bytes", 8192, 1LL << 30).value_or(c.session_log_max_bytes);
  c.session_log_rate_bytes_per_s =
      r.opt_i64("session_log_rate_bytes_per_s", 4096, 1LL << 30).value_or(c.session_log_rate_bytes_per_s);
  c.session_log_retention_ms =
      r.opt_i64("session_log_retention_ms", 0, 30LL * 86'400'000).value_or(c.session_log_retention_ms);
  c.http_threads = static_cast<int>(r.opt_i64("http_threads", 1, 256).value_or(c.http_threads));
  c.max_connections = r.opt_i64("max_connections", 1, 1'000'000).value_or(c.max_connections);
  c.max_connections_per_peer = r.opt_i64("max_connections_per_peer", 1, 1'000'000).value_or(c.max_connections_per_peer);
  c.max_upload_spool_bytes =
      r.opt_i64("max_upload_spool_bytes", 1 << 20, int64_t{1} << 50).value_or(c.max_upload_spool_bytes);
  c.max_upload_spool_bytes_per_user = r.opt_i64("max_upload_spool_bytes_per_user", 1 << 20, int64_t{1} << 50)
                                          .value_or(c.max_upload_spool_bytes_per_user);
  if (const auto* cap = r.opt_table("capacity")) r.absorb(read_capacity(*cap, &c.capacity));
  if (const auto* prices = r.opt_table("prices")) r.absorb(read_rates(*prices, &c.rates));
  if (const auto* images = r.opt_table("images")) r.absorb(read_images(*images, &c));
  XOP_RETURN_IF_ERROR(r.finish());
  if (c.data_dir.empty()) return invalid("server.data_dir: required");
  if (c.corp_url.empty()) return invalid("server.corp_url: required");
  if (!is_account_id(c.owner)) return invalid("server.owner: required, the account id of the owning user");
  if (c.runtime != "runc" && c.runtime != "crun" && c.runtime != "mock") {
    return invalid("server.runtime: must be runc, crun or mock");
  }
  if (c.sample_interval_ms > c.charging_interval_ms) {
    return invalid("server.sample_interval_ms: must not exceed charging_interval_ms");
  }
  if (c.key_file.empty()) c.key_file = c.data_dir + "/server.key";
  return c;
}

Result<ServerConfig> load_server_config(const std::string& path) {
  XOP_ASSIGN_OR_RETURN(auto t, load_toml_file(path));
  return server_config_from_toml(t);
}

}  // namespace xop
