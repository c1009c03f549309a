// The coordinate probe datagrams (proto/coord_probe.h): exact layout, round trips, and strict
// refusal of everything else (wrong length, magic, version, kind, reserved or padding bytes,
// out-of-range coordinates).
#include "proto/coord_probe.h"

#include <gtest/gtest.h>

#include <string>

namespace xop {
namespace {

AdvertCoord sample_coord() {
  AdvertCoord c;
  c.vec_us = {12'345, -7'000, 0, 99'999'999};
  c.height_us = 3'500;
  c.error_ppm = 125'000;
  return c;
}

TEST(CoordProbeTest, RequestLayoutIsPinned) {
  const std::string p = encode_probe_request(ProbeRequest{0x0102030405060708ULL});
  ASSERT_EQ(p.size(), kProbePacketBytes);
  EXPECT_EQ(p.substr(0, 8), std::string("XOPC\x01\x01\x00\x00", 8));
  EXPECT_EQ(p.substr(8, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(p.substr(16), std::string(kProbePacketBytes - 16, '\0'));
  auto back = parse_probe_request(p);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->nonce, 0x0102030405060708ULL);
}

TEST(CoordProbeTest, AnswerRoundTripsWithAndWithoutCoordinate) {
  ProbeAnswer a{42, sample_coord()};
  const std::string p = encode_probe_answer(a);
  ASSERT_EQ(p.size(), kProbePacketBytes);  // never larger than the request
  EXPECT_EQ(static_cast<int>(p[6]), 4);
  auto back = parse_probe_answer(p);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->nonce, 42u);
  EXPECT_EQ(back->coord, a.coord);
  // Negative components survive the two's-complement wire form.
  EXPECT_EQ(back->coord->vec_us[1], -7000);

  auto none = parse_probe_answer(encode_probe_answer(ProbeAnswer{7, std::nullopt}));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->coord);

  AdvertCoord full;
  full.vec_us.assign(kMaxCoordDims, -1);
  full.height_us = 0;
  full.error_ppm = 1;
  auto eight = parse_probe_answer(encode_probe_answer(ProbeAnswer{1, full}));
  ASSERT_TRUE(eight) << eight.error().message;
  EXPECT_EQ(eight->coord->vec_us.size(), kMaxCoordDims);
}

void expect_refused(const std::string& p, const std::string& words, bool answer) {
  const Status s = answer ? parse_probe_answer(p).map([](auto&&) {}) : parse_probe_request(p).map([](auto&&) {});
  ASSERT_FALSE(s) << "accepted";
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find(words), std::string::npos) << s.error().message;
}

TEST(CoordProbeTest, RefusesMalformedRequests) {
  const std::string good = encode_probe_request(ProbeRequest{5});
  expect_refused("", "0 bytes", false);
  expect_refused(good.substr(0, 127), "127 bytes", false);
  expect_refused(good + std::string(1, '\0'), "129 bytes", false);                   // oversized
  expect_refused(std::string(65'507, 'A'), "65507 bytes", false);                    // the largest datagram
  expect_refused(encode_probe_answer(ProbeAnswer{5, std::nullopt}), "kind", false);  // an answer is no request
  std::string p = good;
  p[0] = 'Y';
  expect_refused(p, "magic", false);
  p = good;
  p[4] = 2;
  expect_refused(p, "version", false);
  p = good;
  p[6] = 1;
  expect_refused(p, "dims", false);
  p = good;
  p[7] = 1;
  expect_refused(p, "reserved", false);
  p = good;
  p[127] = 1;
  expect_refused(p, "padding", false);
}

TEST(CoordProbeTest, RefusesMalformedAnswers) {
  const std::string good = encode_probe_answer(ProbeAnswer{9, sample_coord()});
  expect_refused(encode_probe_request(ProbeRequest{9}), "kind", true);
  std::string p = good;
  p[6] = static_cast<char>(kMaxCoordDims + 1);
  expect_refused(p, "dims", true);
  p = good;
  p[6] = 3;  // says three components, carries four: the fourth is non-zero padding
  expect_refused(p, "padding", true);
  p = good;
  p[16] = static_cast<char>(0x80);  // negative height
  expect_refused(p, "height", true);
  p = good;
  for (int i = 24; i < 32; ++i) p[static_cast<size_t>(i)] = 0;  // error 0
  expect_refused(p, "error", true);
  AdvertCoord far = sample_coord();
  far.vec_us[0] = static_cast<int64_t>(kMaxCoordMs * 1000) + 1;
  expect_refused(encode_probe_answer(ProbeAnswer{1, far}), "component", true);
  p = good;
  p[100] = 1;
  expect_refused(p, "padding", true);
}

}  // namespace
}  // namespace xop
