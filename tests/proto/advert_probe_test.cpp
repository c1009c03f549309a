// The optional `probe` field of an advert (where its coordinate probe responder listens): absent
// adverts keep their bytes, present ones round-trip, malformed addresses are refused.
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "fixtures.h"

namespace xop {
namespace {

KeyPair key_from_byte(char b) { return *KeyPair::from_seed_base64(base64_encode(std::string(32, b))); }

TEST(AdvertProbeTest, AbsentByDefaultAndRoundTrips) {
  auto a = testing::sample_advert(key_from_byte('p'));
  EXPECT_FALSE(to_json(a).contains("probe"));
  a.probe = "10.1.2.3:7402";
  const Json j = to_json(a);
  EXPECT_EQ(j["probe"], "10.1.2.3:7402");
  auto back = advert_from_json(j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->probe, a.probe);
  a.probe = "localhost:1";
  EXPECT_TRUE(advert_from_json(to_json(a)));
}

TEST(AdvertProbeTest, RefusesMalformedProbeAddresses) {
  for (const char* bad : {"", "10.1.2.3", "10.1.2.3:", "10.1.2.3:0", "10.1.2.3:65536", "10.1.2:80", "10.1.2.3.4:80",
                          "256.1.1.1:80", "example.com:80", "[::1]:80", "10.1.2.3:+80", ":80", "1..2.3:80"}) {
    Json j = to_json(testing::sample_advert(key_from_byte('p')));
    j["probe"] = bad;
    auto r = advert_from_json(j);
    EXPECT_FALSE(r) << "accepted " << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("probe"), std::string::npos) << r.error().message;
    }
  }
  Json j = to_json(testing::sample_advert(key_from_byte('p')));
  j["probe"] = std::string(65, '1');
  EXPECT_FALSE(advert_from_json(j));
  j["probe"] = 7402;
  EXPECT_FALSE(advert_from_json(j));
}

}  // namespace
}  // namespace xop
