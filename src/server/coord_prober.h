// A server's network coordinate (issue 6, "Network coordinates"): every interval the prober picks
// a few peers (half those its coordinate puts closest, half at random, as bench/coord_sim_bench
// does), probes them over UDP (client/probe_client.h; they answer with their coordinate,
// server/probe_responder.h), and feeds each (RTT, peer coordinate) sample to a VivaldiNode. The
// server advertises published() (the damped coordinate, with its error) and answers probes with
// coordinate() (the system coordinate other nodes' Vivaldi steps need).
//
// Peers come from a PeerSource: in production XIS's search API (xis_peer_source), in tests
// anything. Times: the Vivaldi ticks are the Clock's milliseconds (a seam for tests); the round
// trips themselves are measured on the monotonic clock by the probe client. Thread-safe: the
// round runs on the prober's own thread (start()) or the caller's (round()), the readers from any.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/probe_client.h"
#include "client/xis_client.h"
#include "coord/vivaldi.h"
#include "core/clock.h"

namespace xop {

struct CoordProberOptions {
  int64_t interval_ms = 10'000;     // between rounds
  size_t peers_per_round = 4;       // probed each round (near half rounded down, the rest random)
  int64_t probe_timeout_ms = 2000;  // a round waits this long for answers
  VivaldiConfig vivaldi;
};

struct ProbePeer {
  std::string id;     // the server's account id
  std::string probe;  // host:port of its probe responder
};

// Peers to probe: up to `near` of those `self` puts closest (none when `self` is empty: no
// coordinate yet) and up to `random` others, never the caller itself.
using PeerSource =
    std::function<Result<std::vector<ProbePeer>>(const std::optional<Coordinate>& self, size_t near, size_t random)>;

// Peers from XIS's search API: near ones picked at random among the 8 nearest by estimated RTT
// to `self` (a search with rtt_from_coord), and random ones (the servers nearest to a random point on Earth, a
// different point each call: spread over the world without listing every advert). A peer's probe address is its
// advert's `probe`, else its endpoint's host and port number. `xis` must outlive the source.
PeerSource xis_peer_source(XisClient* xis, std::string self_id, uint64_t seed);

class CoordProber {
 public:
  // Called after every accepted sample, on the prober's thread (tests record convergence).
  using SampleObserver = std::function<void(const std::string& peer, double rtt_ms, const Coordinate& after)>;

  CoordProber(CoordProberOptions o, const Clock& clock, PeerSource peers, ProbeClient client, uint64_t seed = 1);
  ~CoordProber();  // stops
  CoordProber(const CoordProber&) = delete;
  CoordProber& operator=(const CoordProber&) = delete;

  // One round now: peers from the source, a probe to each, the answers fed to Vivaldi. Fails only
  // when the peer source fails; peers that do not answer are skipped (and counted).
  Status round();
  // Rounds on a thread of its own, the first at once, then every interval_ms, until stop().
  void start();
  void stop();

  std::optional<Coordinate> coordinate() const;  // the system coordinate; none before the first sample
  // What the probe responder answers with: the system coordinate, also before the first sample
  // (the origin with the maximum error, which Vivaldi's error weighting discounts), so a system
  // of servers that all start at once can bootstrap.
  Coordinate answer_coordinate() const;
  std::optional<Coordinate> published() const;  // the damped one, for adverts
  int64_t samples() const;
  uint64_t unanswered() const;  // probes sent that got no valid answer in time
  void set_observer(SampleObserver f);

 private:
  void run();
  CoordProberOptions o_;
  const Clock* clock_;
  PeerSource peers_;
  ProbeClient client_;
  std::mutex round_mu_;  // one round at a time (held over the probing; readers use mu_)
  mutable std::mutex mu_;
  VivaldiNode node_;
  SampleObserver observer_;
  uint64_t unanswered_ = 0;
  std::thread thread_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace xop
