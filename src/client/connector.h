// How a client reaches a service named by its endpoint: the seam that lets code written against
// URLs (the deployer, daemons talking to each other) run over HTTP in production and in-process
// (RouterTransport) in the simulated platform of issue 13.3.
#pragma once

#include <functional>
#include <memory>

#include "core/endpoint.h"
#include "net/transport.h"

namespace xop {

// Returns the transport to `ep`. Must not return null.
using Connector = std::function<std::shared_ptr<Transport>(const Endpoint& ep)>;

// The production connector: a new HttpClient to the endpoint (30 s timeout).
Connector http_connector();

}  // namespace xop
