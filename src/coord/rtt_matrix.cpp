#include "coord/rtt_matrix.h"

#include <algorithm>
#include <map>
#include <set>

namespace xop {

RttMatrix build_rtt_matrix(const RttDataset& data, size_t min_peers, double min_pair_ms) {
  RttMatrix m;
  std::map<std::string, std::map<std::string, const RttRow*>> adj;
  for (const auto& r : data.pairs) {
    if (r.avg_ms < min_pair_ms || r.avg_ms <= 0) {
      ++m.dropped_pairs;
      continue;
    }
    adj[r.a][r.b] = &r;
    adj[r.b][r.a] = &r;
  }
  std::set<std::string> alive;
  for (const auto& [c, peers] : adj) alive.insert(c);
  while (true) {
    std::string worst;
    size_t worst_n = min_peers;
    for (const auto& c : alive) {
      size_t n = 0;
      for (const auto& [p, row] : adj[c]) n += alive.count(p);
      if (n < worst_n) {  // strictly fewer: the first (smallest code) of the worst wins a tie
        worst_n = n;
        worst = c;
      }
    }
    if (worst.empty()) break;
    m.excluded.emplace_back(worst, worst_n);
    alive.erase(worst);
  }
  m.countries.assign(alive.begin(), alive.end());
  const size_t n = m.countries.size();
  m.avg_.assign(n * n, -1.0);
  m.std_.assign(n * n, 0.0);
  m.peers_.assign(n, {});
  m.self_ms.assign(n, -1.0);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[m.countries[i]] = i;
  for (size_t i = 0; i < n; ++i) {
    for (const auto& [p, row] : adj[m.countries[i]]) {
      const auto it = index.find(p);
      if (it == index.end()) continue;
      m.avg_[i * n + it->second] = row->avg_ms;
      m.std_[i * n + it->second] = row->std_ms;
      m.peers_[i].push_back(it->second);
      if (i < it->second) ++m.measured_pairs;
    }
    std::sort(m.peers_[i].begin(), m.peers_[i].end());
  }
  for (const auto& r : data.self) {
    const auto it = index.find(r.a);
    if (it != index.end()) m.self_ms[it->second] = r.avg_ms;
  }
  return m;
}

}  // namespace xop
