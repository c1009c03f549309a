#include "xis/ranking.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "proto/charge.h"
#include "xis_test_util.h"

namespace xop {
namespace {

using testing::AdvertSpec;
using testing::kGiB;

constexpr TimeMs kNow = 1'700'000'000'000;
constexpr TimeMs kLive = kNow + 30'000;

class RankingTest : public ::testing::Test {
 protected:
  // Adds a live advert with `spec` under a fresh key and returns its server id.
  std::string add(AdvertSpec spec, TimeMs expires_at = kLive) {
    auto k = KeyPair::generate();
    store_.push_back(std::make_unique<StoredAdvert>(testing::stored(k, spec, expires_at)));
    return k.account_id();
  }
  SearchResult rank(const SearchQuery& q, TimeMs now = kNow) const {
    std::vector<const StoredAdvert*> ptrs;
    for (const auto& s : store_) ptrs.push_back(s.get());
    return rank_adverts(ptrs, q, now);
  }
  static std::vector<std::string> names(const SearchResult& r) {
    std::vector<std::string> out;
    for (const auto& c : r.candidates) out.push_back(c.advert.name);
    return out;
  }
  static std::string reason_of(const SearchResult& r, const std::string& server) {
    for (const auto& x : r.rejected) {
      if (x.server == server) return x.reason;
    }
    return "<not rejected>";
  }

  std::vector<std::unique_ptr<StoredAdvert>> store_;
};

SearchQuery near(GeoPoint p, int64_t count = 10) {
  SearchQuery q;
  q.near = p;
  q.count = count;
  q.min.cpu_millis = 500;
  return q;
}

TEST_F(RankingTest, NearestFirst) {
  add({.name = "tokyo", .location = testing::kTokyo});
  add({.name = "paris", .location = testing::kParis});
  add({.name = "london", .location = testing::kLondon});
  add({.name = "newyork", .location = testing::kNewYork});
  const auto r = rank(near(testing::kLondon));
  EXPECT_EQ(names(r), (std::vector<std::string>{"london", "paris", "newyork", "tokyo"}));
  EXPECT_TRUE(r.rejected.empty());
  ASSERT_EQ(r.candidates.size(), 4u);
  EXPECT_NEAR(r.candidates[0].distance_km, 0.0, 1e-9);
  EXPECT_NEAR(r.candidates[1].distance_km, 343.5, 2.0);  // London-Paris
  EXPECT_NEAR(r.candidates[2].distance_km, 5570, 20);    // London-New York
  EXPECT_EQ(r.candidates[0].price_per_hour, Money::micros(500'000));
  // The signed document is returned verbatim and still verifies.
  EXPECT_TRUE(verify_advert(r.candidates[0].advert_doc).has_value());

  const auto from_tokyo = rank(near(testing::kTokyo));
  EXPECT_EQ(names(from_tokyo).front(), "tokyo");
}

TEST_F(RankingTest, PriceCeilingRejectsWithReason) {
  add({.name = "cheap", .rates = testing::rates_per_core_hour(1'000'000)});
  const auto dear = add({.name = "dear", .rates = testing::rates_per_core_hour(2'000'000)});
  SearchQuery q;
  q.min.cpu_millis = 1000;
  q.max_price_per_hour = Money::micros(1'000'000);
  const auto r = rank(q);
  EXPECT_EQ(names(r), std::vector<std::string>{"cheap"});
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].server, dear);
  EXPECT_EQ(r.rejected[0].name, "dear");
  EXPECT_EQ(r.rejected[0].reason, "price 2.000000/h above ceiling 1.000000/h");

  // A price exactly at the ceiling is accepted.
  q.max_price_per_hour = Money::micros(2'000'000);
  EXPECT_EQ(rank(q).candidates.size(), 2u);
}

TEST_F(RankingTest, ResourceMinimums) {
  const auto small = add({.name = "small", .free = {200, 8 * kGiB, 0, 0}});
  add({.name = "big", .free = {4000, 8 * kGiB, 0, 0}});
  SearchQuery q;
  q.min.cpu_millis = 500;
  auto r = rank(q);
  EXPECT_EQ(names(r), std::vector<std::string>{"big"});
  EXPECT_EQ(reason_of(r, small), "needs 500 cpu_millis, 200 free");

  // Every shortfall is named; exact fits are accepted.
  q.min = {200, 16 * kGiB, 1, 0};
  r = rank(q);
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_EQ(reason_of(r, small), "needs 17179869184 memory_bytes, 8589934592 free; needs 1 disk_bytes, 0 free");
}

TEST_F(RankingTest, SandboxFilter) {
  const auto vm = add({.name = "vm", .sandboxes = {"qemu"}});
  add({.name = "both", .sandboxes = {"qemu", "runc"}});
  SearchQuery q;
  q.sandbox = "runc";
  const auto r = rank(q);
  EXPECT_EQ(names(r), std::vector<std::string>{"both"});
  EXPECT_EQ(reason_of(r, vm), "no sandbox runc");
  q.sandbox.reset();
  EXPECT_EQ(rank(q).candidates.size(), 2u);
}

TEST_F(RankingTest, SeveralReasonsAreAllGiven) {
  const auto s =
      add({.name = "x", .free = {100, 0, 0, 0}, .rates = testing::rates_per_core_hour(9'000'000), .sandboxes = {}});
  SearchQuery q;
  q.min.cpu_millis = 1000;
  q.sandbox = "runc";
  q.max_price_per_hour = Money::micros(1);
  EXPECT_EQ(reason_of(rank(q), s),
            "needs 1000 cpu_millis, 100 free; no sandbox runc; price 9.000000/h above ceiling 0.000001/h");
}

TEST_F(RankingTest, CountCutNamesTheCut) {
  const auto london = add({.name = "london", .location = testing::kLondon});
  const auto paris = add({.name = "paris", .location = testing::kParis});
  const auto ny = add({.name = "newyork", .location = testing::kNewYork});
  const auto tokyo = add({.name = "tokyo", .location = testing::kTokyo});
  const auto small = add({.name = "small", .location = testing::kLondon, .free = {1, 0, 0, 0}});
  const auto r = rank(near(testing::kLondon, 2));
  EXPECT_EQ(names(r), (std::vector<std::string>{"london", "paris"}));
  ASSERT_EQ(r.rejected.size(), 3u);
  EXPECT_EQ(reason_of(r, ny), "not among the 2 nearest");
  EXPECT_EQ(reason_of(r, tokyo), "not among the 2 nearest");
  EXPECT_EQ(reason_of(r, small), "needs 500 cpu_millis, 1 free");
  EXPECT_EQ(reason_of(r, london), "<not rejected>");
  EXPECT_EQ(reason_of(r, paris), "<not rejected>");
  // Rejections are ordered by server id.
  EXPECT_TRUE(std::is_sorted(r.rejected.begin(), r.rejected.end(),
                             [](const Rejection& a, const Rejection& b) { return a.server < b.server; }));

  SearchQuery cheapest;
  cheapest.count = 1;
  const auto c = rank(cheapest);
  ASSERT_EQ(c.candidates.size(), 1u);
  int cut = 0;
  for (const auto& x : c.rejected) cut += x.reason == "not among the 1 cheapest" ? 1 : 0;
  EXPECT_EQ(cut, 4);  // all 5 fit (no minimum), one is kept
}

TEST_F(RankingTest, NoQueryPointOrdersByPriceThenServer) {
  add({.name = "mid", .location = testing::kTokyo, .rates = testing::rates_per_core_hour(2'000'000)});
  add({.name = "cheap", .location = testing::kNewYork, .rates = testing::rates_per_core_hour(1'000'000)});
  add({.name = "dear", .location = testing::kLondon, .rates = testing::rates_per_core_hour(3'000'000)});
  SearchQuery q;
  q.min.cpu_millis = 1000;
  const auto r = rank(q);
  EXPECT_EQ(names(r), (std::vector<std::string>{"cheap", "mid", "dear"}));
  for (const auto& c : r.candidates) EXPECT_EQ(c.distance_km, 0.0);
  EXPECT_EQ(r.candidates[0].price_per_hour, Money::micros(1'000'000));
}

TEST_F(RankingTest, TiesAreBrokenByServerIdWhateverTheInputOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(add({.name = "twin" + std::to_string(i)}));
  std::sort(ids.begin(), ids.end());
  const auto q = near(testing::kParis, 5);
  std::vector<const StoredAdvert*> ptrs;
  for (const auto& s : store_) ptrs.push_back(s.get());
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(ptrs.begin(), ptrs.end(), rng);
    const auto r = rank_adverts(ptrs, q, kNow);
    ASSERT_EQ(r.candidates.size(), 5u);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(r.candidates[i].advert.server, ids[i]);
    ASSERT_EQ(r.rejected.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.rejected[i].server, ids[5 + i]);
  }
}

TEST_F(RankingTest, ExpiredAdvertsAreNeitherCandidatesNorRejected) {
  add({.name = "gone"}, kNow);  // expires exactly now
  add({.name = "gone-small", .free = {1, 0, 0, 0}}, kNow - 1);
  add({.name = "alive"}, kNow + 1);
  const auto r = rank(near(testing::kLondon));
  EXPECT_EQ(names(r), std::vector<std::string>{"alive"});
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_TRUE(rank(near(testing::kLondon), kNow + 1).candidates.empty());
}

TEST_F(RankingTest, UnpriceableQueryIsARejectionNotACrash) {
  const auto s = add({.name = "x", .free = {kMaxCpuMillis * 2, 0, 0, 0}});
  SearchQuery q;
  q.min.cpu_millis = kMaxCpuMillis + 1;
  const auto r = rank(q);
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_EQ(reason_of(r, s).rfind("price cannot be computed", 0), 0u) << reason_of(r, s);
}

TEST_F(RankingTest, EveryLiveServerIsAccountedForExactlyOnce) {
  std::mt19937_64 rng(1234);
  std::set<std::string> all;
  for (int i = 0; i < 60; ++i) {
    AdvertSpec s;
    s.name = "s" + std::to_string(i);
    s.location = {static_cast<int64_t>(rng() % 180'000'000) - 90'000'000,
                  static_cast<int64_t>(rng() % 360'000'000) - 180'000'000};
    s.free = {static_cast<int64_t>(rng() % 4000), static_cast<int64_t>(rng() % (8 * kGiB)), 0, 0};
    s.rates = testing::rates_per_core_hour(static_cast<int64_t>(rng() % 3'000'000));
    if (rng() % 4 == 0) s.sandboxes = {"qemu"};
    all.insert(add(s));
  }
  for (int round = 0; round < 30; ++round) {
    SearchQuery q;
    q.min = {static_cast<int64_t>(rng() % 3000), static_cast<int64_t>(rng() % (4 * kGiB)), 0, 0};
    q.count = 1 + static_cast<int64_t>(rng() % 20);
    if (rng() % 2) q.near = GeoPoint{0, static_cast<int64_t>(rng() % 100'000'000)};
    if (rng() % 2) q.max_price_per_hour = Money::micros(static_cast<int64_t>(rng() % 3'000'000));
    if (rng() % 2) q.sandbox = "runc";
    const auto r = rank(q);
    std::multiset<std::string> seen;
    for (const auto& c : r.candidates) {
      seen.insert(c.advert.server);
      EXPECT_TRUE(c.advert.free.covers(q.min));
      if (q.max_price_per_hour) {
        EXPECT_LE(c.price_per_hour, *q.max_price_per_hour);
      }
    }
    for (const auto& x : r.rejected) {
      seen.insert(x.server);
      EXPECT_FALSE(x.reason.empty());
    }
    EXPECT_EQ(seen, std::multiset<std::string>(all.begin(), all.end()));
    EXPECT_LE(r.candidates.size(), static_cast<size_t>(q.count));
    for (size_t i = 1; i < r.candidates.size(); ++i) {
      const auto& a = r.candidates[i - 1];
      const auto& b = r.candidates[i];
      EXPECT_TRUE(std::tie(a.distance_km, a.price_per_hour, a.advert.server) <
                  std::tie(b.distance_km, b.price_per_hour, b.advert.server));
    }
  }
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

AdvertCoord coord_at(double x, double height) {
  Coordinate c;
  c.vec = {x};
  c.height = height;
  c.error = 0.2;
  return advert_coord_of(c);
}

class RankingRttTest : public RankingTest {};

TEST_F(RankingRttTest, EstimatedRttOrdersBeforeDistanceAndPriceAndAnExpiredReferenceIsNoReference) {
  AdvertSpec far;
  far.name = "far-cheap";
  far.location = testing::kParis;
  far.rates = testing::rates_per_core_hour(1);
  far.coord = coord_at(100, 1);
  AdvertSpec near;
  near.name = "near-dear";
  near.location = testing::kTokyo;
  near.rates = testing::rates_per_core_hour(9'000'000);
  near.coord = coord_at(10, 1);
  add(far);
  const std::string near_id = add(near);
  AdvertSpec gone = near;
  gone.name = "gone";
  const std::string gone_id = add(gone, kNow);  // expires now: not live
  SearchQuery q;
  q.near = testing::kParis;
  EXPECT_EQ(names(rank(q)), (std::vector<std::string>{"far-cheap", "near-dear"}));  // geography
  EXPECT_FALSE(rank(q).candidates[0].est_rtt_us);
  q.rtt_from_coord = coord_at(0, 1);
  const auto r = rank(q);
  EXPECT_EQ(names(r), (std::vector<std::string>{"near-dear", "far-cheap"}));
  EXPECT_EQ(r.candidates[0].est_rtt_us, 12'000);
  EXPECT_EQ(r.candidates[1].est_rtt_us, 102'000);
  q.rtt_from_coord.reset();
  q.rtt_from_server = near_id;
  EXPECT_EQ(names(rank(q)), (std::vector<std::string>{"near-dear", "far-cheap"}));
  q.rtt_from_server = gone_id;
  const auto none = rank(q);
  EXPECT_TRUE(none.candidates.empty());
  ASSERT_EQ(none.rejected.size(), 2u);
  EXPECT_EQ(none.rejected[0].reason, "reference server " + gone_id + " has no live advert");
}

}  // namespace
}  // namespace xop
