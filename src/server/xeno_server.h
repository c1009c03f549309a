// A XenoServer daemon: registers with XenoCorp, advertises to XIS, hosts sessions for strangers,
// meters them and sends signed usage records. Serves the API in docs/api/server.yaml.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "server/sandbox.h"
#include "server/server_config.h"

namespace xop {

class XenoServer {
 public:
  // `sandbox` overrides the driver chosen by config.runtime (tests inject mocks).
  static Result<std::unique_ptr<XenoServer>> open(ServerConfig config, const Clock& clock,
                                                  std::unique_ptr<Sandbox> sandbox = nullptr);
  ~XenoServer();
  XenoServer(const XenoServer&) = delete;
  XenoServer& operator=(const XenoServer&) = delete;

  // Starts the HTTP API, registers with the corp, recovers sessions, starts the ticker.
  Status start();
  // Stops the ticker and the API. Sessions keep running (they are re-adopted on restart)
  // unless stop_sessions is true.
  void stop(bool stop_sessions = false);

  [[nodiscard]] std::string url() const;
  [[nodiscard]] std::string server_id() const;
  [[nodiscard]] std::string public_key_base64() const;

  // One round of the periodic work (sample, records, flush, advert), for tests that drive time.
  void tick_for_test();

 private:
  struct Impl;
  explicit XenoServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
