// XisService without HTTP: soft state on simulated time, and signature checks.
#include "xis/xis_service.h"

#include <gtest/gtest.h>

#include "xis_test_util.h"

namespace xop {
namespace {

using testing::AdvertSpec;

class XisServiceTest : public ::testing::Test {
 protected:
  XisServiceTest() : svc_(opts(), clock_) {}
  static XisOptions opts() {
    XisOptions o;
    o.max_ttl_ms = 60'000;
    o.max_adverts = 3;
    return o;
  }
  AdvertSpec spec(const std::string& name, int64_t ttl_ms = 10'000) const {
    AdvertSpec s;
    s.name = name;
    s.issued_at = clock_.now_ms();
    s.ttl_ms = ttl_ms;
    return s;
  }
  SearchQuery any() const {
    SearchQuery q;
    q.count = 100;
    return q;
  }

  SimulatedClock clock_;
  XisService svc_;
};

TEST_F(XisServiceTest, AdvertExpiresUnlessRefreshed) {
  const auto k = KeyPair::generate();
  ASSERT_TRUE(svc_.accept(testing::signed_advert(k, spec("a", 10'000))));
  EXPECT_EQ(svc_.live_adverts(), 1u);
  EXPECT_EQ(svc_.search(any()).candidates.size(), 1u);
  clock_.advance_ms(9'999);
  EXPECT_EQ(svc_.live_adverts(), 1u);
  clock_.advance_ms(1);
  EXPECT_EQ(svc_.live_adverts(), 0u);
  const auto r = svc_.search(any());
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_TRUE(r.rejected.empty());
}

TEST_F(XisServiceTest, RefreshExtendsTheExpiry) {
  const auto k = KeyPair::generate();
  ASSERT_TRUE(svc_.accept(testing::signed_advert(k, spec("a", 10'000))));
  clock_.advance_ms(8'000);
  auto newer = spec("a-renamed", 10'000);
  ASSERT_TRUE(svc_.accept(testing::signed_advert(k, newer)));
  clock_.advance_ms(9'000);  // 17 s after the first advert: only the refresh keeps it alive
  EXPECT_EQ(svc_.live_adverts(), 1u);
  const auto r = svc_.search(any());
  ASSERT_EQ(r.candidates.size(), 1u);
  EXPECT_EQ(r.candidates[0].advert.name, "a-renamed");  // replaced, not duplicated
  clock_.advance_ms(1'000);
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisServiceTest, TtlIsCappedByOptions) {
  const auto k = KeyPair::generate();
  ASSERT_TRUE(svc_.accept(testing::signed_advert(k, spec("a", 3'600'000))));
  clock_.advance_ms(59'999);
  EXPECT_EQ(svc_.live_adverts(), 1u);
  clock_.advance_ms(1);
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisServiceTest, StaleAdvertsAreRefused) {
  const auto k = KeyPair::generate();
  auto s = spec("first");
  ASSERT_TRUE(svc_.accept(testing::signed_advert(k, s)));
  // The same issued_at again (even with other content), and an older one: 409.
  s.name = "second";
  auto same = svc_.accept(testing::signed_advert(k, s));
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, ErrorCode::kConflict);
  EXPECT_EQ(same.error().http_status(), 409);
  s.issued_at -= 1;
  auto older = svc_.accept(testing::signed_advert(k, s));
  ASSERT_FALSE(older);
  EXPECT_EQ(older.error().code, ErrorCode::kConflict);
  EXPECT_EQ(svc_.search(any()).candidates.at(0).advert.name, "first");

  // Stale also after expiry while the old advert is still remembered.
  clock_.advance_ms(10'000);
  EXPECT_EQ(svc_.live_adverts(), 0u);
  auto after = svc_.accept(testing::signed_advert(k, s));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::kConflict);

  // An advert issued longer ago than the maximum ttl can only be a replay.
  auto k2 = KeyPair::generate();
  auto ancient = spec("ancient");
  ancient.issued_at = clock_.now_ms() - 60'001;
  auto r = svc_.accept(testing::signed_advert(k2, ancient));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  // And one from far in the future is refused as invalid.
  auto future = spec("future");
  future.issued_at = clock_.now_ms() + 3'600'000;
  r = svc_.accept(testing::signed_advert(k2, future));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisServiceTest, CapacityBoundRefusesNewServersOnly) {
  std::vector<KeyPair> keys;
  for (int i = 0; i < 3; ++i) {
    keys.push_back(KeyPair::generate());
    ASSERT_TRUE(svc_.accept(testing::signed_advert(keys.back(), spec("s" + std::to_string(i)))));
  }
  const auto extra = KeyPair::generate();
  auto r = svc_.accept(testing::signed_advert(extra, spec("extra")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(r.error().http_status(), 503);
  // Known servers still refresh.
  clock_.advance_ms(5'000);
  ASSERT_TRUE(svc_.accept(testing::signed_advert(keys[0], spec("s0"))));
  EXPECT_EQ(svc_.live_adverts(), 3u);
  // Once the others expire, their room is given to a new server.
  clock_.advance_ms(6'000);
  EXPECT_EQ(svc_.live_adverts(), 1u);
  ASSERT_TRUE(svc_.accept(testing::signed_advert(extra, spec("extra"))));
  EXPECT_EQ(svc_.live_adverts(), 2u);
}

TEST_F(XisServiceTest, AdvertSignedByAnotherKeyThanItNamesIsRefused) {
  const auto server = KeyPair::generate();
  const auto other = KeyPair::generate();
  const Advert a = testing::make_advert(server, spec("a"));
  auto r = svc_.accept(testing::sign_advert(other, a));  // names `server`, signed by `other`
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisServiceTest, TamperedAdvertIsRefused) {
  const auto k = KeyPair::generate();
  auto doc = testing::signed_advert(k, spec("a"));
  doc.body["free"]["cpu_millis"] = 1'000'000;  // after signing
  auto r = svc_.accept(doc);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisServiceTest, PriceSheetOfAnotherServerIsRefused) {
  const auto k = KeyPair::generate();
  const auto other = KeyPair::generate();
  Advert a = testing::make_advert(k, spec("a"));
  a.price_sheet = testing::signed_price_sheet(other, clock_.now_ms(), testing::rates_per_core_hour(1));
  EXPECT_FALSE(svc_.accept(testing::sign_advert(k, a)));
  // A price sheet naming this server but signed by another key.
  a.price_sheet = testing::signed_price_sheet(other, clock_.now_ms(), testing::rates_per_core_hour(1), k.account_id());
  auto r = svc_.accept(testing::sign_advert(k, a));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  // A document of the wrong type.
  auto wrong = *SignedDoc::sign("price_sheet", to_json(testing::make_advert(k, spec("a"))), k);
  EXPECT_FALSE(svc_.accept(wrong));
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisServiceTest, SearchUsesThePriceSheetOfEachAdvert) {
  const auto k = KeyPair::generate();
  auto s = spec("a");
  s.rates = testing::rates_per_core_hour(4'000'000);
  ASSERT_TRUE(svc_.accept(testing::signed_advert(k, s)));
  SearchQuery q;
  q.min.cpu_millis = 250;
  const auto r = svc_.search(q);
  ASSERT_EQ(r.candidates.size(), 1u);
  EXPECT_EQ(r.candidates[0].price_per_hour, Money::micros(1'000'000));
}

}  // namespace
}  // namespace xop
