// The latency filter of Ledlie, Gardner and Seltzer ("Network Coordinates in the Wild", NSDI 2007):
// a node does not feed raw round-trip samples to Vivaldi but a moving percentile of the last few
// samples to the same neighbour, which removes the occasional huge sample (a queue, a retransmit)
// that would otherwise throw the coordinate about.
//
// Pure. Contract: add() keeps the last `window` samples of one neighbour (oldest dropped first)
// and answers the `percentile` (0 = min, 0.5 = median, 1 = max; nearest-rank, lower on a tie) of
// those kept, including the new one.
#pragma once

#include <cstddef>
#include <deque>

namespace xop {

class LatencyFilter {
 public:
  LatencyFilter(size_t window, double percentile);

  double add(double rtt_ms);
  size_t size() const { return samples_.size(); }
  double value() const;  // the current percentile; 0 when empty

 private:
  size_t window_;
  double percentile_;
  std::deque<double> samples_;
};

}  // namespace xop
