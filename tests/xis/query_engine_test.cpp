// The query engine (xis/query_engine.h): every predicate, nesting, ranking modes and ties, spread,
// explain counts and relaxations checked exactly on hand-built adverts, the ordered path against
// the full scan, and the answer's size bound at 5,000 adverts.
#include "xis/query_engine.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "xis_test_util.h"

namespace xop {
namespace {

using testing::AdvertSpec;
using testing::kGiB;

constexpr TimeMs kNow = 1'700'000'000'000;
constexpr TimeMs kLive = kNow + 30'000;

Query parse(const std::string& text) {
  auto j = parse_json(text);
  EXPECT_TRUE(j.has_value()) << text;
  auto q = query_from_json(*j);
  EXPECT_TRUE(q.has_value()) << (q ? "" : q.error().message);
  return q ? *q : Query{};
}

AdvertCoord coord_ms(double x, double y, double h = 0) {
  Coordinate c;
  c.vec = {x, y};
  c.height = h;
  c.error = 0.2;
  return advert_coord_of(c);
}

class QueryEngineTest : public ::testing::Test {
 protected:
  // Adds an advert under a fresh key; its name is `spec.name`. Returns the server id.
  std::string add(AdvertSpec spec, std::string owner = "", std::optional<double> reputation = std::nullopt,
                  TimeMs expires_at = kLive) {
    auto k = KeyPair::generate();
    auto s = std::make_unique<StoredAdvert>(testing::stored(k, spec, expires_at));
    s->owner = std::move(owner);
    s->reputation = reputation;
    ids_[spec.name] = k.account_id();
    store_.push_back(std::move(s));
    return k.account_id();
  }
  std::vector<const StoredAdvert*> live() const {
    std::vector<const StoredAdvert*> v;
    for (const auto& s : store_) v.push_back(s.get());
    return v;
  }
  Result<Quote> run(const Query& q) const {
    const auto l = live();
    auto pq = prepare_query(q, coord_lookup_over(l));
    if (!pq) return tl::make_unexpected(pq.error());
    return run_query(**pq, l, kNow);
  }
  Quote run_ok(const std::string& text) const {
    auto r = run(parse(text));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : Quote{};
  }
  static std::vector<std::string> names(const Quote& q) {
    std::vector<std::string> out;
    for (const auto& c : q.chosen) out.push_back(c.advert.name);
    return out;
  }
  static const RemovedBy* removed(const Quote& q, const std::string& path) {
    for (const auto& r : q.removed) {
      if (r.predicate == path) return &r;
    }
    return nullptr;
  }
  static int64_t removed_count(const Quote& q, const std::string& path) {
    const RemovedBy* r = removed(q, path);
    return r ? r->count : 0;
  }

  std::vector<std::unique_ptr<StoredAdvert>> store_;
  std::map<std::string, std::string> ids_;
};

// Matching names (rank by price, so by name when prices tie... use count 100 and sort).
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(QueryEngineTest, EachPredicateAdmitsExactlyWhatItSays) {
  add({.name = "a",
       .location = testing::kLondon,
       .free = {4000, 8 * kGiB, 0, 0},
       .rates = testing::rates_per_core_hour(500'000),
       .sandboxes = {"runc"},
       .coord = coord_ms(0, 10),
       .country = "GB",
       .free_ports = 10,
       .images = {"sha256:aa"}},
      "", 0.9);
  add({.name = "b",
       .location = testing::kParis,
       .free = {1000, 2 * kGiB, 0, 0},
       .rates = testing::rates_per_core_hour(900'000),
       .sandboxes = {"crun"},
       .coord = coord_ms(0, 40),
       .country = "FR",
       .free_ports = 2,
       .images = {}},
      "", 0.5);
  add({.name = "c",
       .location = testing::kTokyo,
       .free = {8000, 1 * kGiB, 0, 0},
       .rates = testing::rates_per_core_hour(2'000'000),
       .sandboxes = {"runc", "crun"}});
  const std::string base = R"("reservation": {"cpu_millis": 1000}, "count": 100, )";
  auto match = [&](const std::string& where, const std::string& extra = "") {
    return sorted(names(run_ok("{" + base + extra + R"("where": )" + where + "}")));
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(match(R"({"free": {"cpu_millis": 2000}})"), (V{"a", "c"}));
  EXPECT_EQ(match(R"({"free": {"memory_bytes": 2147483648}})"), (V{"a", "b"}));
  EXPECT_EQ(match(R"({"max_price_per_hour_micros": 900000})"), (V{"a", "b"}));
  // Two hours of 0.5/h is 1.0; of 0.9/h 1.8.
  EXPECT_EQ(match(R"({"max_total_price_micros": 1000000})", R"("duration_ms": 7200000, )"), (V{"a"}));
  EXPECT_EQ(match(R"({"max_rate": {"rate": "cpu_reserve_per_core_hour", "micros": 1000000}})"), (V{"a", "b"}));
  EXPECT_EQ(match(R"({"sandbox": "crun"})"), (V{"b", "c"}));
  EXPECT_EQ(match(R"({"country": "FR"})"), (V{"b"}));
  EXPECT_EQ(match(R"({"region": ["FR", "GB", "DE"]})"), (V{"a", "b"}));  // c has no country: fails
  // London-Paris is about 344 km.
  EXPECT_EQ(match(R"({"within_km": 400})", R"("near": {"lat_e6": 51507400, "lon_e6": -127800}, )"), (V{"a", "b"}));
  EXPECT_EQ(match(R"({"within_km": {"km": 10, "of": {"lat_e6": 48856600, "lon_e6": 2352200}}})"), (V{"b"}));
  // From (0, 0): a is 10 ms away, b 40, c has no coordinate.
  const std::string from = R"("rtt_from": {"coord": {"vec_us": [0, 0], "height_us": 0, "error_ppm": 100000}}, )";
  EXPECT_EQ(match(R"({"within_ms": 25})", from), (V{"a"}));
  EXPECT_EQ(match(R"({"within_ms": {"ms": 35, "from": {"server": ")" + ids_["a"] + R"("}}})"), (V{"a", "b"}));
  EXPECT_EQ(match(R"({"min_reputation": 0.6})"), (V{"a"}));  // c has none: fails
  EXPECT_EQ(match(R"({"image": "sha256:aa"})"), (V{"a"}));
  EXPECT_EQ(match(R"({"min_free_ports": 2})"), (V{"a", "b"}));  // c says nothing: fails
  EXPECT_EQ(match(R"({"all": []})"), (V{"a", "b", "c"}));
  EXPECT_EQ(match(R"({"any": []})"), V{});
}

TEST_F(QueryEngineTest, AllAnyNotNestToAnyDepth) {
  add({.name = "a", .sandboxes = {"runc"}, .country = "GB", .free_ports = 10});
  add({.name = "b", .sandboxes = {"crun"}, .country = "FR", .free_ports = 0});
  add({.name = "c", .sandboxes = {"runc", "crun"}, .country = "DE"});
  using V = std::vector<std::string>;
  auto match = [&](const std::string& where) {
    return sorted(names(run_ok(R"({"count": 100, "where": )" + where + "}")));
  };
  EXPECT_EQ(match(R"({"not": {"country": "FR"}})"), (V{"a", "c"}));
  EXPECT_EQ(match(R"({"any": [{"country": "FR"}, {"min_free_ports": 5}]})"), (V{"a", "b"}));
  EXPECT_EQ(match(R"({"all": [{"sandbox": "runc"}, {"not": {"any": [{"country": "GB"}, {"country": "FR"}]}}]})"),
            (V{"c"}));
  EXPECT_EQ(match(R"({"not": {"not": {"not": {"sandbox": "crun"}}}})"), (V{"a"}));
  EXPECT_EQ(match(R"({"all": [{"any": [{"all": [{"sandbox": "crun"}, {"not": {"country": "DE"}}]},
                                        {"min_free_ports": 9}]}]})"),
            (V{"a", "b"}));
}

TEST_F(QueryEngineTest, ExplainCountsEveryPredicateThatSinksAnAdvertExactly) {
  // Ceiling 1.0/h, runc, in FR or DE. Hand-counted failures:
  //   p1 (dear, crun, GB): price, sandbox, region       p2 (dear, runc, FR): price
  //   p3 (cheap, crun, FR): sandbox                      p4 (cheap, runc, US): region
  //   p5 (cheap, runc, DE): matches                      p6 (cheap, runc, no country): region
  const auto dear = testing::rates_per_core_hour(3'000'000);
  const auto cheap = testing::rates_per_core_hour(500'000);
  add({.name = "p1", .rates = dear, .sandboxes = {"crun"}, .country = "GB"});
  add({.name = "p2", .rates = dear, .sandboxes = {"runc"}, .country = "FR"});
  add({.name = "p3", .rates = cheap, .sandboxes = {"crun"}, .country = "FR"});
  add({.name = "p4", .rates = cheap, .sandboxes = {"runc"}, .country = "US"});
  add({.name = "p5", .rates = cheap, .sandboxes = {"runc"}, .country = "DE"});
  add({.name = "p6", .rates = cheap, .sandboxes = {"runc"}});
  // Expired: never counted.
  add({.name = "gone", .rates = dear, .sandboxes = {"crun"}, .country = "GB"}, "", std::nullopt, kNow);
  const Quote q = run_ok(R"({"reservation": {"cpu_millis": 1000}, "count": 1, "where": {"all": [
      {"max_price_per_hour_micros": 1000000}, {"sandbox": "runc"}, {"region": ["FR", "DE"]}]}})");
  EXPECT_TRUE(q.explained);
  EXPECT_EQ(names(q), (std::vector<std::string>{"p5"}));
  EXPECT_EQ(q.live, 6);
  EXPECT_EQ(q.matched, 1);
  EXPECT_EQ(removed_count(q, "where.all[0]"), 2);
  EXPECT_EQ(removed_count(q, "where.all[1]"), 2);
  EXPECT_EQ(removed_count(q, "where.all[2]"), 3);
  ASSERT_EQ(q.removed.size(), 3u);
  EXPECT_EQ(q.removed[0].text, R"({"max_price_per_hour_micros":1000000})");
  ASSERT_EQ(q.removed[0].examples.size(), 2u);
  for (const auto& e : q.removed[0].examples) EXPECT_EQ(e.why, "price 3.00/h above 1.00/h");
  EXPECT_TRUE(q.relaxations.empty());  // one was wanted and one was found
  EXPECT_EQ(q.total_price, Money::micros(500'000));

  // Under "any", a failing any blames each child; a "not" whose child holds is blamed itself.
  const Quote q2 = run_ok(R"({"count": 1, "where": {"all": [
      {"any": [{"country": "FR"}, {"country": "DE"}]}, {"not": {"sandbox": "crun"}}]}})");
  // any fails for p1, p4, p6: each of its two children counts 3; not fails for p1, p3.
  EXPECT_EQ(removed_count(q2, "where.all[0]"), 0);
  EXPECT_EQ(removed_count(q2, "where.all[0].any[0]"), 3);
  EXPECT_EQ(removed_count(q2, "where.all[0].any[1]"), 3);
  EXPECT_EQ(removed_count(q2, "where.all[1]"), 2);
  const RemovedBy* n = removed(q2, "where.all[1]");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->examples[0].why, R"(matches {"sandbox":"crun"})");
}

TEST_F(QueryEngineTest, ExamplesAreBoundedAndTheLowestServerIds) {
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(add({.name = "n" + std::to_string(i), .sandboxes = {"crun"}}));
  std::sort(ids.begin(), ids.end());
  const Quote q = run_ok(R"({"where": {"sandbox": "runc"}})");
  ASSERT_EQ(q.removed.size(), 1u);
  EXPECT_EQ(q.removed[0].count, 12);
  ASSERT_EQ(q.removed[0].examples.size(), kMaxQueryExamples);
  for (size_t i = 0; i < kMaxQueryExamples; ++i) EXPECT_EQ(q.removed[0].examples[i].server, ids[i]);
  EXPECT_EQ(q.removed[0].examples[0].why, "no sandbox runc");
}

TEST_F(QueryEngineTest, RelaxationOfAPriceCeilingIsExact) {
  add({.name = "x1", .rates = testing::rates_per_core_hour(1'200'000)});
  add({.name = "x2", .rates = testing::rates_per_core_hour(800'000)});
  add({.name = "x3", .rates = testing::rates_per_core_hour(950'000)});
  add({.name = "x4", .rates = testing::rates_per_core_hour(800'000), .sandboxes = {"crun"}});  // also wrong sandbox
  const std::string head = R"({"reservation": {"cpu_millis": 1000}, "count": )";
  const std::string tail = R"(, "where": {"all": [{"max_price_per_hour_micros": 500000}, {"sandbox": "runc"}]}})";
  const Quote one = run_ok(head + "1" + tail);
  EXPECT_TRUE(one.chosen.empty());
  ASSERT_EQ(one.relaxations.size(), 1u);
  EXPECT_EQ(one.relaxations[0].predicate, "where.all[0]");
  EXPECT_EQ(one.relaxations[0].text, "raise the price ceiling to 0.80/h");
  EXPECT_EQ(one.relaxations[0].to, 800'000);
  EXPECT_EQ(one.relaxations[0].would_match, 1);  // x4 is 0.80/h too but is crun
  const Quote two = run_ok(head + "2" + tail);
  ASSERT_EQ(two.relaxations.size(), 1u);
  EXPECT_EQ(two.relaxations[0].to, 950'000);
  EXPECT_EQ(two.relaxations[0].would_match, 2);
  // Ground truth: the relaxed query returns what was promised, and a hair less does not.
  EXPECT_EQ(run_ok(head + "2" + R"(, "where": {"all": [{"max_price_per_hour_micros": 950000}, {"sandbox": "runc"}]}})")
                .chosen.size(),
            2u);
  EXPECT_EQ(run_ok(head + "2" + R"(, "where": {"all": [{"max_price_per_hour_micros": 949999}, {"sandbox": "runc"}]}})")
                .chosen.size(),
            1u);
  // Three is beyond what any price admits (only three are runc).
  EXPECT_EQ(run_ok(head + "3" + tail).relaxations.size(), 1u);
  EXPECT_TRUE(run_ok(head + "4" + tail).relaxations.empty());
}

TEST_F(QueryEngineTest, RelaxationOfDistanceRttAndMinimums) {
  add({.name = "paris",
       .location = testing::kParis,
       .free = {2000, 4 * kGiB, 0, 0},
       .coord = coord_ms(30, 40),
       .free_ports = 3});
  add({.name = "newyork", .location = testing::kNewYork, .free = {500, 4 * kGiB, 0, 0}, .coord = coord_ms(60, 80)});
  const std::string near = R"("near": {"lat_e6": 51507400, "lon_e6": -127800}, )";
  const Quote km = run_ok("{" + near + R"("where": {"within_km": 100}})");
  ASSERT_FALSE(km.relaxations.empty());
  const double paris_km = distance_km(testing::kLondon, testing::kParis);
  EXPECT_EQ(km.relaxations[0].text, fmt::format("widen to {:.3f} km", std::ceil(paris_km * 1000) / 1000));
  EXPECT_GE(km.relaxations[0].to, paris_km);
  EXPECT_LT(km.relaxations[0].to, paris_km + 0.001);
  EXPECT_EQ(run_ok("{" + near + fmt::format(R"("where": {{"within_km": {}}}}})", km.relaxations[0].to)).chosen.size(),
            1u);
  const std::string from = R"("rtt_from": {"coord": {"vec_us": [0, 0], "height_us": 0, "error_ppm": 100000}}, )";
  const Quote ms = run_ok("{" + from + R"("count": 2, "where": {"within_ms": 20}})");
  ASSERT_EQ(ms.relaxations.size(), 1u);
  EXPECT_EQ(ms.relaxations[0].text, "widen to 100.000 ms");  // (60, 80) is 100 ms from the origin
  EXPECT_EQ(ms.relaxations[0].would_match, 2);
  // A free-resources minimum relaxes per component; the ports minimum down to what is there.
  const Quote cpu = run_ok(R"({"count": 2, "where": {"free": {"cpu_millis": 1000, "memory_bytes": 1073741824}}})");
  ASSERT_EQ(cpu.relaxations.size(), 1u);
  EXPECT_EQ(cpu.relaxations[0].predicate, "where.cpu_millis");
  EXPECT_EQ(cpu.relaxations[0].text, "lower the free cpu_millis minimum to 500");
  const Quote ports = run_ok(R"({"where": {"min_free_ports": 4}})");
  ASSERT_EQ(ports.relaxations.size(), 1u);
  EXPECT_EQ(ports.relaxations[0].to, 3);
  // Under a "not", a threshold is not relaxed (relaxing it would remove, not add).
  EXPECT_TRUE(run_ok(R"({"count": 2, "where": {"not": {"min_free_ports": 1}}})").relaxations.empty());
}

TEST_F(QueryEngineTest, RelaxationsAreSortedBySmallestRelativeChange) {
  add({.name = "one", .location = testing::kParis, .rates = testing::rates_per_core_hour(1'100'000)});
  const Quote q = run_ok(R"({"reservation": {"cpu_millis": 1000}, "near": {"lat_e6": 51507400, "lon_e6": -127800},
      "where": {"any": [{"max_price_per_hour_micros": 1000000}, {"within_km": 100}]}})");
  ASSERT_EQ(q.relaxations.size(), 2u);
  EXPECT_EQ(q.relaxations[0].predicate, "where.any[0]");  // +10% beats +244%
  EXPECT_EQ(q.relaxations[1].predicate, "where.any[1]");
}

TEST_F(QueryEngineTest, RankingModesAndTiesBreakByServerId) {
  add({.name = "near_dear",
       .location = testing::kLondon,
       .rates = testing::rates_per_core_hour(3'000'000),
       .coord = coord_ms(50, 0)},
      "", 0.2);
  add({.name = "far_cheap",
       .location = testing::kTokyo,
       .rates = testing::rates_per_core_hour(1'000'000),
       .coord = coord_ms(5, 0)},
      "", 0.99);
  add({.name = "mid",
       .location = testing::kParis,
       .rates = testing::rates_per_core_hour(2'000'000),
       .coord = coord_ms(20, 0)});
  using V = std::vector<std::string>;
  const std::string common =
      R"("reservation": {"cpu_millis": 1000}, "count": 3, "near": {"lat_e6": 51507400, "lon_e6": -127800},
         "rtt_from": {"coord": {"vec_us": [0, 0], "height_us": 0, "error_ppm": 100000}}, )";
  EXPECT_EQ(names(run_ok("{" + common + R"("rank": "price"})")), (V{"far_cheap", "mid", "near_dear"}));
  EXPECT_EQ(names(run_ok("{" + common + R"("rank": "distance"})")), (V{"near_dear", "mid", "far_cheap"}));
  EXPECT_EQ(names(run_ok("{" + common + R"("rank": "rtt"})")), (V{"far_cheap", "mid", "near_dear"}));
  EXPECT_EQ(names(run_ok("{" + common + R"("rank": "reputation"})")), (V{"far_cheap", "near_dear", "mid"}));
  // Mix: price normalised 0 / 0.5 / 1, distance about 0 / 0.035 / 1 (London, Paris, Tokyo).
  // Weights 1 price + 2 distance: near_dear 1 + 0, mid 0.5 + 0.07, far_cheap 0 + 2.
  EXPECT_EQ(names(run_ok("{" + common + R"("rank": "mix", "weights": {"price": 1, "distance": 2}})")),
            (V{"mid", "near_dear", "far_cheap"}));
  const Quote q = run_ok("{" + common + R"("rank": "distance"})");
  ASSERT_EQ(q.chosen.size(), 3u);
  EXPECT_NEAR(*q.chosen[1].distance_km, 343.5, 2.0);
  EXPECT_EQ(*q.chosen[0].est_rtt_us, 50'000);
  EXPECT_EQ(q.chosen[0].price_per_hour, Money::micros(3'000'000));
  EXPECT_EQ(q.total_price, Money::micros(6'000'000));
  EXPECT_TRUE(verify_advert(q.chosen[0].advert_doc).has_value());

  // Equal prices: server id order, whatever the input order.
  store_.clear();
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(add({.name = std::to_string(i)}));
  std::sort(ids.begin(), ids.end());
  std::reverse(store_.begin(), store_.end());
  const Quote tie = run_ok(R"({"count": 4})");
  ASSERT_EQ(tie.chosen.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(tie.chosen[i].advert.server, ids[i]);
  EXPECT_EQ(tie.ranked_out, 2);
}

TEST_F(QueryEngineTest, RankByRttRemovesAdvertsWithoutACoordinate) {
  add({.name = "with", .coord = coord_ms(1, 1)});
  add({.name = "without"});
  const Quote q = run_ok(
      R"({"count": 2, "rank": "rtt", "rtt_from": {"coord": {"vec_us": [0, 0], "height_us": 0, "error_ppm": 100000}}})");
  EXPECT_EQ(names(q), (std::vector<std::string>{"with"}));
  EXPECT_EQ(removed_count(q, "rank"), 1);
}

TEST_F(QueryEngineTest, SpreadConstraintsAreAppliedGreedilyInRankOrder) {
  const auto r = [](int64_t m) { return testing::rates_per_core_hour(m); };
  add({.name = "o1a", .location = testing::kLondon, .rates = r(100'000), .country = "GB"}, "owner1");
  add({.name = "o1b", .location = testing::kParis, .rates = r(200'000), .country = "FR"}, "owner1");
  add({.name = "o2a", .location = testing::kLondon, .rates = r(300'000), .country = "GB"}, "owner2");
  add({.name = "o3a", .location = testing::kNewYork, .rates = r(400'000), .country = "US"}, "owner3");
  add({.name = "o4a", .location = testing::kTokyo, .rates = r(500'000), .country = "JP"}, "owner4");
  using V = std::vector<std::string>;
  const std::string head = R"({"reservation": {"cpu_millis": 1000}, "count": 3, "spread": )";
  const Quote owner = run_ok(head + R"({"max_per_owner": 1}})");
  EXPECT_EQ(names(owner), (V{"o1a", "o2a", "o3a"}));
  EXPECT_EQ(owner.spread_removed, 1);
  EXPECT_EQ(owner.ranked_out, 1);
  EXPECT_EQ(names(run_ok(head + R"({"max_per_country": 1}})")), (V{"o1a", "o1b", "o3a"}));
  // At least 1000 km apart: o1b (Paris) is 344 km from o1a, o2a 0 km.
  EXPECT_EQ(names(run_ok(head + R"({"min_km": 1000}})")), (V{"o1a", "o3a", "o4a"}));
  // All three at once, asking for more than can be had: fewer chosen, no numeric relaxation (enough match).
  const Quote all = run_ok(R"({"count": 5, "spread": {"max_per_owner": 1, "min_km": 1000}})");
  EXPECT_EQ(names(all).size(), 3u);
  EXPECT_EQ(all.spread_removed, 2);
  EXPECT_TRUE(all.relaxations.empty());
}

TEST_F(QueryEngineTest, UnresolvedReferenceServerIsNotFound) {
  add({.name = "nocoord"});
  const auto k = KeyPair::generate();
  auto r = run(parse(R"({"rank": "rtt", "rtt_from": {"server": ")" + k.account_id() + R"("}})"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("query.rtt_from.server"), std::string::npos) << r.error().message;
  auto r2 = run(parse(R"({"rank": "rtt", "rtt_from": {"server": ")" + ids_["nocoord"] + R"("}})"));
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().code, ErrorCode::kNotFound);
}

TEST_F(QueryEngineTest, MatchesAgreesWithTheScan) {
  std::mt19937 rng(7);
  for (int i = 0; i < 60; ++i) {
    add({.name = "m" + std::to_string(i),
         .free = {std::uniform_int_distribution<int64_t>(0, 4000)(rng), kGiB, 0, 0},
         .rates = testing::rates_per_core_hour(std::uniform_int_distribution<int64_t>(1, 3'000'000)(rng)),
         .country = (i % 3 == 0) ? std::optional<std::string>("FR") : std::nullopt});
  }
  const Query q = parse(R"({"reservation": {"cpu_millis": 1000}, "count": 100, "where": {"any": [
      {"all": [{"free": {"cpu_millis": 2000}}, {"max_price_per_hour_micros": 1500000}]}, {"country": "FR"}]}})");
  const auto l = live();
  auto pq = prepare_query(q, coord_lookup_over(l));
  ASSERT_TRUE(pq.has_value());
  const Quote out = run_query(**pq, l, kNow);
  std::set<std::string> chosen;
  for (const auto& c : out.chosen) chosen.insert(c.advert.server);
  size_t n = 0;
  for (const StoredAdvert* s : l) {
    EXPECT_EQ(matches(**pq, *s, kNow), chosen.contains(s->advert.server)) << s->advert.name;
    n += matches(**pq, *s, kNow) ? 1 : 0;
  }
  EXPECT_EQ(static_cast<int64_t>(n), out.matched);
  EXPECT_GT(n, 5u);
  EXPECT_LT(n, 55u);
  EXPECT_FALSE(matches(**pq, *l[0], l[0]->expires_at));  // expired
}

TEST_F(QueryEngineTest, OrderedPathGivesTheFullScansAnswer) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int64_t> lat(-60'000'000, 60'000'000), lon(-179'000'000, 179'000'000);
  std::uniform_real_distribution<double> ms(-100, 100);
  for (int i = 0; i < 150; ++i) {
    // Pairs at the same place and coordinate: ties the groups must order by server id.
    const GeoPoint p{lat(rng), lon(rng)};
    const AdvertCoord c = coord_ms(ms(rng), ms(rng));
    for (int j = 0; j < (i % 5 == 0 ? 2 : 1); ++j) {
      add({.name = fmt::format("g{}_{}", i, j),
           .location = p,
           .rates = testing::rates_per_core_hour(std::uniform_int_distribution<int64_t>(1, 2'000'000)(rng)),
           .sandboxes = {(i % 4 == 0) ? "crun" : "runc"},
           .coord = c,
           .country = (i % 2 == 0) ? "FR" : "DE"},
          "owner" + std::to_string(i % 7));
    }
  }
  const auto l = live();
  int compared = 0;
  for (const char* rank : {"distance", "rtt"}) {
    for (int count : {1, 5, 30}) {
      for (const char* spread :
           {"", R"(, "spread": {"max_per_owner": 2, "max_per_country": 3})", R"(, "spread": {"min_km": 2000})"}) {
        const std::string text = fmt::format(
            R"({{"rank": "{}", "count": {}, "explain": false, "reservation": {{"cpu_millis": 1000}},
                "near": {{"lat_e6": 10000000, "lon_e6": 20000000}},
                "rtt_from": {{"coord": {{"vec_us": [1000, -2000], "height_us": 0, "error_ppm": 100000}}}},
                "where": {{"all": [{{"sandbox": "runc"}}, {{"max_price_per_hour_micros": 1500000}}]}}{}}})",
            rank, count, spread);
        auto pq = prepare_query(parse(text), coord_lookup_over(l));
        ASSERT_TRUE(pq.has_value());
        ASSERT_TRUE(can_run_ordered(**pq));
        const Quote full = run_query(**pq, l, kNow);
        size_t visited = 0;
        const Quote ord = run_query_ordered(
            **pq,
            [&](const OrderedFn& fn) {
              auto counting = [&](const StoredAdvert& s, double key) {
                ++visited;
                return fn(s, key);
              };
              if (std::string(rank) == "distance") {
                visit_sorted_geo(l, *(*pq)->query.near, kNow, counting);
              } else {
                visit_sorted_rtt(l, *(*pq)->rtt_ref, kNow, counting);
              }
            },
            kNow);
        ASSERT_EQ(names(ord), names(full)) << text;
        EXPECT_EQ(ord.total_price, full.total_price);
        EXPECT_FALSE(full.chosen.empty());
        if (count == 1 && std::string(spread).empty()) {
          EXPECT_LT(visited, l.size() / 2) << "stops early";
        }
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 18);
}

TEST_F(QueryEngineTest, AnswerSizeIsBoundedWhateverTheNumberOfAdverts) {
  // A query every advert fails in several predicates (filling every example list), asking for 3.
  const std::string text = R"({"reservation": {"cpu_millis": 1000}, "count": 3, "where": {"all": [
      {"max_price_per_hour_micros": 1}, {"sandbox": "none"}, {"country": "ZZ"}, {"min_free_ports": 9},
      {"any": [{"image": "sha256:none"}, {"free": {"cpu_millis": 999999}}]}]}})";
  std::vector<size_t> sizes;
  for (int n : {50, 5000}) {
    store_.clear();
    for (int i = 0; i < n; ++i) add({.name = "s" + std::to_string(i), .country = "FR"});
    const Quote q = run_ok(text);
    EXPECT_EQ(q.live, n);
    EXPECT_EQ(removed_count(q, "where.all[0]"), n);
    EXPECT_EQ(removed_count(q, "where.all[4].any[1]"), n);
    sizes.push_back(to_json(q).dump().size());
  }
  // Bound: count adverts of at most kMaxAdvertBytes, (kMaxQueryNodes + 2) predicates of 5
  // examples of at most ~900 bytes, 8 relaxations of at most ~1 KiB.
  const size_t bound = 3 * kMaxAdvertBytes + (kMaxQueryNodes + 2) * (256 + 512 + kMaxQueryExamples * 900) + 8 * 1024;
  EXPECT_LT(sizes[1], bound);
  EXPECT_LT(sizes[1], size_t{16} << 10);  // what it is here: ~ 6 predicates' examples
  EXPECT_LT(sizes[1], sizes[0] + 200) << "grows only by the digits of the counts";
}

TEST(PriceForDuration, RoundsUpAndRefusesOverflow) {
  EXPECT_EQ(price_for_duration(Money::micros(1'000'000), 3'600'000), Money::micros(1'000'000));
  EXPECT_EQ(price_for_duration(Money::micros(1'000'000), 1), Money::micros(1));  // 0.28 rounds up
  EXPECT_EQ(price_for_duration(Money::micros(3), 1'800'000), Money::micros(2));  // 1.5 up to 2
  EXPECT_EQ(price_for_duration(Money::micros(0), kMaxQueryDurationMs), Money::micros(0));
  EXPECT_FALSE(price_for_duration(Money::micros(INT64_MAX), kMaxQueryDurationMs).has_value());
}

}  // namespace
}  // namespace xop
