// POST /v1/query over real HTTP on loopback port 0, through XisService's router and the typed
// client: a quote with its explanation, and strict refusals (400 naming the field, 404, 413, 415).
#include <gtest/gtest.h>

#include <random>

#include "client/api_client.h"
#include "client/xis_client.h"
#include "net/http_server.h"
#include "xis/xis_service.h"
#include "xis_test_util.h"

namespace xop {
namespace {

using testing::AdvertSpec;

class XisQueryHttpTest : public ::testing::Test {
 protected:
  XisQueryHttpTest()
      : clock_(SystemClock::instance().now_ms()),
        svc_(XisOptions{}, clock_),
        server_(HttpServerOptions{}, svc_.router()) {}
  void SetUp() override {
    ASSERT_TRUE(server_.start());
    ep_ = Endpoint{"127.0.0.1", server_.port()};
  }
  void TearDown() override { server_.stop(); }

  std::string advertise(AdvertSpec s) {
    const auto k = KeyPair::generate();
    s.issued_at = clock_.now_ms();
    EXPECT_TRUE(svc_.accept(testing::signed_advert(k, s)).has_value());
    return k.account_id();
  }
  ApiClient anon() { return ApiClient(ep_, std::nullopt, clock_); }
  // A raw POST /v1/query: the status and the error message (when there is one).
  std::pair<int, std::string> post(const std::string& body, const std::string& ct = "application/json") {
    auto res = anon().call_raw("POST", "/v1/query", body, ct);
    EXPECT_TRUE(res.has_value());
    if (!res) return {0, ""};
    auto j = parse_json(res->body);
    std::string msg;
    if (j && j->contains("error")) msg = (*j)["error"]["message"].get<std::string>();
    return {res->status, msg};
  }

  SimulatedClock clock_;
  XisService svc_;
  HttpServer server_;
  Endpoint ep_;
};

TEST_F(XisQueryHttpTest, QuoteWithExplanationThroughTheTypedClient) {
  advertise(
      {.name = "cheap", .location = testing::kParis, .rates = testing::rates_per_core_hour(400'000), .country = "FR"});
  advertise({.name = "dear",
             .location = testing::kLondon,
             .rates = testing::rates_per_core_hour(2'000'000),
             .country = "GB"});
  advertise({.name = "elsewhere",
             .location = testing::kTokyo,
             .rates = testing::rates_per_core_hour(300'000),
             .country = "JP"});
  XisClient xis(anon());
  auto q = query_from_json(*parse_json(R"({"reservation": {"cpu_millis": 1000}, "duration_ms": 36000000,
      "count": 2, "where": {"all": [{"max_price_per_hour_micros": 1000000}, {"region": ["FR", "GB"]}]}})"));
  ASSERT_TRUE(q.has_value()) << q.error().message;
  auto quote = xis.quote(*q);
  ASSERT_TRUE(quote.has_value()) << quote.error().to_string();
  ASSERT_EQ(quote->chosen.size(), 1u);
  EXPECT_EQ(quote->chosen[0].advert.name, "cheap");  // verified by the strict decoder
  EXPECT_EQ(quote->chosen[0].price_per_hour, Money::micros(400'000));
  EXPECT_EQ(quote->chosen[0].total_price, Money::micros(4'000'000));  // ten hours
  EXPECT_EQ(quote->total_price, Money::micros(4'000'000));
  EXPECT_EQ(quote->live, 3);
  EXPECT_EQ(quote->matched, 1);
  ASSERT_EQ(quote->removed.size(), 2u);
  EXPECT_EQ(quote->removed[0].predicate, "where.all[0]");
  EXPECT_EQ(quote->removed[0].count, 1);
  EXPECT_EQ(quote->removed[0].examples[0].name, "dear");
  EXPECT_EQ(quote->removed[1].count, 1);
  ASSERT_FALSE(quote->relaxations.empty());
  EXPECT_EQ(quote->relaxations[0].text, "raise the price ceiling to 2.00/h");

  // The ordered path (rank by distance, no explain) answers through the same route.
  auto near = query_from_json(*parse_json(R"({"rank": "distance", "explain": false, "count": 2,
      "near": {"lat_e6": 51507400, "lon_e6": -127800}})"));
  ASSERT_TRUE(near.has_value());
  auto nq = xis.quote(*near);
  ASSERT_TRUE(nq.has_value()) << nq.error().to_string();
  ASSERT_EQ(nq->chosen.size(), 2u);
  EXPECT_EQ(nq->chosen[0].advert.name, "dear");
  EXPECT_EQ(nq->chosen[1].advert.name, "cheap");
  EXPECT_FALSE(nq->explained);
  EXPECT_TRUE(nq->removed.empty());
}

TEST_F(XisQueryHttpTest, StrictRefusalsNameTheProblem) {
  advertise({.name = "one"});
  auto [s1, m1] = post(R"({"where": {"sandbx": "runc"}})");
  EXPECT_EQ(s1, 400);
  EXPECT_NE(m1.find("query.where.sandbx: unknown predicate"), std::string::npos) << m1;
  auto [s2, m2] = post(R"({"count": "3"})");
  EXPECT_EQ(s2, 400);
  EXPECT_NE(m2.find("query.count: expected an integer"), std::string::npos) << m2;
  auto [s3, m3] = post("{not json");
  EXPECT_EQ(s3, 400);
  auto [s4, m4] = post(std::string(kMaxQueryBody + 1, ' '));
  EXPECT_EQ(s4, 413);
  auto [s5, m5] = post("{}", "text/plain");
  EXPECT_EQ(s5, 415);
  const auto nobody = KeyPair::generate().account_id();
  auto [s6, m6] = post(R"({"rank": "rtt", "rtt_from": {"server": ")" + nobody + R"("}})");
  EXPECT_EQ(s6, 404);
  EXPECT_NE(m6.find(nobody + " has no live advert"), std::string::npos) << m6;
  std::string deep = R"({"where": )";
  for (int i = 0; i < 40; ++i) deep += R"({"not": )";
  deep += R"({"sandbox": "runc"})" + std::string(41, '}');
  auto [s7, m7] = post(deep);
  EXPECT_EQ(s7, 400);
  // And a good one still answers.
  auto [s8, m8] = post("{}");
  EXPECT_EQ(s8, 200) << m8;
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

// The service's ordered path walks the advert store's indexes (xis/advert_index.h) and stops once
// `count` are chosen; with explain on it scans every live advert instead. On random adverts (with
// coordinates, filters that remove many, and refreshes that move servers) both choose exactly the
// same servers in the same order, for distance and for network distance.
TEST(XisQueryIndexTest, TheIndexedOrderedPathChoosesWhatTheFullScanChooses) {
  SimulatedClock clock(1'700'000'000'000);
  XisService svc(XisOptions{}, clock);
  std::mt19937_64 rng(7);
  std::vector<KeyPair> keys;
  auto spec = [&](int i) {
    testing::AdvertSpec s;
    s.name = "srv" + std::to_string(i);
    s.location = GeoPoint{static_cast<int64_t>(rng() % 180'000'000) - 90'000'000,
                          static_cast<int64_t>(rng() % 360'000'000) - 180'000'000};
    s.free.cpu_millis = 500 + static_cast<int64_t>(rng() % 8) * 500;
    s.rates = testing::rates_per_core_hour(100'000 + static_cast<int64_t>(rng() % 20) * 100'000);
    s.coord =
        AdvertCoord{{static_cast<int64_t>(rng() % 200'000) - 100'000, static_cast<int64_t>(rng() % 200'000) - 100'000},
                    static_cast<int64_t>(rng() % 20'000),
                    200'000};
    s.issued_at = clock.now_ms();
    return s;
  };
  for (int i = 0; i < 400; ++i) {
    keys.push_back(KeyPair::generate());
    ASSERT_TRUE(svc.accept(testing::signed_advert(keys.back(), spec(i))));
  }
  clock.advance_ms(1'000);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(svc.accept(testing::signed_advert(keys[i], spec(i))));  // moved
  for (const char* rank : {"distance", "rtt"}) {
    for (int round = 0; round < 10; ++round) {
      Json j{
          {"rank", rank},
          {"count", 1 + static_cast<int>(rng() % 20)},
          {"reservation", {{"cpu_millis", 1000 + static_cast<int64_t>(rng() % 3) * 1000}}},
          {"near", {{"lat_e6", static_cast<int64_t>(rng() % 180'000'000) - 90'000'000}, {"lon_e6", 0}}},
          {"rtt_from",
           {{"coord",
             {{"vec_us", {static_cast<int64_t>(rng() % 100'000), 0}}, {"height_us", 1000}, {"error_ppm", 100'000}}}}},
          {"where",
           {{"all",
             Json::array({Json{{"free", {{"cpu_millis", 2000}}}}, Json{{"max_price_per_hour_micros", 1'200'000}}})}}}};
      j["explain"] = false;
      auto fast = query_from_json(j);
      ASSERT_TRUE(fast.has_value()) << fast.error().message << "\n" << j.dump();
      j["explain"] = true;
      auto scan = query_from_json(j);
      ASSERT_TRUE(scan.has_value());
      auto a = svc.quote(*fast);
      auto b = svc.quote(*scan);
      ASSERT_TRUE(a && b);
      EXPECT_FALSE(a->explained);
      EXPECT_TRUE(b->explained);
      std::vector<std::string> ca, cb;
      for (const auto& c : a->chosen) ca.push_back(c.advert.server);
      for (const auto& c : b->chosen) cb.push_back(c.advert.server);
      EXPECT_EQ(ca, cb) << rank << " round " << round;
      EXPECT_FALSE(ca.empty()) << "a query that chooses nothing proves nothing";
    }
  }
}

}  // namespace
}  // namespace xop
