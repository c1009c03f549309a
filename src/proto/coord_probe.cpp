#include "proto/coord_probe.h"

#include <fmt/format.h>

#include <cstring>

namespace xop {
namespace {

constexpr char kMagic[4] = {'X', 'O', 'P', 'C'};
constexpr uint8_t kKindRequest = 1;
constexpr uint8_t kKindAnswer = 2;
constexpr size_t kHeaderBytes = 16;
constexpr int64_t kMaxUs = static_cast<int64_t>(kMaxCoordMs * 1000);
constexpr int64_t kMaxPpm = static_cast<int64_t>(kMaxCoordError * 1'000'000);
static_assert(kHeaderBytes + 16 + 8 * kMaxCoordDims <= kProbePacketBytes, "the largest answer must fit");

void put_u64(std::string& s, size_t at, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    s[at + static_cast<size_t>(7 - i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
}
uint64_t get_u64(std::string_view s, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

std::string header(uint8_t kind, uint8_t dims, uint64_t nonce) {
  std::string s(kProbePacketBytes, '\0');
  std::memcpy(s.data(), kMagic, 4);
  s[4] = static_cast<char>(kProbeVersion);
  s[5] = static_cast<char>(kind);
  s[6] = static_cast<char>(dims);
  put_u64(s, 8, nonce);
  return s;
}

// Checks what both kinds share; returns the dims byte.
Result<uint8_t> check_header(std::string_view p, uint8_t kind) {
  if (p.size() != kProbePacketBytes) {
    return invalid(fmt::format("probe packet: {} bytes, expected {}", p.size(), kProbePacketBytes));
  }
  if (std::memcmp(p.data(), kMagic, 4) != 0) return invalid("probe packet: bad magic");
  if (static_cast<uint8_t>(p[4]) != kProbeVersion) {
    return invalid(fmt::format("probe packet: version {}, expected {}", static_cast<int>(p[4]), kProbeVersion));
  }
  if (static_cast<uint8_t>(p[5]) != kind) {
    return invalid(fmt::format("probe packet: kind {}, expected {}", static_cast<int>(p[5]), kind));
  }
  if (p[7] != 0) return invalid("probe packet: reserved byte not zero");
  return static_cast<uint8_t>(p[6]);
}

Status check_padding(std::string_view p, size_t from) {
  for (size_t i = from; i < p.size(); ++i) {
    if (p[i] != 0) return invalid(fmt::format("probe packet: padding byte {} not zero", i));
  }
  return {};
}

}  // namespace

std::string encode_probe_request(const ProbeRequest& r) { return header(kKindRequest, 0, r.nonce); }

std::string encode_probe_answer(const ProbeAnswer& a) {
  if (!a.coord || a.coord->vec_us.empty()) return header(kKindAnswer, 0, a.nonce);
  const size_t dims = std::min(a.coord->vec_us.size(), kMaxCoordDims);
  std::string s = header(kKindAnswer, static_cast<uint8_t>(dims), a.nonce);
  put_u64(s, 16, static_cast<uint64_t>(a.coord->height_us));
  put_u64(s, 24, static_cast<uint64_t>(a.coord->error_ppm));
  for (size_t i = 0; i < dims; ++i) put_u64(s, 32 + 8 * i, static_cast<uint64_t>(a.coord->vec_us[i]));
  return s;
}

Result<ProbeRequest> parse_probe_request(std::string_view p) {
  XOP_ASSIGN_OR_RETURN(const uint8_t dims, check_header(p, kKindRequest));
  if (dims != 0) return invalid("probe request: dims must be 0");
  XOP_RETURN_IF_ERROR(check_padding(p, kHeaderBytes));
  return ProbeRequest{get_u64(p, 8)};
}

Result<ProbeAnswer> parse_probe_answer(std::string_view p) {
  XOP_ASSIGN_OR_RETURN(const uint8_t dims, check_header(p, kKindAnswer));
  if (dims > kMaxCoordDims) return invalid(fmt::format("probe answer: {} dims, at most {}", dims, kMaxCoordDims));
  ProbeAnswer a;
  a.nonce = get_u64(p, 8);
  if (dims == 0) {
    XOP_RETURN_IF_ERROR(check_padding(p, kHeaderBytes));
    return a;
  }
  AdvertCoord c;
  c.height_us = static_cast<int64_t>(get_u64(p, 16));
  c.error_ppm = static_cast<int64_t>(get_u64(p, 24));
  if (c.height_us < 0 || c.height_us > kMaxUs) return invalid("probe answer: height out of range");
  if (c.error_ppm < 1 || c.error_ppm > kMaxPpm) return invalid("probe answer: error out of range");
  for (size_t i = 0; i < dims; ++i) {
    const auto v = static_cast<int64_t>(get_u64(p, 32 + 8 * i));
    if (v < -kMaxUs || v > kMaxUs) return invalid("probe answer: component out of range");
    c.vec_us.push_back(v);
  }
  XOP_RETURN_IF_ERROR(check_padding(p, 32 + 8 * size_t{dims}));
  a.coord = std::move(c);
  return a;
}

}  // namespace xop
