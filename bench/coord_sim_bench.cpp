// Vivaldi (coord/vivaldi.h) over the measured country-to-country RTT matrix (data/rtt/): one
// node per usable country, every node probing a few random measured peers per round, samples
// drawn around the measured mean with its measured deviation plus an occasional spike. No
// namespaces, no network: the same core the servers run, on the whole matrix.
//
// Counters (all over measured pairs only; the matrix has no truth for the others):
//  - countries, excluded_countries, measured_pairs, dropped_pairs: what the run covers
//    (rtt_matrix.h says which countries and pairs are excluded and why);
//  - median_rel_error, p90_rel_error: |estimate - measured| / measured over all measured pairs,
//    from the system coordinates after the last round; published_median_rel_error: the same from
//    the damped coordinates a server would advertise;
//  - closest_regret_median_ms, closest_regret_p90_ms: for each country as a user, the measured
//    RTT to the server (one per other measured country) with the smallest estimated RTT, minus
//    the measured RTT to the truly closest one;
//  - newcomer_probes_median, newcomer_probes_p90: a fresh node for each country joins the settled
//    system (the others frozen) and probes random measured peers kNewcomerProbes times; the
//    probes until its median relative error over its measured peers is within 10% of the error
//    it settles at (the median over its last 50 probes; kNewcomerProbes + 1 when never);
//    newcomer_within_10_probes: the fraction that got there in at most 10 probes;
//    newcomer_error_ratio_at_10_median/_p90: its error after 10 probes over its settled one;
//    newcomer_probes_to_joint_median/_p90: the same probes count against the error the country
//    has in the settled system instead (a stricter reference: the others had adapted to it).
//
// Budget and tuning (environment): XOP_COORD_SIM_ROUNDS (default 2000), XOP_COORD_SIM_PEERS
// (probes per node per round, 3), XOP_COORD_DIMS, XOP_COORD_CC, XOP_COORD_CE,
// XOP_COORD_NEIGHBOUR_AGE (rounds), XOP_COORD_FILTER (window), XOP_COORD_NEWCOMER_PROBES,
// XOP_COORD_GRAVITY; XOP_RTT_CSV overrides the dataset's path.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "coord/rtt_csv.h"
#include "coord/rtt_matrix.h"
#include "coord/vivaldi.h"

namespace xop {
namespace {

constexpr size_t kMinPeers = 10;       // a country needs this many measured peers to be placed
constexpr double kMinPairMs = 2.0;     // pairs of two countries below this are not paths
constexpr double kSpikeChance = 0.02;  // a sample is a spike (queueing) this often
constexpr int kNewcomerProbes = 200;
constexpr size_t kNearPeers = 8;

double env_or(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? fallback : std::strtod(v, nullptr);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(std::floor(p * static_cast<double>(v.size() - 1)));
  return v[i];
}

VivaldiConfig config_from_env() {
  VivaldiConfig c;
  c.dims = static_cast<size_t>(env_or("XOP_COORD_DIMS", 4));
  c.cc = env_or("XOP_COORD_CC", 0.25);
  c.ce = env_or("XOP_COORD_CE", 0.25);
  c.neighbour_max_age = static_cast<int64_t>(env_or("XOP_COORD_NEIGHBOUR_AGE", 0));
  c.filter_window = static_cast<size_t>(env_or("XOP_COORD_FILTER", 5));
  c.newcomer_probes = static_cast<size_t>(env_or("XOP_COORD_NEWCOMER_PROBES", 8));
  c.gravity_rho_ms = env_or("XOP_COORD_GRAVITY", 0);
  c.short_emphasis_ms = env_or("XOP_COORD_SHORT_MS", 50);
  return c;
}

// One noisy sample of the path i-j: the mean plus the measured deviation (capped at half the
// mean, as a ping is never much below its path's floor), and now and then a spike.
double sample(const RttMatrix& m, size_t i, size_t j, SeededRng& rng) {
  const double avg = m.rtt(i, j);
  const double sd = std::min(m.stddev(i, j), avg * 0.5);
  double s = std::max(avg * 0.5, avg + sd * rng.normal());
  if (rng.uniform() < kSpikeChance) s *= 2 + 3 * rng.uniform();
  return s;
}

double median_error_of(const RttMatrix& m, size_t i, const Coordinate& c, const std::vector<VivaldiNode>& nodes) {
  std::vector<double> e;
  for (size_t j : m.peers(i))
    e.push_back(std::fabs(estimated_rtt_ms(c, nodes[j].coordinate()) - m.rtt(i, j)) / m.rtt(i, j));
  return percentile(e, 0.5);
}

// One of the kNearPeers measured peers of i that i's coordinate puts closest (what a server can
// pick from XIS's adverts: it knows the coordinates, not the truth).
size_t near_peer(const RttMatrix& m, const std::vector<VivaldiNode>& nodes, size_t i, SeededRng& rng) {
  std::vector<std::pair<double, size_t>> by_estimate;
  for (size_t j : m.peers(i))
    by_estimate.emplace_back(estimated_rtt_ms(nodes[i].coordinate(), nodes[j].coordinate()), j);
  const size_t k = std::min(kNearPeers, by_estimate.size());
  std::partial_sort(by_estimate.begin(), by_estimate.begin() + static_cast<std::ptrdiff_t>(k), by_estimate.end());
  return by_estimate[rng.below(k)].second;
}

void BM_CoordSim(benchmark::State& state) {
  const char* path_env = std::getenv("XOP_RTT_CSV");
  const std::string path = path_env != nullptr ? path_env : std::string(XOP_SOURCE_DIR) + "/data/rtt/country_rtt.csv";
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto data = parse_rtt_csv(ss.str());
  if (!data) {
    state.SkipWithError((path + ": " + data.error().message).c_str());
    return;
  }
  const RttMatrix m = build_rtt_matrix(*data, kMinPeers, kMinPairMs);
  const int rounds = static_cast<int>(env_or("XOP_COORD_SIM_ROUNDS", 2000));
  const int peers = static_cast<int>(env_or("XOP_COORD_SIM_PEERS", 3));
  const VivaldiConfig base = config_from_env();
  const double near_fraction = env_or("XOP_COORD_NEAR_FRACTION", 0.5);
  if (auto ok = validate_vivaldi_config(base); !ok) {
    state.SkipWithError(ok.error().message.c_str());
    return;
  }
  const size_t n = m.size();
  std::vector<double> rel;
  std::vector<double> published_rel;
  std::vector<double> regret;
  std::vector<double> newcomer_probes;
  std::vector<double> newcomer_probes_joint;
  std::vector<double> ratio_at_10;
  for (auto _ : state) {
    SeededRng rng(42);
    std::vector<VivaldiNode> nodes;
    nodes.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      VivaldiConfig c = base;
      c.seed = 1 + i;
      nodes.emplace_back(c);
    }
    for (int r = 0; r < rounds; ++r) {
      for (size_t i = 0; i < n; ++i) {
        const auto& ps = m.peers(i);
        for (int k = 0; k < peers; ++k) {
          const size_t j = rng.uniform() < near_fraction ? near_peer(m, nodes, i, rng) : ps[rng.below(ps.size())];
          if (!nodes[i].observe(m.countries[j], nodes[j].coordinate(), sample(m, i, j, rng), r)) std::abort();
        }
      }
    }
    rel.clear();
    published_rel.clear();
    regret.clear();
    for (size_t i = 0; i < n; ++i) {
      for (size_t j : m.peers(i)) {
        if (j < i) continue;
        rel.push_back(std::fabs(estimated_rtt_ms(nodes[i].coordinate(), nodes[j].coordinate()) - m.rtt(i, j)) /
                      m.rtt(i, j));
        published_rel.push_back(std::fabs(estimated_rtt_ms(nodes[i].published(), nodes[j].published()) - m.rtt(i, j)) /
                                m.rtt(i, j));
      }
      size_t chosen = m.peers(i).front();
      size_t best = chosen;
      for (size_t j : m.peers(i)) {
        if (estimated_rtt_ms(nodes[i].coordinate(), nodes[j].coordinate()) <
            estimated_rtt_ms(nodes[i].coordinate(), nodes[chosen].coordinate())) {
          chosen = j;
        }
        if (m.rtt(i, j) < m.rtt(i, best)) best = j;
      }
      regret.push_back(m.rtt(i, chosen) - m.rtt(i, best));
    }
    // Newcomers: each country joins again as a fresh node against the settled (frozen) others,
    // probing random measured peers. Its settled error is measured two ways: the error the
    // country has in the settled system (joint), and the error the newcomer itself settles at
    // (the median of its errors over probes kNewcomerProbes - 50 .. kNewcomerProbes).
    newcomer_probes.clear();
    newcomer_probes_joint.clear();
    ratio_at_10.clear();
    for (size_t i = 0; i < n; ++i) {
      const double joint = median_error_of(m, i, nodes[i].coordinate(), nodes);
      VivaldiConfig c = base;
      c.seed = 100'000 + i;
      VivaldiNode fresh(c);
      const auto& ps = m.peers(i);
      std::vector<double> errors;
      for (int k = 1; k <= kNewcomerProbes; ++k) {
        const size_t j = ps[rng.below(ps.size())];
        if (!fresh.observe(m.countries[j], nodes[j].coordinate(), sample(m, i, j, rng), rounds + k)) std::abort();
        errors.push_back(median_error_of(m, i, fresh.coordinate(), nodes));
      }
      const double own = percentile(std::vector<double>(errors.end() - 50, errors.end()), 0.5);
      auto first_within = [&](double settled) {
        for (size_t k = 0; k < errors.size(); ++k) {
          if (errors[k] <= 1.1 * settled) return static_cast<double>(k + 1);
        }
        return static_cast<double>(kNewcomerProbes + 1);
      };
      newcomer_probes.push_back(first_within(own));
      newcomer_probes_joint.push_back(first_within(joint));
      ratio_at_10.push_back(own > 0 ? errors[9] / own : 1.0);
    }
  }
  std::string label = "excluded (measured peers):";
  for (const auto& [code, peers_left] : m.excluded) label += " " + code + "(" + std::to_string(peers_left) + ")";
  state.SetLabel(label);
  state.counters["countries"] = static_cast<double>(n);
  state.counters["excluded_countries"] = static_cast<double>(m.excluded.size());
  state.counters["measured_pairs"] = static_cast<double>(m.measured_pairs);
  state.counters["dropped_pairs"] = static_cast<double>(m.dropped_pairs);
  state.counters["rounds"] = rounds;
  state.counters["probes_per_round"] = peers;
  state.counters["dims"] = static_cast<double>(base.dims);
  state.counters["median_rel_error"] = percentile(rel, 0.5);
  state.counters["p90_rel_error"] = percentile(rel, 0.9);
  state.counters["published_median_rel_error"] = percentile(published_rel, 0.5);
  state.counters["closest_regret_median_ms"] = percentile(regret, 0.5);
  state.counters["closest_regret_p90_ms"] = percentile(regret, 0.9);
  state.counters["newcomer_probes_median"] = percentile(newcomer_probes, 0.5);
  state.counters["newcomer_probes_p90"] = percentile(newcomer_probes, 0.9);
  state.counters["newcomer_within_10_probes"] =
      static_cast<double>(
          std::count_if(newcomer_probes.begin(), newcomer_probes.end(), [](double p) { return p <= 10; })) /
      static_cast<double>(std::max<size_t>(newcomer_probes.size(), 1));
  state.counters["newcomer_error_ratio_at_10_median"] = percentile(ratio_at_10, 0.5);
  state.counters["newcomer_error_ratio_at_10_p90"] = percentile(ratio_at_10, 0.9);
  state.counters["newcomer_probes_to_joint_median"] = percentile(newcomer_probes_joint, 0.5);
  state.counters["newcomer_probes_to_joint_p90"] = percentile(newcomer_probes_joint, 0.9);
}
BENCHMARK(BM_CoordSim)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace xop
