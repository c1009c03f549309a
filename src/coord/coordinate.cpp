#include "coord/coordinate.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace xop {

Coordinate origin_coordinate(size_t dims, double height, double error) {
  Coordinate c;
  c.vec.assign(dims, 0.0);
  c.height = height;
  c.error = error;
  return c;
}

Status validate_coordinate(const Coordinate& c) {
  if (c.vec.empty() || c.vec.size() > kMaxCoordDims) {
    return invalid(fmt::format("coordinate: {} dimensions, want 1..{}", c.vec.size(), kMaxCoordDims));
  }
  for (size_t i = 0; i < c.vec.size(); ++i) {
    if (!std::isfinite(c.vec[i]) || std::fabs(c.vec[i]) > kMaxCoordMs) {
      return invalid(fmt::format("coordinate: component {} is not a finite value within +-{} ms", i, kMaxCoordMs));
    }
  }
  if (!std::isfinite(c.height) || c.height < 0 || c.height > kMaxCoordMs) {
    return invalid(fmt::format("coordinate: height is not a finite value in [0, {}] ms", kMaxCoordMs));
  }
  if (!std::isfinite(c.error) || c.error <= 0 || c.error > kMaxCoordError) {
    return invalid(fmt::format("coordinate: error is not a finite value in (0, {}]", kMaxCoordError));
  }
  return ok_status();
}

double magnitude(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

double estimated_rtt_ms(const Coordinate& a, const Coordinate& b) {
  if (a.vec.size() != b.vec.size()) return std::numeric_limits<double>::infinity();
  double s = 0;
  for (size_t i = 0; i < a.vec.size(); ++i) {
    const double d = a.vec[i] - b.vec[i];
    s += d * d;
  }
  return std::sqrt(s) + a.height + b.height;
}

}  // namespace xop
