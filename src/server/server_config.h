// Configuration of a XenoServer daemon: one option table (core/config_table.h) read from a TOML
// file and from flags, defaults -> file -> flags (an explicit flag wins over the file). Unknown
// keys are errors. The keys are listed in docs/operating.md ("Server configuration").
#pragma once

#include <string>

#include "core/config_table.h"
#include "core/resources.h"
#include "core/toml_reader.h"
#include "proto/advert.h"
#include "proto/price_sheet.h"
#include "server/image_store.h"

namespace xop {

struct ServerConfig {
  std::string name = "xenoserver";
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 7402;  // the documented default; 0: any free port (tests, xop dev)
  std::string advertise_url;    // how others reach us; default: the bound listen address
  std::string data_dir;         // state database, images, session directories
  std::string key_file;         // default: <data_dir>/server.key (created if missing)
  std::string corp_url;
  std::string corp_public_key;  // base64; pinned corp key. Empty: fetched from the corp at start
  std::string xis_url;          // empty: do not advertise
  std::string owner;            // account id of the owning user (earnings go there)
  // The owner's signed consent to be named by this server (`xop server consent`), sent when the
  // server first registers; default: <data_dir>/owner-consent.json.
  std::string owner_consent_file;
  std::string city;
  std::string country;  // ISO 3166-1 alpha-2 code named in the advert; empty: none
  GeoPoint location;
  std::string runtime = "auto";  // "auto" (crun where the host allows it, else runc), "runc", "crun", "mock" (tests)
  // The sessions' seccomp allow list (server/seccomp_profile.h); empty: the built-in
  // data/seccomp/default.json. A profile that does not parse stops the server at start.
  std::string seccomp_profile;
  Resources capacity{2000, 2LL << 30, 10LL << 30, 100'000'000};
  int64_t max_pids_per_session = 1024;
  int64_t capacity_pids = 32768;  // the sum of every live session's `pids` stays within this
  Rates rates{
      .cpu_reserve_per_core_hour = 100'000,   // 0.10 / core-hour held
      .memory_reserve_per_gib_hour = 50'000,  // 0.05 / GiB-hour held
      .disk_reserve_per_gib_hour = 1'000,
      .net_reserve_per_mbps_hour = 1'000,
      .cpu_use_per_core_hour = 400'000,  // 0.40 / core-hour used
      .memory_use_per_gib_hour = 20'000,
      .disk_io_per_gib = 10'000,
      .net_io_per_gib = 50'000,
  };
  int64_t sample_interval_ms = 1000;
  int64_t charging_interval_ms = 10'000;
  int64_t advert_interval_ms = 5000;
  int64_t advert_ttl_ms = 15'000;
  int64_t stop_grace_ms = 5000;
  // Credit control: a session whose purchase order ran dry is frozen (no CPU, memory kept) this
  // long for its user to extend the PO, then stopped ("funds-exhausted"). 0: stopped at once.
  int64_t freeze_grace_ms = 300'000;
  // Session disks and output (runc/crun: see "Session disks and logs" in docs/operating.md).
  int64_t session_disk_default_bytes = 32LL << 20;   // the writable layer of a session reserving no disk
  int64_t session_log_max_bytes = 8LL << 20;         // a session's output on disk, both files together
  int64_t session_log_rate_bytes_per_s = 1LL << 20;  // output read no faster; the writer blocks
  int64_t session_log_retention_ms = 3'600'000;      // logs of an ended session are deleted after this
  int http_threads = 4;
  // HTTP limits (net/http_server.h); defaults are HttpServerOptions'.
  int64_t max_connections = 512;
  int64_t max_connections_per_peer = 64;
  int64_t max_upload_spool_bytes = int64_t{4} << 30;
  int64_t max_upload_spool_bytes_per_user = int64_t{1} << 30;
  ImageStoreOptions images;                             // [images]: quotas, store cap, GC idle time
  int64_t image_gc_interval_ms = int64_t{10} * 60'000;  // [images] gc_interval_ms
  // [network]: the session network (server/session_network.h). Used with runc/crun when the host
  // can (root, ip, iptables); otherwise, and with the mock runtime, sessions get loopback only.
  bool network_enabled = true;
  std::string network_bridge = "xop0";
  std::string network_pool = "10.88.0.0/16";
  std::string network_port_range = "20000-29999";
  // Outbound destinations the sessions may not reach: comma-separated IPv4 CIDRs (REJECT in the
  // XOP forward chain), on top of the host, other sessions and 169.254.0.0/16, always denied.
  std::string network_deny;
  // [coord]: the network coordinate (server/coord_prober.h, server/probe_responder.h). The server
  // answers coordinate probes over UDP and, when it advertises to XIS, probes peers from XIS.
  bool coord_enabled = true;
  std::string coord_probe_listen;     // host:port (UDP); empty: the HTTP listener's host and port number
  std::string coord_probe_advertise;  // the probe address others use, in the advert; empty: the endpoint's
  int64_t coord_interval_ms = 10'000;
  int64_t coord_peers_per_round = 4;
  int64_t coord_probe_timeout_ms = 2000;
  int64_t coord_answers_per_second = 200;
  int64_t coord_answers_per_second_per_source = 10;
  // The daemon's own (`xop server`), not XenoServer's.
  std::string port_file;       // the bound URL is written here once listening
  bool stop_sessions = false;  // stop all sessions on shutdown (default: leave them, re-adopted on restart)
};

// What the option table fills; server_config_from_toml turns it into a checked ServerConfig.
struct ServerConfigInput {
  ServerConfig config;
  std::string listen = "127.0.0.1:7402";  // -> listen_host, listen_port
  double latitude = 0;                    // -> location
  double longitude = 0;
};

// The table over `in` (defaults are its current values). `in` must outlive the table.
ConfigTable server_config_table(ServerConfigInput* in);

// Where the server reads its owner's consent: owner_consent_file, else <data_dir>/owner-consent.json.
std::string owner_consent_path(const ServerConfig& c);

// Defaults, then `t`, then `flags`; checks required keys and derives key_file from data_dir.
Result<ServerConfig> server_config_from_toml(const toml::table& t, const ConfigFlags& flags = {});
// As above from a file (`path` empty: no file, defaults then flags).
Result<ServerConfig> load_server_config(const std::string& path, const ConfigFlags& flags = {});

}  // namespace xop
