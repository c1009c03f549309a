// The advert bus (xis/advert_bus.h) on NATS JetStream: a key-value bucket holding the latest
// advert of every server (key: the server's account id, one revision kept, entries older than
// max_age_ms expire). An instance puts what it admitted; a watcher on the whole bucket hands it
// first every advert the bucket holds (so an instance that starts late, or reconnects, catches up)
// and then every new one. docs/xis.md "Several instances" has the design and its limits.
//
// One thread does everything (connect, bind or create the bucket, watch, publish), so nothing
// of NATS's is shared between threads. The NATS server being down is not fatal: the instance
// serves what it holds, logs the outage once (then at growing intervals), and reconnects for ever
// with backoff; on reconnection it reads the whole bucket again.
#pragma once

#include <memory>
#include <string>

#include "xis/advert_bus.h"

namespace xop {

struct NatsBusOptions {
  std::string url;                     // nats://host:port, or several comma-separated
  std::string bucket = "xop_adverts";  // A-Z a-z 0-9 _ -
  std::string token;                   // the NATS server's auth token, when it requires one
  int64_t max_age_ms = 60'000;         // the bucket's TTL: XIS's max_ttl_ms
  size_t max_queue = 200'000;          // adverts awaiting publication (one per server)
  int64_t poll_ms = 100;               // how long the thread waits for bucket changes between publications
  int64_t retry_min_ms = 200;          // reconnection backoff, doubling up to retry_max_ms
  int64_t retry_max_ms = 10'000;
};

// OK when the URL list is nats:// URLs, the bucket name is valid and the durations are positive.
Status validate_nats_bus_options(const NatsBusOptions& o);

class NatsAdvertBus final : public AdvertBus {
 public:
  // Starts the bus thread (the connection is made in the background). `on_advert` is called from
  // that thread for every advert another instance published. Invalid options: an error.
  static Result<std::unique_ptr<NatsAdvertBus>> start(NatsBusOptions opts, AdvertReceiver on_advert);
  ~NatsAdvertBus() override;  // stops and joins the thread (within about poll_ms)
  NatsAdvertBus(const NatsAdvertBus&) = delete;
  NatsAdvertBus& operator=(const NatsAdvertBus&) = delete;

  void publish(const std::string& server, std::string body) override;
  [[nodiscard]] AdvertBusStats stats() const override;

 private:
  struct Impl;
  explicit NatsAdvertBus(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
