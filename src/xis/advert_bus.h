// What several XIS instances share adverts through, so that a user may query any of them
// (docs/xis.md "Several instances"). An instance publishes every advert it admitted from a server;
// every instance (itself included) is handed every advert any instance published, and admits it
// as it would a server's own POST, except for the per-server rate limit and the endpoint check
// (the instance that took it from the server did both).
//
// The bus carries the signed advert as the server sent it, with the owner the corp named
// (proto/xis_bodies.h SharedAdvert), so what comes off it goes through the same strict, fuzzed
// decoder and signature checks as what a server sends: the bus is not trusted with the adverts'
// integrity. It is trusted, like the instances that write to it, with their admission checks
// (registration at the corp, endpoint possession): only XIS instances may write to it
// (docs/xis.md "Several instances": NATS authentication).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace xop {

// Called by a bus for every shared advert (encode_shared_advert) it receives, from its own thread; must be thread-safe.
using AdvertReceiver = std::function<void(std::string_view body)>;

// Counters of a bus, for logs and status.
struct AdvertBusStats {
  bool connected = false;
  int64_t published = 0;       // adverts handed to the bus engine
  int64_t publish_failed = 0;  // adverts the engine did not take (kept for the next try only if newest)
  int64_t dropped = 0;         // superseded before they could be published (a newer one of the same server)
  int64_t received = 0;        // adverts received from the bus (own ones excluded)
};

class AdvertBus {
 public:
  virtual ~AdvertBus() = default;
  // Queues `body` (encode_shared_advert of the advert of `server`, admitted here) for publication and returns at
  // once: never blocks on the network. A newer body of the same server replaces a queued one.
  virtual void publish(const std::string& server, std::string body) = 0;
  [[nodiscard]] virtual AdvertBusStats stats() const = 0;
};

}  // namespace xop
