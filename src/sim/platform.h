// A whole platform in one process: XenoCorp, XIS and N XenoServers placed at named cities, wired
// through the same code paths as in production (signed requests, routers, the domain objects,
// SQLite stores on disk). Two wirings:
//  - HTTP (`xop dev`, the deploy benchmark): each daemon a separate HTTP service on loopback
//    (port 0), servers with their own ticker threads on the system clock and the real sandbox
//    driver (runc, crun or mock).
//  - In-process (the simulated platform, tests): no socket and no thread of its own; every
//    endpoint is served by its router through a SimNetwork, everything runs on a SimulatedClock
//    that only advance() moves, and sessions run in SimSandbox (workloads described by their
//    environment, sim/sim_sandbox.h) over root file systems copied, not mounted, so no root is
//    needed. Its SQLite stores (corp, session state) commit without fsync (unless
//    PlatformOptions::sim_durability says otherwise): the scenario exercises the daemons' logic
//    and SQL, not their disks; the daemons and the HTTP wiring always sync. With a `seed`, keys
//    and ids (purchase orders, sessions, ledger transactions: crypto/id_source.h) come from it,
//    so account ids, placement, amounts and ids repeat run after run; request nonces stay random
//    (the corp's replay table keeps them; no answer shows them).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "client/connector.h"
#include "core/clock.h"
#include "crypto/keys.h"
#include "proto/advert.h"
#include "storage/sqlite_db.h"

namespace xop {

class CorpService;
class SimNetwork;

struct DevCity {
  std::string name;
  double lat;
  double lon;
};

// London, New York, São Paulo, Johannesburg, Tokyo, then more.
const std::vector<DevCity>& dev_cities();

struct PlatformOptions {
  std::string data_dir;  // everything lives under here
  int servers = 5;
  // In-process wiring on *sim_clock (required then); null: HTTP on the system clock.
  SimulatedClock* sim_clock = nullptr;
  std::string runtime = "runc";  // HTTP wiring: runc, crun or mock (in-process: always SimSandbox)
  uint64_t seed = 0;             // 0: fresh random keys
  int64_t sample_interval_ms = 500;
  int64_t charging_interval_ms = 2000;
  int64_t advert_interval_ms = 1000;
  int64_t stop_grace_ms = 2000;
  int64_t freeze_grace_ms = 300'000;  // servers' credit control (server_config.h)
  // HTTP wiring: how often servers probe each other for their network coordinate (coord.interval_ms).
  int64_t coord_interval_ms = 10'000;
  // In-process wiring: how its SQLite stores commit. kUnsynced (the default) skips fsync; fault
  // tests that fail an fsync (FaultVfs::arm_sync_failure) need kSynced. HTTP wiring always syncs.
  SqliteDurability sim_durability = SqliteDurability::kUnsynced;
  // HTTP wiring with runc/crun: give server N (1-based) a session network of its own, bridge
  // xopd<N>, pool 10.89.<N>.0/24, host ports 31000+100(N-1) to 31099+100(N-1) (10 servers at most:
  // 31000-31999; the caller checks session_network_unavailable_reason() first). Off: loopback only.
  bool session_network = false;
};

struct PlatformServer {
  std::string name;
  std::string city;
  std::string url;
  std::string id;
  GeoPoint location;
};

class Platform {
 public:
  static Result<std::unique_ptr<Platform>> start(const PlatformOptions& opts);
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  [[nodiscard]] std::string corp_url() const;
  [[nodiscard]] std::string xis_url() const;
  [[nodiscard]] const KeyPair& admin_key() const;
  // The account that owns every server (registered as "dev-owner"): their earnings go there.
  [[nodiscard]] const KeyPair& owner_key() const;
  [[nodiscard]] const std::vector<PlatformServer>& servers() const;
  // How clients reach the daemons: HTTP, or the in-process network.
  [[nodiscard]] Connector connector() const;
  [[nodiscard]] CorpService& corp();

  // In-process wiring only (null otherwise): the network, to take endpoints down.
  [[nodiscard]] SimNetwork* network();
  // In-process wiring only: server `index`'s host is down (true) or back up: it runs no periodic
  // work and its endpoint is unreachable; its sessions' state is kept, as a paused host's would be.
  void set_down(size_t index, bool down);
  // In-process wiring only: server `index` stops (its sessions keep running, as containers outlive
  // a real server process) and a new incarnation opens from the same data directory, key and
  // endpoint, re-adopting its sessions and resending its unacknowledged usage records. The new
  // incarnation registers with the corp: if it cannot start, the server stays down (set_down) and
  // restart_server may be called again.
  Status restart_server(size_t index);
  // In-process wiring only: the corp closes its database and a new one opens over it, with the
  // same key and endpoint (what it committed is all that survives). On failure it stays away
  // (requests to it are unreachable) and restart_corp may be called again.
  Status restart_corp();
  // A key from the platform's seed (fresh random ones without a seed), for users of a scenario.
  KeyPair new_key();
  // In-process wiring only: moves the simulated clock `ms` forward in steps of at most the sample
  // interval, running every server's periodic work (in a fixed order) and the corp's release of
  // unclaimed holds after each step. Stopping a workload that ignores SIGTERM spends its grace on
  // the same clock.
  void advance(int64_t ms);

  // Stops servers (and their sessions), XIS and the corp.
  void stop();

 private:
  struct Impl;
  Platform();
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
