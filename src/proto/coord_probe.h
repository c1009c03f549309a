// The coordinate probe: a UDP datagram a server (coord_prober) or `xop locate` sends to another
// server's probe responder, which answers at once with its current Vivaldi coordinate, so one
// exchange gives a sample (round-trip time, peer coordinate) for coord/vivaldi.h.
//
// Both datagrams are exactly kProbePacketBytes long: a request is padded to the size of the
// largest answer, so an answer is never larger than what provoked it (no amplification towards a
// spoofed source). Layout, integers big-endian (docs/formats.md, "Coordinate probe"):
//   0..3   magic "XOPC"
//   4      version (1)
//   5      kind: 1 request, 2 answer
//   6      dims: request 0; answer 0 (the responder has no coordinate yet) or 1..kMaxCoordDims
//   7      0
//   8..15  nonce (the answer echoes the request's)
//   answer with dims > 0: 16..23 height_us, 24..31 error_ppm, then dims int64 components (us)
//   the rest up to kProbePacketBytes: zero
// Parsing is strict: a datagram of any other length, magic, version or kind, a non-zero reserved
// or padding byte, or a coordinate out of AdvertCoord's bounds (proto/advert.h) is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "proto/advert.h"

namespace xop {

inline constexpr size_t kProbePacketBytes = 128;
inline constexpr uint8_t kProbeVersion = 1;

struct ProbeRequest {
  uint64_t nonce = 0;
};

struct ProbeAnswer {
  uint64_t nonce = 0;
  std::optional<AdvertCoord> coord;  // none: the responder has no coordinate yet
};

std::string encode_probe_request(const ProbeRequest& r);
// `a.coord`, when present, must be within AdvertCoord's bounds (advert_coord_of of a valid
// coordinate is); components beyond kMaxCoordDims are not sent.
std::string encode_probe_answer(const ProbeAnswer& a);
Result<ProbeRequest> parse_probe_request(std::string_view packet);
Result<ProbeAnswer> parse_probe_answer(std::string_view packet);

}  // namespace xop
