// Multi-server placement with inter-related constraints (issue 6, "The query language"): given
// candidate servers (already filtered by the query engine) with network coordinates, choose
// several of them together. Pure and deterministic: no clock, I/O or randomness; the same input
// gives the same answer. Distances are estimated RTTs (coord/coordinate.h), a metric. The
// algorithms and their guarantees are documented in docs/xis.md, "Placement".
//
// Modes:
//  - kMinMaxRtt (k-center / k-supplier): choose k servers minimising the worst estimated RTT from
//    any of `points` (the users) to its nearest chosen server. k = 1 is exact (every candidate is
//    tried); for k > 1 farthest-first greedy then improving swaps: worst RTT <= 3 x optimal
//    (Hochbaum & Shmoys' bound for k-supplier; 3 is the best possible unless P = NP).
//  - kNearEach: one distinct server for each of `points` (locations), minimising the worst RTT
//    between a location and its server: exact (bottleneck matching over each location's
//    |points| nearest candidates). k is ignored (it is |points|).
//  - kPairwiseWithin: k servers every two of which are within `pairwise_within_ms` of each
//    other (a replicated store), minimising the largest key among them, the key of a server being
//    its estimated RTT to points[0] when points has one point, else its price (ties by server
//    id). Exact (incremental clique search in key order); a search that would take more than
//    `search_budget` steps (RTT evaluations) stops with kResourceExhausted, saying so.
//
// Errors (kInvalidArgument unless said, each message names why): no candidates; k = 0; k larger
// than the candidates; kMinMaxRtt or kNearEach without points; more points than candidates in
// kNearEach; more than kMaxPlacementPoints points; kPairwiseWithin with more than one point or
// a bound that is not positive and finite; an invalid coordinate, or coordinates whose dimensions
// differ (named by index). Server ids are expected unique (they only break ties). No feasible set (kPairwiseWithin: no
// k servers pairwise within the bound) is kNotFound, saying so.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "coord/coordinate.h"
#include "core/result.h"

namespace xop {

inline constexpr size_t kMaxPlacementPoints = 1'000;
inline constexpr size_t kMaxPlacementK = 1'000;

struct PlacementCandidate {
  std::string server;  // unique id (e.g. account id)
  Coordinate coord;
  int64_t price_micros = 0;  // e.g. the hourly reservation price; the key of kPairwiseWithin without points
};

enum class PlacementMode { kMinMaxRtt, kNearEach, kPairwiseWithin };

struct PlacementRequest {
  PlacementMode mode = PlacementMode::kMinMaxRtt;
  size_t k = 1;
  std::vector<Coordinate> points;    // users (kMinMaxRtt), locations (kNearEach), reference (kPairwiseWithin)
  double pairwise_within_ms = 0;     // kPairwiseWithin
  size_t search_budget = 2'000'000;  // kPairwiseWithin: clique-search steps before giving up exactness
};

struct Placement {
  std::vector<size_t> chosen;        // indexes into the candidates; kNearEach: chosen[i] serves points[i]
  std::vector<size_t> serves;        // per point: index into `chosen` of its server (kMinMaxRtt, kNearEach)
  std::vector<double> point_rtt_ms;  // per point: estimated RTT to its server (kMinMaxRtt, kNearEach)
  double objective = 0;              // worst point RTT (kMinMaxRtt, kNearEach); largest key (kPairwiseWithin)
  double max_pairwise_ms = 0;        // largest estimated RTT between two chosen servers
  bool exact = true;                 // the objective is known optimal (kMinMaxRtt k > 1: when it meets a lower bound)
};

Result<Placement> place_servers(std::span<const PlacementCandidate> candidates, const PlacementRequest& req);

}  // namespace xop
