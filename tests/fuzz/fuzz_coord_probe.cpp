// Fuzz target: the coordinate probe datagrams (proto/coord_probe.h) on arbitrary bytes. What
// parses is exactly kProbePacketBytes long, re-encodes to the same bytes, and carries a
// coordinate within AdvertCoord's bounds that validate_coordinate accepts; anything else is an
// invalid_argument error with a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/coord_probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view p(reinterpret_cast<const char*>(data), size);
  auto check_error = [](const xop::Error& e) {
    if (e.code != xop::ErrorCode::kInvalidArgument || e.message.empty()) std::abort();
  };
  if (auto r = xop::parse_probe_request(p); r) {
    if (p.size() != xop::kProbePacketBytes || xop::encode_probe_request(*r) != p) std::abort();
  } else {
    check_error(r.error());
  }
  if (auto a = xop::parse_probe_answer(p); a) {
    if (p.size() != xop::kProbePacketBytes || xop::encode_probe_answer(*a) != p) std::abort();
    if (a->coord) {
      if (a->coord->vec_us.empty() || a->coord->vec_us.size() > xop::kMaxCoordDims) std::abort();
      if (!xop::validate_coordinate(xop::coordinate_of(*a->coord))) std::abort();
    }
  } else {
    check_error(a.error());
  }
  return 0;
}
