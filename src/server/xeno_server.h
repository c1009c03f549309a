// A XenoServer daemon: registers with XenoCorp, advertises to XIS, hosts sessions for strangers,
// meters them and sends signed usage records. Serves the API in docs/api/server.yaml.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "client/connector.h"
#include "core/clock.h"
#include "crypto/id_source.h"
#include "net/router.h"
#include "server/sandbox.h"
#include "server/server_config.h"
#include "storage/sqlite_db.h"

namespace xop {

// What a XenoServer is built over besides its config and clock. The defaults are production's;
// the simulated platform (src/sim) replaces all four so that a whole platform runs in one thread
// on a simulated clock with no socket.
struct ServerSeams {
  std::unique_ptr<Sandbox> sandbox;  // null: the driver config.runtime names
  Connector connector;               // how the corp and XIS are reached; empty: HTTP
  // Serves the API instead of an HTTP listener: start() hands it the API's router and the
  // directory spooled request bodies must go to (on the image store's file system), before its
  // first advert; config.advertise_url (required) is the endpoint others reach it at. Empty: HTTP.
  std::function<Status(std::shared_ptr<const Router> api, const std::string& spool_dir)> listen;
  // false: no ticker thread; the owner calls tick() to run the periodic work.
  bool run_ticker = true;
  // The session state store's (state.db) commits; the daemon always syncs them, the in-process
  // simulated platform does not (storage/sqlite_db.h).
  SqliteDurability storage = SqliteDurability::kSynced;
  // Where session ids come from (not owned; outlives the server). Null: random.
  IdSource* ids = nullptr;
};

class XenoServer {
 public:
  static Result<std::unique_ptr<XenoServer>> open(ServerConfig config, const Clock& clock, ServerSeams seams);
  // `sandbox` overrides the driver chosen by config.runtime (tests inject mocks).
  static Result<std::unique_ptr<XenoServer>> open(ServerConfig config, const Clock& clock,
                                                  std::unique_ptr<Sandbox> sandbox = nullptr);
  ~XenoServer();
  XenoServer(const XenoServer&) = delete;
  XenoServer& operator=(const XenoServer&) = delete;

  // Registers with the corp, recovers sessions, starts the HTTP API and the ticker (per the
  // seams), and runs the first round of periodic work.
  Status start();
  // Stops the ticker and the API. Sessions keep running (they are re-adopted on restart)
  // unless stop_sessions is true.
  void stop(bool stop_sessions = false);

  // The endpoint others reach this server at (the listener's URL, or advertise_url).
  [[nodiscard]] std::string url() const;
  [[nodiscard]] std::string server_id() const;
  [[nodiscard]] std::string public_key_base64() const;

  // One round of the periodic work at the clock's time: sample the sessions, write usage records
  // and send them, collect image garbage and advertise, each when its interval has passed since
  // it last ran (the ticker thread calls this every sample_interval_ms).
  void tick();
  // The same with every interval taken as passed (records and advert now), for tests.
  void tick_for_test();

 private:
  struct Impl;
  explicit XenoServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
