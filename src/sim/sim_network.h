// The simulated platform's network: endpoints (URLs such as http://corp.sim:7400) served in this
// process by their routers, with no socket. connector() reaches them through the same request
// path as HTTP (net/router_transport.h: the gate, signatures, body limits, spooling); an endpoint
// that is not bound, or that was taken down, is unreachable (kUnavailable), as a dead host is.
// Thread-safe; connectors stay valid after the network is destroyed (they then reach nothing).
#pragma once

#include <memory>
#include <string>

#include "client/connector.h"
#include "core/result.h"
#include "net/router.h"

namespace xop {

class SimNetwork {
 public:
  SimNetwork();

  // Serves `url` (http://host:port) with `router`; spooled request bodies go to `spool_dir` (empty:
  // the system temp dir). Rebinding a URL replaces its router (a restarted daemon).
  Status bind(const std::string& url, std::shared_ptr<const Router> router, std::string spool_dir = "");
  void unbind(const std::string& url);
  // A bound endpoint that is down refuses every request as unreachable until it is up again.
  void set_reachable(const std::string& url, bool up);

  // Looks the endpoint up at each request, so a rebinding or an outage is seen at once.
  [[nodiscard]] Connector connector() const;
  // Requests served so far (unreachable ones not counted).
  [[nodiscard]] uint64_t requests() const;

  struct State;  // internal: shared with the connectors' transports

 private:
  std::shared_ptr<State> state_;
};

}  // namespace xop
