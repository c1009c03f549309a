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

// What goes wrong on the way to one endpoint, each request drawn from the endpoint's seeded
// generator (so one seed and one order of requests repeat the same faults). Probabilities in [0, 1].
struct LinkFaults {
  double drop_request = 0;  // never delivered: the client sees kUnavailable
  double drop_answer = 0;   // delivered and handled, the answer lost: the client sees kUnavailable
  double duplicate = 0;     // delivered twice at once: the client sees the second answer
  double deliver_late = 0;  // delivered now, and a copy held back for deliver_late(): delayed, reordered
};

struct FaultCounts {
  uint64_t dropped_requests = 0;
  uint64_t dropped_answers = 0;
  uint64_t duplicated = 0;
  uint64_t delayed = 0;
};

class SimNetwork {
 public:
  SimNetwork();

  // Serves `url` (http://host:port) with `router`; spooled request bodies go to `spool_dir` (empty:
  // the system temp dir). Rebinding a URL replaces its router (a restarted daemon).
  Status bind(const std::string& url, std::shared_ptr<const Router> router, std::string spool_dir = "");
  void unbind(const std::string& url);
  // A bound endpoint that is down refuses every request as unreachable until it is up again.
  void set_reachable(const std::string& url, bool up);
  // Faults on every later request to `url` (a bound endpoint; rebinding keeps them), drawn from a
  // generator seeded with `seed`. LinkFaults{} ends them (held-back copies stay held).
  Status set_faults(const std::string& url, LinkFaults faults, uint64_t seed);
  // Delivers the copies held back for `url` in a seeded order, their answers discarded (the
  // client gave up on them long ago). Returns how many were delivered.
  size_t deliver_late(const std::string& url);
  [[nodiscard]] FaultCounts fault_counts() const;

  // Looks the endpoint up at each request, so a rebinding or an outage is seen at once.
  [[nodiscard]] Connector connector() const;
  // Requests served so far (unreachable ones not counted).
  [[nodiscard]] uint64_t requests() const;

  struct State;  // internal: shared with the connectors' transports

 private:
  std::shared_ptr<State> state_;
};

}  // namespace xop
