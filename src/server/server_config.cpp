#include "server/server_config.h"

#include <cmath>

#include "crypto/keys.h"
#include "server/address_pool.h"

namespace xop {
namespace {
constexpr int64_t kBig = INT64_MAX / 4;
constexpr ConfigType kInt = ConfigType::kInteger;
constexpr ConfigType kBytes = ConfigType::kBytes;
constexpr ConfigType kMs = ConfigType::kDuration;
constexpr ConfigType kCredits = ConfigType::kCredits;

void add_rates(ConfigTable& t, Rates* r) {
  auto rate = [&](const char* k, int64_t* v, const char* help) {
    t.add_int(std::string("prices.") + k, kCredits, v, 0, kMaxRate, help);
  };
  rate("cpu_reserve_per_core_hour", &r->cpu_reserve_per_core_hour, "Price per core-hour reserved");
  rate("memory_reserve_per_gib_hour", &r->memory_reserve_per_gib_hour, "Price per GiB-hour of memory reserved");
  rate("disk_reserve_per_gib_hour", &r->disk_reserve_per_gib_hour, "Price per GiB-hour of disk reserved");
  rate("net_reserve_per_mbps_hour", &r->net_reserve_per_mbps_hour, "Price per Mbit/s-hour of bandwidth reserved");
  rate("cpu_use_per_core_hour", &r->cpu_use_per_core_hour, "Price per core-hour of CPU used");
  rate("memory_use_per_gib_hour", &r->memory_use_per_gib_hour, "Price per GiB-hour of memory used");
  rate("disk_io_per_gib", &r->disk_io_per_gib, "Price per GiB of disk I/O");
  rate("net_io_per_gib", &r->net_io_per_gib, "Price per GiB of network I/O");
}
}  // namespace

ConfigTable server_config_table(ServerConfigInput* in) {
  ServerConfig& c = in->config;
  ConfigTable t("server");
  t.add_string("name", &c.name, "This server's name");
  t.add_string("listen", &in->listen, "host:port to listen on (port 0: any free port)");
  t.add_string("advertise_url", &c.advertise_url, "How others reach this server (default: the bound address)");
  t.add_string("data_dir", &c.data_dir, "State database, images and session directories (required)");
  t.add_string("key_file", &c.key_file, "The server's key, created if missing (default: <data_dir>/server.key)");
  t.add_string("corp_url", &c.corp_url, "XenoCorp's URL (required)");
  t.add_string("corp_public_key", &c.corp_public_key, "Base64 corp key to pin (default: fetched from the corp)");
  t.add_string("xis_url", &c.xis_url, "XIS to advertise to (empty: do not advertise)");
  t.add_string("owner", &c.owner, "Account id of the owning user; earnings go there (required)");
  t.add_string("owner_consent_file", &c.owner_consent_file,
               "The owner's signed consent from `xop server consent` (default: <data_dir>/owner-consent.json)");
  t.add_string("city", &c.city, "City named in the advert");
  t.add_string("country", &c.country, "ISO 3166-1 alpha-2 country code named in the advert, e.g. FR (default: none)");
  t.add_number("latitude", &in->latitude, -90, 90, "Latitude in degrees, for distance ranking");
  t.add_number("longitude", &in->longitude, -180, 180, "Longitude in degrees");
  t.add_string("runtime", &c.runtime,
               "Sandbox runtime: auto (crun where this host allows it, else runc), runc, crun, or mock (tests only)");
  t.add_string("seccomp_profile", &c.seccomp_profile,
               "Seccomp allow list for sessions, OCI JSON (default: the built-in data/seccomp/default.json)");
  t.add_int("max_pids_per_session", kInt, &c.max_pids_per_session, 1, 1 << 22, "Most processes in one session");
  t.add_int("sample_interval_ms", kMs, &c.sample_interval_ms, 10, 60'000, "How often usage is sampled");
  t.add_int("charging_interval_ms", kMs, &c.charging_interval_ms, 100, 3'600'000,
            "How often usage is charged to the corp");
  t.add_int("advert_interval_ms", kMs, &c.advert_interval_ms, 100, 3'600'000, "How often the advert is refreshed");
  t.add_int("advert_ttl_ms", kMs, &c.advert_ttl_ms, 100, 3'600'000, "How long XIS keeps the advert");
  t.add_int("stop_grace_ms", kMs, &c.stop_grace_ms, 0, 600'000, "How long a stopping session gets before SIGKILL");
  t.add_int("freeze_grace_ms", kMs, &c.freeze_grace_ms, 0, 86'400'000,
            "How long a session whose purchase order ran dry stays frozen before it is stopped (0: at once)");
  t.add_int("session_disk_default_bytes", kBytes, &c.session_disk_default_bytes, 8LL << 20, 1LL << 40,
            "Writable layer of a session reserving no disk");
  t.add_int("session_log_max_bytes", kBytes, &c.session_log_max_bytes, 8192, 1LL << 30,
            "A session's output kept on disk, both files together");
  t.add_int("session_log_rate_bytes_per_s", kBytes, &c.session_log_rate_bytes_per_s, 4096, 1LL << 30,
            "Session output is read no faster than this per second");
  t.add_int("session_log_retention_ms", kMs, &c.session_log_retention_ms, 0, 30LL * 86'400'000,
            "Logs of an ended session are deleted after this");
  t.add_int("http_threads", kInt, &c.http_threads, 1, 256, "HTTP worker threads");
  t.add_int("max_connections", kInt, &c.max_connections, 1, 1'000'000, "Most open HTTP connections");
  t.add_int("max_connections_per_peer", kInt, &c.max_connections_per_peer, 1, 1'000'000,
            "Most open HTTP connections from one address");
  t.add_int("max_upload_spool_bytes", kBytes, &c.max_upload_spool_bytes, 1 << 20, int64_t{1} << 50,
            "Disk for uploads in flight, all users");
  t.add_int("max_upload_spool_bytes_per_user", kBytes, &c.max_upload_spool_bytes_per_user, 1 << 20, int64_t{1} << 50,
            "Disk for uploads in flight, one user");
  t.add_string("port_file", &c.port_file, "Write the bound URL to this file once listening");
  t.add_bool("stop_sessions", &c.stop_sessions,
             "Stop all sessions on shutdown (default: leave them running; they are re-adopted on restart)");
  t.add_int("capacity.cpu_millis", kInt, &c.capacity.cpu_millis, 1, 1'000'000'000, "CPU offered, in millicores");
  t.add_int("capacity.memory_bytes", kBytes, &c.capacity.memory_bytes, 1 << 20, kBig, "Memory offered");
  t.add_int("capacity.disk_bytes", kBytes, &c.capacity.disk_bytes, 0, kBig, "Disk offered");
  t.add_int("capacity.net_bps", kInt, &c.capacity.net_bps, 0, kBig, "Bandwidth offered, bits per second");
  t.add_int("capacity.pids", kInt, &c.capacity_pids, 1, 1 << 22, "Processes offered: the sum of all sessions' pids");
  t.add_bool("network.enabled", &c.network_enabled,
             "Give sessions a network (bridge, NAT, published ports) when the host can; false: loopback only");
  t.add_string("network.bridge", &c.network_bridge, "The sessions' bridge, created at start-up when missing");
  t.add_string("network.pool", &c.network_pool, "The sessions' addresses (IPv4 CIDR; the first is the bridge's)");
  t.add_string("network.port_range", &c.network_port_range, "Host ports published session ports are mapped to");
  t.add_string("network.deny", &c.network_deny,
               "Destinations sessions may not reach: comma-separated IPv4 CIDRs (e.g. 10.0.0.0/8,192.168.0.0/16)");
  t.add_bool("coord.enabled", &c.coord_enabled,
             "Answer coordinate probes (UDP) and, when advertising, probe peers to compute a network coordinate");
  t.add_string("coord.probe_listen", &c.coord_probe_listen,
               "UDP host:port the probe responder binds (default: the HTTP listener's host and port number)");
  t.add_string("coord.probe_advertise", &c.coord_probe_advertise,
               "Probe address put in the advert, IPv4:port (default: none; peers use the endpoint's host and port)");
  t.add_int("coord.interval_ms", kMs, &c.coord_interval_ms, 50, 3'600'000,
            "Pause between probe rounds (a round lasts at most coord.probe_timeout_ms)");
  t.add_int("coord.peers_per_round", kInt, &c.coord_peers_per_round, 1, 32,
            "Peers probed each round (half the closest by coordinate, half at random)");
  t.add_int("coord.probe_timeout_ms", kMs, &c.coord_probe_timeout_ms, 10, 60'000, "How long a round waits for answers");
  t.add_int("coord.answers_per_second", kInt, &c.coord_answers_per_second, 1, 1'000'000,
            "Probe answers per second, all sources together");
  t.add_int("coord.answers_per_second_per_source", kInt, &c.coord_answers_per_second_per_source, 1, 1'000'000,
            "Probe answers per second to one source address");
  add_rates(t, &c.rates);
  auto& im = c.images;
  t.add_int("images.quota_bytes_per_user", kBytes, &im.quota_bytes_per_user, 0, kBig,
            "Image blobs one account may own");
  t.add_int("images.quota_blobs_per_user", kInt, &im.quota_blobs_per_user, 0, 1'000'000'000,
            "Number of image blobs one account may own");
  t.add_int("images.max_store_bytes", kBytes, &im.max_store_bytes, 0, kBig, "Blobs and unpacked layers, all accounts");
  t.add_int("images.gc_idle_ms", kMs, &im.gc_idle_ms, 1000, kBig, "Images unused this long are collected");
  t.add_int("images.gc_interval_ms", kMs, &c.image_gc_interval_ms, 1000, 86'400'000,
            "How often the image store is collected");
  return t;
}

Result<ServerConfig> server_config_from_toml(const toml::table& t, const ConfigFlags& flags) {
  ServerConfigInput in;
  in.listen = in.config.listen_host + ":" + std::to_string(in.config.listen_port);
  ConfigTable table = server_config_table(&in);
  XOP_RETURN_IF_ERROR(table.apply_toml(t));
  XOP_RETURN_IF_ERROR(table.apply_flags(flags));
  ServerConfig c = std::move(in.config);
  auto listen = parse_listen_address(in.listen);
  if (!listen) return invalid("server.listen: " + listen.error().message);
  c.listen_host = listen->first;
  c.listen_port = listen->second;
  c.location = GeoPoint{std::llround(in.latitude * 1e6), std::llround(in.longitude * 1e6)};
  if (c.data_dir.empty()) return invalid("server.data_dir: required");
  if (c.corp_url.empty()) return invalid("server.corp_url: required");
  if (!is_account_id(c.owner)) return invalid("server.owner: required, the account id of the owning user");
  if (c.runtime != "auto" && c.runtime != "runc" && c.runtime != "crun" && c.runtime != "mock") {
    return invalid("server.runtime: must be auto, runc, crun or mock");
  }
  if (c.sample_interval_ms > c.charging_interval_ms) {
    return invalid("server.sample_interval_ms: must not exceed charging_interval_ms");
  }
  if (auto p = parse_ipv4_cidr(c.network_pool); !p) return invalid("server.network.pool: " + p.error().message);
  if (!c.country.empty() && !is_country_code(c.country)) {
    return invalid("server.country: not an ISO 3166-1 alpha-2 code (two upper-case letters, e.g. FR)");
  }
  if (auto p = parse_port_range(c.network_port_range); !p) {
    return invalid("server.network.port_range: " + p.error().message);
  }
  if (auto d = parse_cidr_list(c.network_deny); !d) return invalid("server.network.deny: " + d.error().message);
  if (c.network_bridge.empty() || c.network_bridge.size() > 15) {
    return invalid("server.network.bridge: 1 to 15 characters");
  }
  for (char ch : c.network_bridge) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_')) {
      return invalid("server.network.bridge: only letters, digits, '-' and '_'");
    }
  }
  if (!c.coord_probe_listen.empty()) {
    auto p = parse_listen_address(c.coord_probe_listen);
    if (!p) return invalid("server.coord.probe_listen: " + p.error().message);
  }
  if (!c.coord_probe_advertise.empty()) {
    auto p = parse_listen_address(c.coord_probe_advertise);
    if (!p || p->second == 0) return invalid("server.coord.probe_advertise: expected host:port with a port 1..65535");
  }
  if (c.key_file.empty()) c.key_file = c.data_dir + "/server.key";
  c.owner_consent_file = owner_consent_path(c);
  return c;
}

std::string owner_consent_path(const ServerConfig& c) {
  return c.owner_consent_file.empty() ? c.data_dir + "/owner-consent.json" : c.owner_consent_file;
}

Result<ServerConfig> load_server_config(const std::string& path, const ConfigFlags& flags) {
  toml::table t;
  if (!path.empty()) {
    XOP_ASSIGN_OR_RETURN(t, load_toml_file(path));
  }
  return server_config_from_toml(t, flags);
}

}  // namespace xop
