#include "coord/latency_filter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace xop {

LatencyFilter::LatencyFilter(size_t window, double percentile)
    : window_(std::max<size_t>(window, 1)), percentile_(std::clamp(percentile, 0.0, 1.0)) {}

double LatencyFilter::add(double rtt_ms) {
  samples_.push_back(rtt_ms);
  while (samples_.size() > window_) samples_.pop_front();
  return value();
}

double LatencyFilter::value() const {
  if (samples_.empty()) return 0;
  std::vector<double> sorted(samples_.begin(), samples_.end());
  std::sort(sorted.begin(), sorted.end());
  const auto rank = static_cast<size_t>(std::floor(percentile_ * static_cast<double>(sorted.size() - 1)));
  return sorted[rank];
}

}  // namespace xop
