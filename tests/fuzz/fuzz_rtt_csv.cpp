// Fuzz target: parse_rtt_csv (coord/rtt_csv.h) and build_rtt_matrix on arbitrary bytes. Input
// that parses yields finite, in-range rows and a symmetric matrix; anything else is an
// invalid_argument error with a message.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "coord/rtt_csv.h"
#include "coord/rtt_matrix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = xop::parse_rtt_csv(text);
  if (!r) {
    if (r.error().code != xop::ErrorCode::kInvalidArgument || r.error().message.empty()) std::abort();
    return 0;
  }
  for (const auto& row : r->pairs) {
    if (row.a == row.b || row.count < 1) std::abort();
    for (double v : {row.avg_ms, row.min_ms}) {
      if (!std::isfinite(v) || v < 0 || v > xop::kMaxRttCsvMs) std::abort();
    }
    for (double v : {row.std_ms, row.max_ms}) {
      if (!std::isfinite(v) || v < 0 || v > xop::kMaxRttCsvRawMs) std::abort();
    }
  }
  const auto m = xop::build_rtt_matrix(*r, 1, 0.5);
  for (size_t i = 0; i < m.size(); ++i) {
    if (m.has(i, i)) std::abort();
    for (size_t j : m.peers(i)) {
      if (m.rtt(i, j) != m.rtt(j, i) || m.rtt(i, j) < 0.5) std::abort();
    }
  }
  return 0;
}
