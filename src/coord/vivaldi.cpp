#include "coord/vivaldi.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace xop {
namespace {

constexpr double kMinError = 1e-3;  // an error estimate never reaches 0 (the weight would be 0/0)
constexpr size_t kFitStarts = 6;
constexpr double kStartJitterMs = 0.5;
constexpr int kFitIterations = 400;
constexpr double kFitRobustScale = 0.3;

bool in_unit(double v) { return std::isfinite(v) && v > 0 && v <= 1; }

}  // namespace

Status validate_vivaldi_config(const VivaldiConfig& c) {
  if (c.dims < 1 || c.dims > kMaxCoordDims) return invalid(fmt::format("vivaldi: dims must be 1..{}", kMaxCoordDims));
  if (!in_unit(c.ce) || !in_unit(c.cc)) return invalid("vivaldi: ce and cc must be in (0, 1]");
  if (!std::isfinite(c.error_max) || c.error_max <= kMinError || c.error_max > kMaxCoordError) {
    return invalid(fmt::format("vivaldi: error_max must be in ({}, {}]", kMinError, kMaxCoordError));
  }
  if (!std::isfinite(c.height_min_ms) || c.height_min_ms < 0 || c.height_min_ms > 1000) {
    return invalid("vivaldi: height_min_ms must be in [0, 1000]");
  }
  if (!std::isfinite(c.max_rtt_ms) || c.max_rtt_ms <= 0 || c.max_rtt_ms > kMaxCoordMs) {
    return invalid(fmt::format("vivaldi: max_rtt_ms must be in (0, {}]", kMaxCoordMs));
  }
  if (c.filter_window < 1 || c.filter_window > 64) return invalid("vivaldi: filter_window must be 1..64");
  if (!std::isfinite(c.filter_percentile) || c.filter_percentile < 0 || c.filter_percentile > 1) {
    return invalid("vivaldi: filter_percentile must be in [0, 1]");
  }
  if (c.neighbour_max_age < 0) return invalid("vivaldi: neighbour_max_age must be >= 0");
  if (c.max_neighbours < 1 || c.max_neighbours > 1024) return invalid("vivaldi: max_neighbours must be 1..1024");
  if (c.newcomer_probes > 64) return invalid("vivaldi: newcomer_probes must be 0..64");
  if (!std::isfinite(c.gravity_rho_ms) || c.gravity_rho_ms < 0) return invalid("vivaldi: gravity_rho_ms must be >= 0");
  if (!std::isfinite(c.short_emphasis_ms) || c.short_emphasis_ms < 0) {
    return invalid("vivaldi: short_emphasis_ms must be >= 0");
  }
  if (!std::isfinite(c.publish_move_ms) || c.publish_move_ms < 0)
    return invalid("vivaldi: publish_move_ms must be >= 0");
  if (c.publish_window < 1 || c.publish_window > 1024) return invalid("vivaldi: publish_window must be 1..1024");
  return ok_status();
}

VivaldiNode::VivaldiNode(VivaldiConfig config) : config_(config), rng_(config.seed) {
  config_.dims = std::clamp<size_t>(config_.dims, 1, kMaxCoordDims);
  config_.filter_window = std::clamp<size_t>(config_.filter_window, 1, 64);
  config_.max_neighbours = std::clamp<size_t>(config_.max_neighbours, 1, 1024);
  config_.publish_window = std::clamp<size_t>(config_.publish_window, 1, 1024);
  if (!(config_.error_max > kMinError && config_.error_max <= kMaxCoordError)) config_.error_max = 1.5;
  coord_ = origin_coordinate(config_.dims, config_.height_min_ms, config_.error_max);
  // A start a hair off the origin, in a direction of this node's own: nodes that all started at
  // the same point would be pushed along one line and could never leave it.
  const auto dir = random_unit();
  for (size_t i = 0; i < config_.dims; ++i) coord_.vec[i] = dir[i] * kStartJitterMs;
  published_ = coord_;
  placed_ = config_.newcomer_probes == 0;
}

double VivaldiNode::filtered_rtt_ms(const std::string& peer) const {
  const auto it = neighbours_.find(peer);
  return it == neighbours_.end() ? -1.0 : it->second.filter.value();
}

std::vector<double> VivaldiNode::random_unit() {
  std::vector<double> v(config_.dims);
  double m = 0;
  while (m < 1e-9) {
    for (double& x : v) x = rng_.uniform() - 0.5;
    m = magnitude(v);
  }
  for (double& x : v) x /= m;
  return v;
}

double VivaldiNode::unit_from(std::vector<double>* diff) {
  const double m = magnitude(*diff);
  if (m < 1e-9) {
    *diff = random_unit();  // coincident points: any direction will do
    return m;
  }
  for (double& x : *diff) x /= m;
  return m;
}

Status VivaldiNode::observe(const std::string& peer, const Coordinate& peer_coord, double rtt_ms, int64_t now) {
  if (peer.empty() || peer.size() > 256) return invalid("vivaldi: peer name must be 1..256 bytes");
  if (!std::isfinite(rtt_ms) || rtt_ms <= 0 || rtt_ms > config_.max_rtt_ms) {
    return invalid(fmt::format("vivaldi: rtt must be a finite value in (0, {}] ms", config_.max_rtt_ms));
  }
  XOP_RETURN_IF_ERROR(validate_coordinate(peer_coord));
  if (peer_coord.vec.size() != config_.dims) {
    return invalid(
        fmt::format("vivaldi: peer coordinate has {} dimensions, this node {}", peer_coord.vec.size(), config_.dims));
  }
  latest_tick_ = std::max(latest_tick_, now);
  auto it = neighbours_.find(peer);
  if (it == neighbours_.end()) {
    it = neighbours_
             .emplace(peer, Neighbour{peer_coord, LatencyFilter(config_.filter_window, config_.filter_percentile),
                                      latest_tick_})
             .first;
  }
  Neighbour& n = it->second;
  n.coord = peer_coord;
  n.last_seen = latest_tick_;
  const double rtt = n.filter.add(rtt_ms);
  ++samples_;
  if (!placed_) {
    place_newcomer();
    if (samples_ >= static_cast<int64_t>(config_.newcomer_probes)) placed_ = true;
  } else {
    vivaldi_step(n, rtt);
  }
  apply_gravity();
  evict_stalest();
  update_published();
  return ok_status();
}

void VivaldiNode::vivaldi_step(const Neighbour& sampled, double rtt) {
  // The error estimate follows the sample just taken.
  const double est = estimated_rtt_ms(coord_, sampled.coord);
  const double w = coord_.error / (coord_.error + sampled.coord.error);
  const double rel = std::fabs(est - rtt) / rtt;
  coord_.error = std::clamp(config_.ce * w * rel + coord_.error * (1 - config_.ce * w), kMinError, config_.error_max);

  // The force: this sample alone (classic), or every recent neighbour weighted by freshness.
  struct Pull {
    const Neighbour* n;
    double rtt;
    double weight;
  };
  std::vector<Pull> pulls;
  if (config_.neighbour_max_age <= 0) {
    pulls.push_back({&sampled, rtt, 1.0});
  } else {
    double total = 0;
    for (auto it = neighbours_.begin(); it != neighbours_.end();) {
      const int64_t age = latest_tick_ - it->second.last_seen;
      if (age > config_.neighbour_max_age) {
        it = neighbours_.erase(it);  // decayed away
        continue;
      }
      const double a = static_cast<double>(config_.neighbour_max_age - age + 1);
      pulls.push_back({&it->second, it->second.filter.value(), a});
      total += a;
      ++it;
    }
    for (auto& p : pulls) p.weight /= total;
  }
  std::vector<double> dvec(config_.dims, 0.0);
  double dheight = 0;
  for (const auto& p : pulls) {
    const Coordinate& other = p.n->coord;
    std::vector<double> diff(config_.dims);
    for (size_t i = 0; i < config_.dims; ++i) diff[i] = coord_.vec[i] - other.vec[i];
    const double m = unit_from(&diff);
    const double hsum = coord_.height + other.height;
    const double dist = m + hsum;  // the estimate in the height model
    const double wi = coord_.error / (coord_.error + other.error);
    const double emphasis = config_.short_emphasis_ms > 0 ? std::min(1.0, config_.short_emphasis_ms / p.rtt) : 1.0;
    const double force = config_.cc * wi * (p.rtt - dist) * p.weight * emphasis;
    // The point moves along the unit vector; the height takes its share of the distance (Dabek's
    // height vector), so a node far off its neighbours' plane grows an access link.
    for (size_t i = 0; i < config_.dims; ++i) dvec[i] += force * diff[i];
    dheight += force * hsum / std::max(dist, 1e-9);
  }
  for (size_t i = 0; i < config_.dims; ++i) {
    coord_.vec[i] = std::clamp(coord_.vec[i] + dvec[i], -kMaxCoordMs, kMaxCoordMs);
  }
  coord_.height = std::clamp(coord_.height + dheight, config_.height_min_ms, kMaxCoordMs);
}

void VivaldiNode::place_newcomer() {
  struct Obs {
    const Coordinate* c;
    double rtt;
    double w;
  };
  std::vector<Obs> obs;
  obs.reserve(neighbours_.size());
  for (const auto& [name, n] : neighbours_) {
    const double r = n.filter.value();
    obs.push_back({&n.coord, r, 1.0 / (r * std::max(n.coord.error, 0.05))});
  }
  if (obs.empty()) return;
  // Starts next to the closest few neighbours; the best fit wins.
  std::vector<size_t> order(obs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return obs[a].rtt < obs[b].rtt; });
  double best_cost = std::numeric_limits<double>::infinity();
  Coordinate best = coord_;
  const size_t starts = std::min(kFitStarts, obs.size());
  for (size_t s = 0; s < starts; ++s) {
    const Obs& o = obs[order[s]];
    Coordinate x = *o.c;
    x.height = config_.height_min_ms;
    const auto dir = random_unit();
    const double reach = std::max(o.rtt - o.c->height - x.height, 0.0) * 0.5;
    for (size_t i = 0; i < config_.dims; ++i) x.vec[i] += dir[i] * reach;
    for (int iter = 0; iter < kFitIterations; ++iter) {
      std::vector<double> g(config_.dims, 0.0);
      double gh = 0;
      double wsum = 0;
      for (const auto& ob : obs) {
        std::vector<double> diff(config_.dims);
        for (size_t i = 0; i < config_.dims; ++i) diff[i] = x.vec[i] - ob.c->vec[i];
        const double m = unit_from(&diff);
        const double hsum = x.height + ob.c->height;
        const double dist = m + hsum;
        // Cauchy weights: a sample far off the fit (a spike the filter had no history to catch,
        // or a path that breaks the triangle inequality) pulls less.
        const double rel = (ob.rtt - dist) / ob.rtt;
        const double robust = 1.0 / (1.0 + (rel / kFitRobustScale) * (rel / kFitRobustScale));
        const double f = ob.w * robust * (ob.rtt - dist);
        for (size_t i = 0; i < config_.dims; ++i) g[i] += f * diff[i];
        gh += f * hsum / std::max(dist, 1e-9);
        wsum += ob.w * robust;
      }
      const double t = 0.5;
      for (size_t i = 0; i < config_.dims; ++i) x.vec[i] += t * g[i] / wsum;
      x.height = std::max(config_.height_min_ms, x.height + t * gh / wsum);
    }
    double cost = 0;
    for (const auto& ob : obs) {
      const double rel = (estimated_rtt_ms(x, *ob.c) - ob.rtt) / ob.rtt;
      cost += rel * rel;
    }
    if (cost < best_cost) {
      best_cost = cost;
      best = x;
    }
  }
  for (double& v : best.vec) v = std::clamp(v, -kMaxCoordMs, kMaxCoordMs);
  best.height = std::clamp(best.height, config_.height_min_ms, kMaxCoordMs);
  // A fit to n samples in dims + 1 unknowns claims too little error while n is small.
  const double n = static_cast<double>(obs.size());
  const double d = static_cast<double>(config_.dims + 1);
  const double residual = std::sqrt(best_cost / n);
  best.error = std::clamp(std::max(residual, config_.error_max * d / (n + d)), kMinError, config_.error_max);
  coord_ = best;
}

void VivaldiNode::apply_gravity() {
  if (config_.gravity_rho_ms <= 0) return;
  const double m = magnitude(coord_.vec);
  if (m < 1e-9) return;
  const double pull = std::min((m / config_.gravity_rho_ms) * (m / config_.gravity_rho_ms), m);
  for (double& v : coord_.vec) v -= pull * v / m;
}

void VivaldiNode::evict_stalest() {
  while (neighbours_.size() > config_.max_neighbours) {
    auto stalest = neighbours_.begin();
    for (auto it = neighbours_.begin(); it != neighbours_.end(); ++it) {
      if (it->second.last_seen < stalest->second.last_seen) stalest = it;
    }
    neighbours_.erase(stalest);
  }
}

void VivaldiNode::update_published() {
  recent_.push_back(coord_);
  while (recent_.size() > config_.publish_window) recent_.pop_front();
  Coordinate centroid = origin_coordinate(config_.dims, 0, coord_.error);
  for (const auto& c : recent_) {
    for (size_t i = 0; i < config_.dims; ++i) centroid.vec[i] += c.vec[i];
    centroid.height += c.height;
  }
  const double k = static_cast<double>(recent_.size());
  for (double& v : centroid.vec) v /= k;
  centroid.height /= k;
  if (!placed_) {
    published_ = coord_;  // a newcomer publishes where it is: there is no history to damp
    return;
  }
  Coordinate h = published_;
  h.height = 0;
  Coordinate c0 = centroid;
  c0.height = 0;
  const double moved = estimated_rtt_ms(h, c0) + std::fabs(published_.height - centroid.height);
  const bool error_changed = std::fabs(published_.error - coord_.error) > std::max(0.25 * published_.error, 0.05);
  if (moved > config_.publish_move_ms || error_changed) published_ = centroid;
}

}  // namespace xop
