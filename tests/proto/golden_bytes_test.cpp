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
            "{\"issued_at\":1700000000000,\"rates\":{\"cpu_reserve_per_core_hour\":1000000,"
            "\"cpu_use_per_core_hour\":900000,\"disk_io_per_gib\":20000,"
            "\"disk_reserve_per_gib_hour\":10000,\"memory_reserve_per_gib_hour\":200000,"
            "\"memory_use_per_gib_hour\":100000,\"net_io_per_gib\":50000,"
            "\"net_reserve_per_mbps_hour\":5000},\"server\":\"" +
                server.account_id() + "\"}");
  EXPECT_EQ(sha256_hex(canonical(to_json(p))), "41b3b6011509bcc9ddc9fc8140898ba7753ef579936d4bbb9a21565611c50557");
}

TEST(GoldenBytesTest, PurchaseOrder) {
  const auto po = testing::sample_po(key_from_byte('u'), key_from_byte('s'));
  EXPECT_EQ(sha256_hex(canonical(to_json(po))), "485484e8e0bedfaf4fb92d7e0eeec628c1f3c58b3827189d70b3427cab8ca1be");
}

TEST(GoldenBytesTest, UsageRecordAndBatch) {
  auto last = testing::sample_record(2);
  last.final = true;
  EXPECT_EQ(sha256_hex(canonical(to_json(testing::sample_record(1)))),
            "031abad58089714843396b0776fbd366e35b3743a61786b8c853f3afcca585ca");
  const UsageBatch b{key_from_byte('s').account_id(), 1'700'000'100'000, {testing::sample_record(1), last}};
  EXPECT_EQ(sha256_hex(canonical(to_json(b))), "274a56faf5e5f83108a890273b4cf7e3a69e836965686e2370d46440a8bd6240");
  const UsageBatch heartbeat{key_from_byte('s').account_id(), 1'700'000'100'000, {}};
  EXPECT_EQ(sha256_hex(canonical(to_json(heartbeat))),
            "038c0ea9143225ab9ba66c08ab0ac9b2741fe4a4a5e421f693810cb4000f1d1b");
}

TEST(GoldenBytesTest, Advert) {
  auto a = testing::sample_advert(key_from_byte('s'));
  EXPECT_EQ(sha256_hex(canonical(to_json(a))), "86bdb7d2c5e3bb32ce7a9d33b88cb461de0a92648e48efbd9a55f25081fbcd2a");
  a.images_total = 7;  // the list is truncated: images_total goes on the wire
  EXPECT_EQ(sha256_hex(canonical(to_json(a))), "89d7a5d91defa4a7d9ede9b720d1937fadcef97046751e71e2e1a3f4460d29fa");
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
  EXPECT_EQ(sha256_hex(canonical(to_json(q))), "27959064afef740e70e2604d506de046c706d047b065b6e4082fbfc986182a09");
  EXPECT_EQ(sha256_hex(canonical(to_json(SearchQuery{}))),
            "f76ba2f4c8d6696d7fb24a9612d2e03b0732e3d6794dec8a033e4db460b84dd8");
}

}  // namespace
}  // namespace xop
