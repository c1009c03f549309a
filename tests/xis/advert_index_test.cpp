// The store's nearest-first visits (xis/advert_index.h) against a brute-force sort of its live
// adverts: the same adverts in exactly the same order with exactly the same distances, on random
// data with refreshes that move servers, expiry and drops, ties included.
#include "xis/advert_index.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <tuple>

#include "xis/advert_store.h"

namespace xop {
namespace {

constexpr TimeMs kT0 = 1'700'000'000'000;

struct Visit {
  std::string server;
  double distance;
  friend bool operator==(const Visit&, const Visit&) = default;
};

void PrintTo(const Visit& v, std::ostream* os) { *os << v.server << "@" << v.distance; }

class RandomWorld {
 public:
  explicit RandomWorld(uint64_t seed) : rng_(seed) {}

  GeoPoint random_location() {
    // A few shared spots (exact ties), poles and the date line, and anywhere.
    static const GeoPoint spots[] = {{51'507'400, -127'800},    {90'000'000, 0},   {-90'000'000, 17},
                                     {0, 180'000'000},          {0, -180'000'000}, {35'676'200, 139'650'300},
                                     {-33'868'800, 151'209'300}};
    if (rng_() % 4 == 0) return spots[rng_() % std::size(spots)];
    return GeoPoint{static_cast<int64_t>(rng_() % 180'000'001) - 90'000'000,
                    static_cast<int64_t>(rng_() % 360'000'001) - 180'000'000};
  }

  std::optional<AdvertCoord> random_coord() {
    const uint64_t r = rng_() % 10;
    if (r == 0) return std::nullopt;
    AdvertCoord c;
    // Mostly 3-D; some 2-D, 4-D and 5-D (each its own trees, not comparable with the others).
    const size_t dims = r == 1 ? 2 : r == 4 ? 4 : r == 5 ? 5 : 3;
    for (size_t i = 0; i < dims; ++i) c.vec_us.push_back(static_cast<int64_t>(rng_() % 400'000) - 200'000);
    if (r == 2) c.vec_us.assign(dims, 10'000);  // shared points (ties)
    // Heights: small, around the linear/log band edge, and large.
    const uint64_t h = rng_() % 3;
    c.height_us = h == 0   ? static_cast<int64_t>(rng_() % 5'000)
                  : h == 1 ? 15'000 + static_cast<int64_t>(rng_() % 3'000)
                           : static_cast<int64_t>(rng_() % 300'000);
    if (r == 3) c.height_us = 16'000;  // exactly on a band edge
    c.error_ppm = 200'000;
    return c;
  }

  Advert advert(int id, TimeMs issued_at) {
    Advert a;
    a.server = fmt::format("s{:05d}", id);
    a.name = a.server;
    a.endpoint = "http://" + a.server + ".test:7000";
    a.location = random_location();
    a.coord = random_coord();
    a.issued_at = issued_at;
    a.ttl_ms = 500 + static_cast<int64_t>(rng_() % 5'000);
    return a;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

std::vector<Visit> brute_geo(const AdvertStore& store, const GeoPoint& p, TimeMs now) {
  std::vector<Visit> v;
  store.with_live(now, [&](std::span<const StoredAdvert* const> live) {
    for (const StoredAdvert* s : live) v.push_back(Visit{s->advert.server, distance_km(p, s->advert.location)});
  });
  std::sort(v.begin(), v.end(), [](const Visit& a, const Visit& b) {
    return std::tie(a.distance, a.server) < std::tie(b.distance, b.server);
  });
  return v;
}

std::vector<Visit> brute_rtt(const AdvertStore& store, const Coordinate& c, TimeMs now) {
  std::vector<Visit> v;
  store.with_live(now, [&](std::span<const StoredAdvert* const> live) {
    for (const StoredAdvert* s : live) {
      if (!s->advert.coord || s->advert.coord->vec_us.size() != c.vec.size()) continue;
      v.push_back(Visit{s->advert.server, estimated_rtt_ms(c, coordinate_of(*s->advert.coord))});
    }
  });
  std::sort(v.begin(), v.end(), [](const Visit& a, const Visit& b) {
    return std::tie(a.distance, a.server) < std::tie(b.distance, b.server);
  });
  return v;
}

std::vector<Visit> visit_geo(const AdvertStore& store, const GeoPoint& p, TimeMs now, size_t limit = SIZE_MAX) {
  std::vector<Visit> v;
  store.visit_nearest_geo(p, now, [&](const StoredAdvert& s, double km) {
    v.push_back(Visit{s.advert.server, km});
    return v.size() < limit;
  });
  return v;
}

std::vector<Visit> visit_rtt(const AdvertStore& store, const Coordinate& c, TimeMs now, size_t limit = SIZE_MAX) {
  std::vector<Visit> v;
  store.visit_nearest_rtt(c, now, [&](const StoredAdvert& s, double ms) {
    v.push_back(Visit{s.advert.server, ms});
    return v.size() < limit;
  });
  return v;
}

AdvertStoreOptions roomy() {
  AdvertStoreOptions o;
  o.max_ttl_ms = 8'000;
  o.max_adverts = 100'000;
  o.max_bytes = size_t{1} << 30;
  o.purge_interval_ms = 1'000;
  return o;
}

size_t count_ties(const std::vector<Visit>& v) {
  size_t ties = 0;
  for (size_t i = 1; i < v.size(); ++i) ties += v[i].distance == v[i - 1].distance ? 1 : 0;
  return ties;
}

TEST(AdvertIndexTest, VisitsEqualBruteForceUnderRefreshesAndExpiry) {
  RandomWorld w(6);
  AdvertStore store(roomy());
  constexpr int kServers = 1'500;
  std::vector<TimeMs> last_issued(kServers, 0);
  TimeMs now = kT0;
  size_t checks = 0;
  size_t geo_ties = 0;
  size_t rtt_ties = 0;
  size_t expired_seen = 0;
  for (int round = 0; round < 12; ++round) {
    now += 700;
    // A third of the servers (re)advertise, some moving; the rest age and expire.
    for (int id = 0; id < kServers; ++id) {
      if (w.rng()() % 3 != 0) continue;
      Advert a = w.advert(id, now);
      ASSERT_TRUE(store.put(std::move(a), SignedDoc{}, Rates{}, now)) << id;
      last_issued[static_cast<size_t>(id)] = now;
    }
    const size_t live = store.live_count(now);
    expired_seen += store.entries() - live;
    for (int q = 0; q < 4; ++q) {
      const GeoPoint p = w.random_location();
      const auto brute = brute_geo(store, p, now);
      ASSERT_EQ(brute.size(), live);
      ASSERT_EQ(visit_geo(store, p, now), brute) << "round " << round << " query " << q;
      geo_ties += count_ties(brute);

      auto ac = w.random_coord();
      if (!ac) continue;
      const Coordinate c = coordinate_of(*ac);
      const auto rb = brute_rtt(store, c, now);
      ASSERT_EQ(visit_rtt(store, c, now), rb) << "round " << round << " query " << q;
      rtt_ties += count_ties(rb);
      ++checks;
    }
    // Later than now: adverts that have expired since the last write are skipped too.
    const auto later = brute_geo(store, GeoPoint{}, now + 2'000);
    ASSERT_EQ(visit_geo(store, GeoPoint{}, now + 2'000), later);
    ASSERT_LT(later.size(), live);
  }
  EXPECT_GT(checks, 20u);
  EXPECT_GT(geo_ties, 0u) << "the data should have exact ties, broken by server id";
  EXPECT_GT(rtt_ties, 0u);
  EXPECT_GT(expired_seen, 0u) << "some adverts should be held expired";
}

TEST(AdvertIndexTest, StoppingEarlyGivesThePrefix) {
  RandomWorld w(7);
  AdvertStore store(roomy());
  for (int id = 0; id < 500; ++id) ASSERT_TRUE(store.put(w.advert(id, kT0), SignedDoc{}, Rates{}, kT0));
  const GeoPoint p{48'856'600, 2'352'200};
  const auto all = visit_geo(store, p, kT0 + 1);
  const auto ten = visit_geo(store, p, kT0 + 1, 10);
  ASSERT_EQ(ten.size(), 10u);
  EXPECT_TRUE(std::equal(ten.begin(), ten.end(), all.begin()));
  Coordinate c;
  c.vec = {1.0, 2.0, 3.0};
  c.height = 0.5;
  const auto rall = visit_rtt(store, c, kT0 + 1);
  const auto rten = visit_rtt(store, c, kT0 + 1, 10);
  ASSERT_EQ(rten.size(), 10u);
  EXPECT_TRUE(std::equal(rten.begin(), rten.end(), rall.begin()));
  EXPECT_EQ(visit_geo(store, p, kT0 + 1, 1).size(), 1u);
}

TEST(AdvertIndexTest, RefreshMovesAnAdvertAndDropForgetsIt) {
  AdvertStore store(roomy());
  RandomWorld w(8);
  Advert a = w.advert(1, kT0);
  a.location = GeoPoint{0, 0};
  a.coord = AdvertCoord{{0, 0}, 0, 100'000};
  a.ttl_ms = 1'000;
  Advert b = w.advert(2, kT0);
  b.location = GeoPoint{10'000'000, 0};
  b.coord = AdvertCoord{{5'000, 0}, 0, 100'000};
  b.ttl_ms = 1'000;
  ASSERT_TRUE(store.put(a, SignedDoc{}, Rates{}, kT0));
  ASSERT_TRUE(store.put(b, SignedDoc{}, Rates{}, kT0));
  Coordinate origin;
  origin.vec = {0, 0};
  EXPECT_EQ(visit_geo(store, GeoPoint{0, 0}, kT0)[0].server, "s00001");
  EXPECT_EQ(visit_rtt(store, origin, kT0)[0].server, "s00001");
  // s00001 moves beyond s00002 (and its coordinate gains height).
  a.issued_at = kT0 + 10;
  a.location = GeoPoint{20'000'000, 0};
  a.coord = AdvertCoord{{0, 0}, 30'000, 100'000};
  ASSERT_TRUE(store.put(a, SignedDoc{}, Rates{}, kT0 + 10));
  auto g = visit_geo(store, GeoPoint{0, 0}, kT0 + 10);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].server, "s00002");
  EXPECT_EQ(g[1].server, "s00001");
  EXPECT_NEAR(g[1].distance, 2'223.9, 0.1);  // 20 degrees of latitude
  auto r = visit_rtt(store, origin, kT0 + 10);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].server, "s00002");
  EXPECT_DOUBLE_EQ(r[0].distance, 5.0);
  EXPECT_DOUBLE_EQ(r[1].distance, 30.0);
  // s00002 expires (at kT0 + 1000); a write after the purge interval purges it from the indexes,
  // and the store forgets it once it is older than max_ttl.
  Advert c = w.advert(3, kT0 + 1'500);
  ASSERT_TRUE(store.put(c, SignedDoc{}, Rates{}, kT0 + 1'500));
  g = visit_geo(store, GeoPoint{0, 0}, kT0 + 1'500);
  EXPECT_TRUE(std::none_of(g.begin(), g.end(), [](const Visit& v) { return v.server == "s00002"; }));
  EXPECT_TRUE(store.knows("s00002"));  // kept as a stale-check mark
  // A refresh of the expired advert indexes it again.
  b.issued_at = kT0 + 1'600;
  ASSERT_TRUE(store.put(b, SignedDoc{}, Rates{}, kT0 + 1'600));
  g = visit_geo(store, GeoPoint{0, 0}, kT0 + 1'600);
  EXPECT_TRUE(std::any_of(g.begin(), g.end(), [](const Visit& v) { return v.server == "s00002"; }));
  // Long after: dropped, nothing visited.
  const TimeMs late = kT0 + 100'000;
  ASSERT_TRUE(store.put(w.advert(4, late), SignedDoc{}, Rates{}, late));
  EXPECT_FALSE(store.knows("s00002"));
  g = visit_geo(store, GeoPoint{0, 0}, late);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].server, "s00004");
}

TEST(AdvertIndexTest, RttVisitsOnlyComparableCoordinates) {
  AdvertStore store(roomy());
  RandomWorld w(9);
  Advert two = w.advert(1, kT0);
  two.coord = AdvertCoord{{1'000, 1'000}, 0, 100'000};
  Advert three = w.advert(2, kT0);
  three.coord = AdvertCoord{{1'000, 1'000, 0}, 0, 100'000};
  Advert none = w.advert(3, kT0);
  none.coord.reset();
  for (auto* a : {&two, &three, &none}) ASSERT_TRUE(store.put(*a, SignedDoc{}, Rates{}, kT0));
  Coordinate c;
  c.vec = {0, 0, 0};
  auto r = visit_rtt(store, c, kT0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].server, "s00002");
  EXPECT_DOUBLE_EQ(r[0].distance, std::sqrt(2.0));
  c.vec = {0, 0};
  r = visit_rtt(store, c, kT0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].server, "s00001");
  // An invalid reference visits nothing.
  c.vec = {};
  EXPECT_TRUE(visit_rtt(store, c, kT0).empty());
  c.vec = {std::nan(""), 0};
  EXPECT_TRUE(visit_rtt(store, c, kT0).empty());
  EXPECT_EQ(visit_geo(store, GeoPoint{}, kT0).size(), 3u);
}

}  // namespace
}  // namespace xop
