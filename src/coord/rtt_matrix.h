// A dense country-by-country RTT matrix built from the parsed dataset (rtt_csv.h), restricted to
// the countries that carry enough measurements to place. Pure.
//
// Contract of build_rtt_matrix():
//  - A pair is measured when it has a row with rtt_avg >= min_pair_ms. Pairs of two different
//    countries below that (sub-millisecond "RTTs" between countries are anycast or misplaced
//    addresses, not a path) are dropped and counted in dropped_pairs.
//  - Usable countries are the largest set in which every country has at least min_peers measured
//    peers inside the set (found by repeatedly removing the worst-covered country; ties broken
//    by code): a country with fewer cannot be placed from its own measurements. The others are
//    listed in `excluded` with their measured-peer count at removal.
//  - countries are sorted by code; rtt(i, j) is symmetric; has(i, i) is false.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "coord/rtt_csv.h"

namespace xop {

struct RttMatrix {
  std::vector<std::string> countries;
  std::vector<double> self_ms;                           // intra-country RTT when the dataset has one, else -1
  std::vector<std::pair<std::string, size_t>> excluded;  // code, measured peers when removed
  size_t dropped_pairs = 0;
  size_t measured_pairs = 0;  // unordered, among usable countries

  size_t size() const { return countries.size(); }
  bool has(size_t i, size_t j) const { return avg_[i * countries.size() + j] > 0; }
  double rtt(size_t i, size_t j) const { return avg_[i * countries.size() + j]; }
  double stddev(size_t i, size_t j) const { return std_[i * countries.size() + j]; }
  // The measured peers of i, ascending.
  const std::vector<size_t>& peers(size_t i) const { return peers_[i]; }

  std::vector<double> avg_;  // n*n; -1 = unmeasured
  std::vector<double> std_;
  std::vector<std::vector<size_t>> peers_;
};

RttMatrix build_rtt_matrix(const RttDataset& data, size_t min_peers, double min_pair_ms);

}  // namespace xop
