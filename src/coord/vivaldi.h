// Vivaldi (Dabek, Cox, Kaashoek, Morris, SIGCOMM 2004) with height, and the refinements that made
// it usable in deployed systems (Ledlie, Gardner, Seltzer, NSDI 2007; Pietzuch et al.'s Pyxida;
// Serf's coordinate package):
//  - adaptive timestep: a sample moves the node by cc * w * (rtt - estimate), w = e_local /
//    (e_local + e_remote), so a confident node is moved little by an unsure one;
//  - error estimate: an EWMA (gain ce * w) of the sample's relative error, capped at error_max;
//  - latency filter: per neighbour, a moving percentile of the last few samples (latency_filter.h);
//  - neighbour decay: each update is the sum of the forces of all neighbours heard from within
//    neighbour_max_age ticks, each weighted by how recently it was heard from, so one odd sample
//    does not dominate and a neighbour that went away fades out instead of pinning the node;
//  - update damping: published() is an application-level coordinate that only moves when the
//    centroid of the recent system coordinates has drifted publish_move_ms from it, so adverts
//    and the rankings built on them do not churn with every sample;
//  - newcomer placement: for its first newcomer_probes samples the node is placed where it best
//    fits all its samples so far (least squares over the neighbours' coordinates), instead of
//    creeping out from the origin; normal updates take over after that;
//  - gravity: a weak pull towards the origin (Serf) that stops the whole system drifting away.
//
// Pure: no clock, I/O or global randomness. The caller passes the samples and a logical time
// ("ticks": any monotonic count the caller keeps, e.g. ms of its own clock or a round number);
// the only randomness (a direction when two nodes coincide) comes from a generator seeded by
// config.seed, so the same inputs give the same coordinates bit for bit.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "coord/coordinate.h"
#include "coord/latency_filter.h"
#include "coord/seeded_rng.h"

namespace xop {

struct VivaldiConfig {
  size_t dims = 4;             // 1..kMaxCoordDims
  double ce = 0.25;            // error EWMA gain
  double cc = 0.25;            // timestep gain
  double error_max = 1.5;      // a node's error starts here and never exceeds it
  double height_min_ms = 0.1;  // heights stay at least this (a pure point model has no access delay)
  double max_rtt_ms = 60'000;  // samples above are refused (no Internet path takes a minute)
  size_t filter_window = 5;    // latency filter: samples kept per neighbour
  double filter_percentile = 0.5;
  int64_t neighbour_max_age = 0;         // ticks; 0: no decay, every update uses the one sample (classic)
  size_t max_neighbours = 64;            // the neighbour table's size; the stalest is evicted
  size_t newcomer_probes = 8;            // samples placed by fitting; 0: start at the origin and creep
  double newcomer_min_peer_error = 1.0;  // fitting needs a neighbour with error below this
  double gravity_rho_ms = 0;             // 0: no gravity; else force (|x| / rho)^2 towards the origin
  // 0: off. Else a neighbour's pull is scaled by min(1, short_emphasis_ms / rtt), so a long path's
  // absolute error does not drown the short paths, whose accuracy picks "the closest server".
  double short_emphasis_ms = 50;
  double publish_move_ms = 5;  // update damping threshold for published()
  size_t publish_window = 8;   // system coordinates averaged for published()
  uint64_t seed = 1;
};

// OK when every field is in its range (dims 1..kMaxCoordDims, gains in (0, 1], ...).
Status validate_vivaldi_config(const VivaldiConfig& c);

class VivaldiNode {
 public:
  // `config` must be valid (validate_vivaldi_config); an invalid one is clamped into range.
  explicit VivaldiNode(VivaldiConfig config);

  // Feeds one round-trip sample to neighbour `peer`, whose coordinate (as it reported it) is
  // `peer_coord`, taken at tick `now`. Refused, with nothing changed: an RTT that is not finite,
  // not > 0 or above max_rtt_ms; a peer coordinate that fails validate_coordinate or has other
  // dims; an empty peer name. Ticks going backwards are treated as `now` = the latest seen.
  Status observe(const std::string& peer, const Coordinate& peer_coord, double rtt_ms, int64_t now);

  const Coordinate& coordinate() const { return coord_; }     // the system coordinate
  const Coordinate& published() const { return published_; }  // damped (see above)
  int64_t samples() const { return samples_; }                // accepted samples
  size_t neighbours() const { return neighbours_.size(); }
  // The filtered RTT to `peer`, or a negative value when none is known.
  double filtered_rtt_ms(const std::string& peer) const;
  const VivaldiConfig& config() const { return config_; }

 private:
  struct Neighbour {
    Coordinate coord;
    LatencyFilter filter;
    int64_t last_seen = 0;
  };
  void place_newcomer();
  void vivaldi_step(const Neighbour& sampled, double rtt);
  void apply_gravity();
  void update_published();
  void evict_stalest();
  std::vector<double> random_unit();
  // Turns *diff into its unit vector (a random one when it is ~0); returns its former length.
  double unit_from(std::vector<double>* diff);

  VivaldiConfig config_;
  SeededRng rng_;
  Coordinate coord_;
  Coordinate published_;
  std::deque<Coordinate> recent_;
  std::map<std::string, Neighbour> neighbours_;
  int64_t samples_ = 0;
  int64_t latest_tick_ = 0;
  bool placed_ = false;  // newcomer phase over (or never used)
};

}  // namespace xop
