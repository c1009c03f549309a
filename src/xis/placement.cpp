#include "xis/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

namespace xop {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Status validate(std::span<const PlacementCandidate> cands, const PlacementRequest& req) {
  if (cands.empty()) return invalid("placement: no candidates");
  if (req.points.size() > kMaxPlacementPoints) {
    return invalid(fmt::format("placement: {} points, at most {}", req.points.size(), kMaxPlacementPoints));
  }
  const size_t dims = cands[0].coord.vec.size();
  for (size_t i = 0; i < cands.size(); ++i) {
    if (auto ok = validate_coordinate(cands[i].coord); !ok) {
      return invalid(fmt::format("placement: candidate {} ({}): {}", i, cands[i].server, ok.error().message));
    }
    if (cands[i].coord.vec.size() != dims) {
      return invalid(fmt::format("placement: candidate {} ({}) has {} dimensions, candidate 0 has {}", i,
                                 cands[i].server, cands[i].coord.vec.size(), dims));
    }
  }
  for (size_t i = 0; i < req.points.size(); ++i) {
    if (auto ok = validate_coordinate(req.points[i]); !ok) {
      return invalid(fmt::format("placement: point {}: {}", i, ok.error().message));
    }
    if (req.points[i].vec.size() != dims) {
      return invalid(
          fmt::format("placement: point {} has {} dimensions, the candidates {}", i, req.points[i].vec.size(), dims));
    }
  }
  switch (req.mode) {
    case PlacementMode::kMinMaxRtt:
    case PlacementMode::kPairwiseWithin:
      if (req.k == 0) return invalid("placement: k is 0 (choose at least one server)");
      if (req.k > kMaxPlacementK) return invalid(fmt::format("placement: k = {}, at most {}", req.k, kMaxPlacementK));
      if (req.k > cands.size()) {
        return invalid(fmt::format("placement: k = {} but only {} candidates", req.k, cands.size()));
      }
      break;
    case PlacementMode::kNearEach:
      break;
  }
  switch (req.mode) {
    case PlacementMode::kMinMaxRtt:
      if (req.points.empty()) return invalid("placement: min-max RTT needs at least one user point");
      break;
    case PlacementMode::kNearEach:
      if (req.points.empty()) return invalid("placement: near-each needs at least one location");
      if (req.points.size() > cands.size()) {
        return invalid(fmt::format("placement: {} locations need distinct servers but only {} candidates",
                                   req.points.size(), cands.size()));
      }
      break;
    case PlacementMode::kPairwiseWithin:
      if (req.points.size() > 1) {
        return invalid(
            fmt::format("placement: pairwise-within takes at most one reference point, got {}", req.points.size()));
      }
      if (!std::isfinite(req.pairwise_within_ms) || req.pairwise_within_ms <= 0) {
        return invalid("placement: pairwise_within_ms must be positive and finite");
      }
      break;
  }
  return ok_status();
}

double max_pairwise(std::span<const PlacementCandidate> cands, const std::vector<size_t>& chosen) {
  double m = 0;
  for (size_t i = 0; i < chosen.size(); ++i) {
    for (size_t j = i + 1; j < chosen.size(); ++j) {
      m = std::max(m, estimated_rtt_ms(cands[chosen[i]].coord, cands[chosen[j]].coord));
    }
  }
  return m;
}

// (rtt, server id) order: deterministic whatever the candidates' order.
bool closer(double da, const PlacementCandidate& a, double db, const PlacementCandidate& b) {
  return std::tie(da, a.server) < std::tie(db, b.server);
}

// ------------------------------------------------------------------------- kMinMaxRtt

struct Cover {
  double worst = kInf;
  size_t worst_point = 0;
};

Cover evaluate(std::span<const PlacementCandidate> cands, const std::vector<Coordinate>& pts,
               const std::vector<size_t>& chosen) {
  Cover c{0, 0};
  for (size_t u = 0; u < pts.size(); ++u) {
    double best = kInf;
    for (size_t f : chosen) best = std::min(best, estimated_rtt_ms(pts[u], cands[f].coord));
    if (best > c.worst) c = Cover{best, u};
  }
  return c;
}

size_t nearest_to(std::span<const PlacementCandidate> cands, const Coordinate& p, const std::vector<char>& taken) {
  size_t best = cands.size();
  double bd = kInf;
  for (size_t i = 0; i < cands.size(); ++i) {
    if (taken[i]) continue;
    const double d = estimated_rtt_ms(p, cands[i].coord);
    if (best == cands.size() || closer(d, cands[i], bd, cands[best])) {
      best = i;
      bd = d;
    }
  }
  return best;
}

Placement min_max_rtt(std::span<const PlacementCandidate> cands, const PlacementRequest& req) {
  const auto& pts = req.points;
  const size_t n = cands.size();
  std::vector<size_t> chosen;
  bool exact = false;
  if (req.k == 1) {
    // Exact: every candidate.
    size_t best = 0;
    double bw = kInf;
    for (size_t i = 0; i < n; ++i) {
      double w = 0;
      for (const auto& p : pts) {
        w = std::max(w, estimated_rtt_ms(p, cands[i].coord));
        if (w > bw) break;
      }
      if (i == 0 || closer(w, cands[i], bw, cands[best])) {
        best = i;
        bw = w;
      }
    }
    chosen = {best};
    exact = true;
  } else {
    // A lower bound of any placement: every point's nearest candidate.
    double lower = 0;
    const std::vector<char> none(n, 0);
    for (const auto& p : pts) lower = std::max(lower, estimated_rtt_ms(p, cands[nearest_to(cands, p, none)].coord));
    // Farthest-first (Gonzalez; Hochbaum-Shmoys for k-supplier): serve point 0 by its nearest
    // candidate, then repeatedly the point farthest from the chosen servers by its nearest.
    std::vector<char> taken(n, 0);
    size_t next_point = 0;
    while (chosen.size() < req.k) {
      const size_t f = nearest_to(cands, pts[next_point], taken);
      chosen.push_back(f);
      taken[f] = 1;
      const Cover c = evaluate(cands, pts, chosen);
      if (c.worst <= lower) break;  // optimal already: no more servers can help
      next_point = c.worst_point;
    }
    // Improving swaps: replace a chosen server by one of the candidates nearest the worst-served
    // point, when that strictly lowers the worst RTT. Never worse than the greedy answer.
    constexpr size_t kPool = 32;
    constexpr int kRounds = 32;
    Cover cur = evaluate(cands, pts, chosen);
    for (int round = 0; round < kRounds && cur.worst > lower; ++round) {
      const Coordinate& w = pts[cur.worst_point];
      std::vector<std::pair<double, size_t>> pool;
      for (size_t i = 0; i < n; ++i) {
        if (taken[i]) continue;
        const double d = estimated_rtt_ms(w, cands[i].coord);
        if (d < cur.worst) pool.emplace_back(d, i);
      }
      auto by_rtt = [&](const auto& a, const auto& b) {
        return closer(a.first, cands[a.second], b.first, cands[b.second]);
      };
      if (pool.size() > kPool) {
        std::nth_element(pool.begin(), pool.begin() + kPool, pool.end(), by_rtt);
        pool.resize(kPool);
      }
      std::sort(pool.begin(), pool.end(), by_rtt);
      double best = cur.worst;
      size_t best_slot = 0;
      size_t best_cand = n;
      for (const auto& [d, c] : pool) {
        for (size_t slot = 0; slot < chosen.size(); ++slot) {
          std::vector<size_t> trial = chosen;
          trial[slot] = c;
          const double v = evaluate(cands, pts, trial).worst;
          if (v < best) {
            best = v;
            best_slot = slot;
            best_cand = c;
          }
        }
      }
      if (best_cand == n) break;
      taken[chosen[best_slot]] = 0;
      chosen[best_slot] = best_cand;
      taken[best_cand] = 1;
      cur = evaluate(cands, pts, chosen);
    }
    exact = cur.worst <= lower;
    // Fewer than k were needed: fill with the candidates nearest to any point (no change to the worst).
    while (chosen.size() < req.k) {
      size_t best = n;
      double bd = kInf;
      for (size_t i = 0; i < n; ++i) {
        if (taken[i]) continue;
        double d = kInf;
        for (const auto& p : pts) d = std::min(d, estimated_rtt_ms(p, cands[i].coord));
        if (best == n || closer(d, cands[i], bd, cands[best])) {
          best = i;
          bd = d;
        }
      }
      chosen.push_back(best);
      taken[best] = 1;
    }
  }
  Placement out;
  out.chosen = chosen;
  out.exact = exact;
  for (const auto& p : pts) {
    size_t s = 0;
    double bd = kInf;
    for (size_t j = 0; j < chosen.size(); ++j) {
      const double d = estimated_rtt_ms(p, cands[chosen[j]].coord);
      if (j == 0 || closer(d, cands[chosen[j]], bd, cands[chosen[s]])) {
        s = j;
        bd = d;
      }
    }
    out.serves.push_back(s);
    out.point_rtt_ms.push_back(bd);
    out.objective = std::max(out.objective, bd);
  }
  out.max_pairwise_ms = max_pairwise(cands, chosen);
  return out;
}

// -------------------------------------------------------------------------- kNearEach

// Kuhn's augmenting paths over edges with weight <= limit.
struct Matcher {
  const std::vector<std::vector<std::pair<double, size_t>>>& adj;  // per location: (rtt, slot), sorted
  double limit;
  std::vector<size_t> owner;  // per slot: location, or npos
  std::vector<int> seen;
  int stamp = 0;
  static constexpr size_t kNone = static_cast<size_t>(-1);

  bool augment(size_t loc) {
    for (const auto& [d, slot] : adj[loc]) {
      if (d > limit) break;
      if (seen[slot] == stamp) continue;
      seen[slot] = stamp;
      if (owner[slot] == kNone || augment(owner[slot])) {
        owner[slot] = loc;
        return true;
      }
    }
    return false;
  }
  bool perfect(size_t locations, size_t slots) {
    owner.assign(slots, kNone);
    seen.assign(slots, 0);
    for (size_t l = 0; l < locations; ++l) {
      ++stamp;
      if (!augment(l)) return false;
    }
    return true;
  }
};

Placement near_each(std::span<const PlacementCandidate> cands, const PlacementRequest& req) {
  const auto& pts = req.points;
  const size_t L = pts.size();
  // Some optimal matching uses only each location's L nearest candidates (exchange argument).
  std::vector<size_t> slot_of(cands.size(), Matcher::kNone);
  std::vector<size_t> slots;  // slot -> candidate index
  std::vector<std::vector<std::pair<double, size_t>>> near(L);
  std::vector<std::pair<double, size_t>> all(cands.size());
  for (size_t l = 0; l < L; ++l) {
    for (size_t i = 0; i < cands.size(); ++i) all[i] = {estimated_rtt_ms(pts[l], cands[i].coord), i};
    auto by = [&](const auto& a, const auto& b) { return closer(a.first, cands[a.second], b.first, cands[b.second]); };
    if (all.size() > L) std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(L), all.end(), by);
    std::sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(std::min(L, all.size())), by);
    for (size_t j = 0; j < L && j < all.size(); ++j) {
      const size_t c = all[j].second;
      if (slot_of[c] == Matcher::kNone) {
        slot_of[c] = slots.size();
        slots.push_back(c);
      }
      near[l].emplace_back(all[j].first, slot_of[c]);
    }
  }
  std::vector<double> weights;
  for (const auto& v : near) {
    for (const auto& e : v) weights.push_back(e.first);
  }
  std::sort(weights.begin(), weights.end());
  weights.erase(std::unique(weights.begin(), weights.end()), weights.end());
  Matcher m{near, 0, {}, {}, 0};
  // The least threshold with a perfect matching: binary search over the distinct weights.
  size_t lo = 0;
  size_t hi = weights.size() - 1;  // feasible: every location's L nearest are all allowed
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    m.limit = weights[mid];
    if (m.perfect(L, slots.size())) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  m.limit = weights[lo];
  m.perfect(L, slots.size());
  Placement out;
  out.chosen.assign(L, 0);
  for (size_t s = 0; s < slots.size(); ++s) {
    if (m.owner[s] != Matcher::kNone) out.chosen[m.owner[s]] = slots[s];
  }
  for (size_t l = 0; l < L; ++l) {
    out.serves.push_back(l);
    const double d = estimated_rtt_ms(pts[l], cands[out.chosen[l]].coord);
    out.point_rtt_ms.push_back(d);
    out.objective = std::max(out.objective, d);
  }
  out.max_pairwise_ms = max_pairwise(cands, out.chosen);
  return out;
}

// -------------------------------------------------------------------- kPairwiseWithin

struct CliqueSearch {
  std::span<const PlacementCandidate> cands;
  double within;
  size_t k;
  size_t budget;
  size_t steps = 0;
  std::vector<size_t> picked;

  bool near(size_t a, size_t b) {
    ++steps;
    return estimated_rtt_ms(cands[a].coord, cands[b].coord) <= within;
  }
  // Extends `picked` from `pool` (in key order) to k members; false when it cannot.
  bool extend(const std::vector<size_t>& pool) {
    if (picked.size() == k) return true;
    for (size_t i = 0; i < pool.size(); ++i) {
      if (picked.size() + (pool.size() - i) < k) return false;
      if (steps > budget) return false;
      std::vector<size_t> next;
      for (size_t j = i + 1; j < pool.size(); ++j) {
        if (near(pool[i], pool[j])) next.push_back(pool[j]);
      }
      picked.push_back(pool[i]);
      if (extend(next)) return true;
      picked.pop_back();
    }
    return false;
  }
};

Result<Placement> pairwise_within(std::span<const PlacementCandidate> cands, const PlacementRequest& req) {
  const size_t n = cands.size();
  std::vector<double> key(n);
  for (size_t i = 0; i < n; ++i) {
    key[i] = req.points.empty() ? static_cast<double>(cands[i].price_micros)
                                : estimated_rtt_ms(req.points[0], cands[i].coord);
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return closer(key[a], cands[a], key[b], cands[b]); });
  // The first candidate, in key order, that closes a k-clique with earlier ones is the least
  // possible largest key; its clique is found by a search among its earlier neighbours.
  CliqueSearch cs{cands, req.pairwise_within_ms, req.k, req.search_budget, 0, {}};
  for (size_t t = 0; t < n; ++t) {
    const size_t p = order[t];
    std::vector<size_t> pool;
    if (req.k > 1) {
      for (size_t s = 0; s < t; ++s) {
        if (cs.near(order[s], p)) pool.push_back(order[s]);
      }
    }
    cs.picked = {p};
    if (pool.size() + 1 >= req.k && cs.extend(pool)) {
      Placement out;
      out.chosen = cs.picked;
      std::sort(out.chosen.begin(), out.chosen.end(),
                [&](size_t a, size_t b) { return closer(key[a], cands[a], key[b], cands[b]); });
      out.objective = key[p];
      out.max_pairwise_ms = max_pairwise(cands, out.chosen);
      return out;
    }
    if (cs.steps > cs.budget) {
      return make_error(ErrorCode::kResourceExhausted,
                        fmt::format("placement: the search for {} servers pairwise within {} ms took more than {} "
                                    "steps without an answer (narrow the candidates)",
                                    req.k, req.pairwise_within_ms, req.search_budget));
    }
  }
  return make_error(ErrorCode::kNotFound, fmt::format("placement: no {} of the {} candidates are pairwise within {} ms",
                                                      req.k, n, req.pairwise_within_ms));
}

}  // namespace

Result<Placement> place_servers(std::span<const PlacementCandidate> candidates, const PlacementRequest& req) {
  XOP_RETURN_IF_ERROR(validate(candidates, req));
  switch (req.mode) {
    case PlacementMode::kMinMaxRtt:
      return min_max_rtt(candidates, req);
    case PlacementMode::kNearEach:
      return near_each(candidates, req);
    case PlacementMode::kPairwiseWithin:
      return pairwise_within(candidates, req);
  }
  return invalid("placement: unknown mode");
}

}  // namespace xop
