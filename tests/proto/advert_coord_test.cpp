// The optional `coord` field of an advert: integer wire form, strict bounds, and adverts without
// one keep their canonical bytes (GoldenBytesTest.Advert pins those; this pins one with it).
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/canonical.h"
#include "crypto/digest.h"
#include "fixtures.h"

namespace xop {
namespace {

KeyPair key_from_byte(char b) { return *KeyPair::from_seed_base64(base64_encode(std::string(32, b))); }

Json advert_with_coord(const Json& coord) {
  Json j = to_json(testing::sample_advert(key_from_byte('s')));
  j["coord"] = coord;
  return j;
}

TEST(AdvertCoordTest, RoundTripsAndPinsItsBytes) {
  auto a = testing::sample_advert(key_from_byte('s'));
  EXPECT_FALSE(to_json(a).contains("coord"));  // absent: the bytes of GoldenBytesTest.Advert
  Coordinate c;
  c.vec = {12.3456, -7.0, 0.0004};
  c.height = 3.5;
  c.error = 0.125;
  a.coord = advert_coord_of(c);
  EXPECT_EQ(a.coord->vec_us, (std::vector<int64_t>{12346, -7000, 0}));
  const auto bytes = canonical_json(to_json(a));
  ASSERT_TRUE(bytes);
  EXPECT_NE(bytes->find("\"coord\":{\"error_ppm\":125000,\"height_us\":3500,\"vec_us\":[12346,-7000,0]}"),
            std::string::npos)
      << *bytes;
  EXPECT_EQ(sha256_hex(*bytes), "3e0abb2f16fc2b09ac9ed3084a7faaa312e0c8e4e402c90d18225ee4820eaa28");
  const auto back = advert_from_json(to_json(a));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->coord, a.coord);
  const Coordinate again = coordinate_of(*back->coord);
  EXPECT_TRUE(validate_coordinate(again));
  EXPECT_NEAR(again.vec[0], 12.346, 1e-9);
  EXPECT_DOUBLE_EQ(again.error, 0.125);
  // A signed advert with a coordinate verifies.
  const auto key = key_from_byte('s');
  const auto doc = SignedDoc::sign(kAdvertType, to_json(a), key);
  ASSERT_TRUE(doc);
  const auto verified = verify_advert(*doc);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->coord, a.coord);
}

TEST(AdvertCoordTest, RefusesMalformedCoordinates) {
  const Json good = {{"vec_us", {1000, -2000}}, {"height_us", 500}, {"error_ppm", 200000}};
  ASSERT_TRUE(advert_from_json(advert_with_coord(good)));
  auto refused = [&](const Json& coord, const std::string& fragment) {
    const auto r = advert_from_json(advert_with_coord(coord));
    ASSERT_FALSE(r) << coord.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
  };
  auto with = [&](const char* key, const Json& v) {
    Json c = good;
    c[key] = v;
    return c;
  };
  refused(with("vec_us", Json::array()), "vec_us: at least one");
  refused(with("vec_us", {1, 2, 3, 4, 5, 6, 7, 8, 9}), "vec_us");
  refused(with("vec_us", {1.5, 2}), "expected integers");
  refused(with("vec_us", {"1", 2}), "expected integers");
  refused(with("vec_us", Json::array({nullptr})), "expected integers");
  refused(with("vec_us", {uint64_t{1} << 63}), "expected integers");
  refused(with("vec_us", {int64_t{100'000'001}}), "within");
  refused(with("vec_us", {int64_t{-100'000'001}}), "within");
  refused(with("vec_us", 5), "vec_us");
  refused(with("height_us", -1), "height_us");
  refused(with("height_us", 1.5), "height_us");
  refused(with("height_us", int64_t{100'000'001}), "height_us");
  refused(with("error_ppm", 0), "error_ppm");
  refused(with("error_ppm", int64_t{10'000'001}), "error_ppm");
  refused(with("extra", 1), "extra");
  Json missing = good;
  missing.erase("error_ppm");
  refused(missing, "error_ppm");
  refused(Json::array(), "coord");
  refused("1,2", "coord");
}

}  // namespace
}  // namespace xop
