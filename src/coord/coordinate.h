// A Vivaldi network coordinate: a point in a low-dimensional Euclidean space plus a height (the
// access-link delay every path to or from the node pays), in milliseconds, and the node's own
// estimate of its relative error. The estimated round-trip time between two nodes is the distance
// between their points plus both heights (Dabek et al., SIGCOMM 2004).
//
// Pure: no clock, I/O or randomness. Every value that crosses a trust boundary (an advert, a
// peer's answer) goes through validate_coordinate() before it is used.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"

namespace xop {

// Bounds of a coordinate anywhere in XOP (core, adverts, queries). A point component or a height
// beyond kMaxCoordMs is not a place on Earth's Internet (the longest measured paths are ~1.5 s).
inline constexpr size_t kMaxCoordDims = 8;
inline constexpr double kMaxCoordMs = 100'000.0;
// The error estimate is relative (|estimate - measured| / measured), kept within (0, kMaxCoordError].
inline constexpr double kMaxCoordError = 10.0;

struct Coordinate {
  std::vector<double> vec;  // 1..kMaxCoordDims components, ms
  double height = 0;        // >= 0, ms
  double error = 1.5;       // relative error estimate, (0, kMaxCoordError]
  friend bool operator==(const Coordinate&, const Coordinate&) = default;
};

// The origin of `dims` dimensions with the given height and error.
Coordinate origin_coordinate(size_t dims, double height, double error);

// OK when every component is finite and within bounds, dims is 1..kMaxCoordDims, height >= 0 and
// error in (0, kMaxCoordError]. The message names the offending part.
Status validate_coordinate(const Coordinate& c);

// Estimated round-trip time in ms: |a.vec - b.vec| + a.height + b.height. Requires equal dims
// (callers validate; mismatched dims give +infinity, which no comparison accepts).
double estimated_rtt_ms(const Coordinate& a, const Coordinate& b);

// |v| of a plain vector.
double magnitude(const std::vector<double>& v);

}  // namespace xop
