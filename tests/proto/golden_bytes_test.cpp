// Pins the canonical bytes of every signed document's body. A signature covers
// canonical_json(body), so an encoder change that alters a single byte would break every
// signature already issued; these tests prove an encoder refactor byte-identical. Keys come from
// fixed seeds so that embedded signed documents (a PO's price sheet) are fixed too.
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/canonical.h"
#include "crypto/digest.h"
#include "fixtures.h"
#include "proto/blob_grant.h"
#include "proto/search.h"

namespace xop {
namespace {

KeyPair key_from_byte(char b) { return *KeyPair::from_seed_base64(base64_encode(std::string(32, b))); }

std::string canonical(const Json& j) {
  auto s = canonical_json(j);
  EXPECT_TRUE(s.has_value());
  return s.value_or("");
}

TEST(GoldenBytesTest, PriceSheet) {
  const auto server = key_from_byte('s');
  const PriceSheet p{server.account_id(), 1'700'000'000'000, testing::sample_rates()};
  EXPECT_EQ(canonical(to_json(p)),
            "{\"issued_at\":1700000000000,\"rates\":{\"cpu_reserve_per_core_hour_micros\":1000000,"
            "\"cpu_use_per_core_hour_micros\":900000,\"disk_io_per_gib_micros\":20000,"
            "\"disk_reserve_per_gib_hour_micros\":10000,\"memory_reserve_per_gib_hour_micros\":200000,"
            "\"memory_use_per_gib_hour_micros\":100000,\"net_io_per_gib_micros\":50000,"
            "\"net_reserve_per_mbps_hour_micros\":5000},\"server\":\"" +
                server.account_id() + "\"}");
  EXPECT_EQ(sha256_hex(canonical(to_json(p))), "81efd8e9185bc6a87f41709fb5027925755f6985d9064c9ec955ad03a9b9d832");
}

TEST(GoldenBytesTest, PurchaseOrder) {
  const auto po = testing::sample_po(key_from_byte('u'), key_from_byte('s'));
  EXPECT_EQ(sha256_hex(canonical(to_json(po))), "d0d72d4636dc1acb7f533acce5ef384279ae09f9c8d8ad3ec99291ccfa45ab50");
}

TEST(GoldenBytesTest, UsageRecordAndBatch) {
  auto last = testing::sample_record(2);
  last.final = true;
  EXPECT_EQ(sha256_hex(canonical(to_json(testing::sample_record(1)))),
            "d8879e03e889dddc57f2570276adfb1047e8b908817f7569e4ef1f55a95730b0");
  const UsageBatch b{key_from_byte('s').account_id(), 1'700'000'100'000, {testing::sample_record(1), last}};
  EXPECT_EQ(sha256_hex(canonical(to_json(b))), "b652109ef1f6839d2da2a6fedb9f131a31b3a7378a3cd571d582bfcc03f53e43");
  const UsageBatch heartbeat{key_from_byte('s').account_id(), 1'700'000'100'000, {}};
  EXPECT_EQ(sha256_hex(canonical(to_json(heartbeat))),
            "038c0ea9143225ab9ba66c08ab0ac9b2741fe4a4a5e421f693810cb4000f1d1b");
}

TEST(GoldenBytesTest, Advert) {
  auto a = testing::sample_advert(key_from_byte('s'));
  EXPECT_EQ(sha256_hex(canonical(to_json(a))), "75d8f42825032583993cca1c0c330bb531bcda4b7666a723ee49bc8266a1da00");
  a.images_total = 7;  // the list is truncated: images_total goes on the wire
  EXPECT_EQ(sha256_hex(canonical(to_json(a))), "0753ad9105b1b8ef5fb3667a034f4df6f83239b0fd151c259a2d699942e8f1d3");
}

TEST(GoldenBytesTest, BlobGrant) {
  const BlobGrant g{key_from_byte('u').account_id(),
                    key_from_byte('s').account_id(),
                    {"sha256:" + std::string(64, 'a'), "sha256:" + std::string(64, 'b')},
                    1'700'000'600'000};
  EXPECT_EQ(sha256_hex(canonical(to_json(g))), "41229fa8896bdf21fb3fe0dd5a8a5a9f8cb56a07dc94e054d275eb85c95ae802");
}

TEST(GoldenBytesTest, UnsignedDocuments) {
  EXPECT_EQ(sha256_hex(canonical(to_json(testing::sample_spec()))),
            "9e501f1fbabb60648046d7aa3f95e0b6df58b329742b64501ee800b1c02663c3");
  SearchQuery q;
  q.min = Resources{500, 64 << 20, 0, 0};
  q.max_price_per_hour = Money::micros(1'000'000);
  q.near = GeoPoint{52'205'000, 119'000};
  q.count = 3;
  q.sandbox = "runc";
  EXPECT_EQ(sha256_hex(canonical(to_json(q))), "6dd22ee29ab7fe4688c106391963be2f37170328260b3299af57b1e85f64cc60");
  EXPECT_EQ(sha256_hex(canonical(to_json(SearchQuery{}))),
            "f76ba2f4c8d6696d7fb24a9612d2e03b0732e3d6794dec8a033e4db460b84dd8");
}

}  // namespace
}  // namespace xop
