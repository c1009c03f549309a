// The answering side of the coordinate probe (proto/coord_probe.h): a UDP socket on which every
// server answers probes with its current network coordinate, so that other servers and users
// (`xop locate`) can measure round-trip times to it. By default it listens on the same address
// and port number as the server's HTTP API (server config: coord.*).
//
// Hostile input: a datagram that is not exactly a valid probe request is dropped without an
// answer; answers are rate-limited per source address and in total (ProbeRateLimiter), and are
// never larger than the request (no amplification).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "coord/coordinate.h"
#include "core/result.h"

namespace xop {

struct ProbeRateOptions {
  double answers_per_second = 200;            // all sources together
  double answers_per_second_per_source = 10;  // one source IPv4 address
  double burst_seconds = 2;                   // a bucket holds this many seconds' worth
  size_t max_sources = 4096;                  // sources tracked; when full, idle ones are forgotten
};

// Token buckets, one for everyone and one per source address. Pure: the caller passes the time.
class ProbeRateLimiter {
 public:
  explicit ProbeRateLimiter(ProbeRateOptions o);
  // True when an answer to `source` at `now_ms` is within both budgets (and takes one token of each).
  bool allow(uint32_t source, int64_t now_ms);
  size_t sources() const { return per_source_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at = 0;
  };
  void refill(Bucket& b, double rate, int64_t now_ms) const;
  ProbeRateOptions o_;
  Bucket all_;
  std::unordered_map<uint32_t, Bucket> per_source_;
};

struct ProbeResponderStats {
  uint64_t answered = 0;
  uint64_t malformed = 0;  // not a valid probe request: dropped
  uint64_t limited = 0;    // over a rate budget: dropped
};

class ProbeResponder {
 public:
  using CoordSource = std::function<std::optional<Coordinate>()>;
  // Binds host:port (port 0: any free port) in the calling thread's network namespace and starts
  // answering on a thread of its own. `coord` is called for every answer.
  static Result<std::unique_ptr<ProbeResponder>> start(const std::string& host, uint16_t port, ProbeRateOptions rate,
                                                       CoordSource coord);
  ~ProbeResponder();  // stops
  ProbeResponder(const ProbeResponder&) = delete;
  ProbeResponder& operator=(const ProbeResponder&) = delete;

  void stop();
  uint16_t port() const { return port_; }
  ProbeResponderStats stats() const;

 private:
  ProbeResponder(int fd, int stop_fd, uint16_t port, ProbeRateOptions rate, CoordSource coord);
  void run();
  int fd_ = -1;
  int stop_fd_ = -1;  // eventfd: written by stop()
  uint16_t port_ = 0;
  ProbeRateLimiter limiter_;
  CoordSource coord_;
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> limited_{0};
  std::thread thread_;
};

}  // namespace xop
