// Searching by network coordinates through the real XIS HTTP API (loopback, port 0, real
// signatures): "within X ms of this coordinate" (the caller's own, or any), "of this server",
// ranking by estimated RTT, and the reasons for servers the predicate rejects.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "client/api_client.h"
#include "net/http_server.h"
#include "xis/xis_service.h"
#include "xis_test_util.h"

namespace xop {
namespace {

using testing::AdvertSpec;

// A 2-D coordinate at (x, y) ms with a 1 ms height and 0.1 error.
AdvertCoord at(double x, double y) {
  Coordinate c;
  c.vec = {x, y};
  c.height = 1;
  c.error = 0.1;
  return advert_coord_of(c);
}

class XisCoordSearchTest : public ::testing::Test {
 protected:
  XisCoordSearchTest()
      : clock_(SystemClock::instance().now_ms()), svc_(opts(), clock_), server_(HttpServerOptions{}, svc_.router()) {}
  static XisOptions opts() {
    XisOptions o;
    o.advert_rate = RateLimit{1000, 1000};
    return o;
  }
  void SetUp() override {
    ASSERT_TRUE(server_.start());
    ep_ = Endpoint{"127.0.0.1", server_.port()};
    // Four servers on a plane, one without a coordinate, one with a 3-D coordinate.
    advertise("a", at(0, 0));
    advertise("b", at(30, 0));
    advertise("c", at(0, 80));
    advertise("none", std::nullopt);
    Coordinate three;
    three.vec = {1, 1, 1};
    three.height = 1;
    three.error = 0.1;
    advertise("three-d", advert_coord_of(three));
  }
  void TearDown() override { server_.stop(); }

  void advertise(const std::string& name, std::optional<AdvertCoord> coord) {
    KeyPair k = KeyPair::generate();
    AdvertSpec s;
    s.name = name;
    s.issued_at = clock_.now_ms();
    s.coord = std::move(coord);
    ApiClient c(ep_, k, clock_);
    auto r = c.call("POST", "/v1/adverts", Json{{"advert", testing::signed_advert(k, s).to_json()}});
    ASSERT_TRUE(r) << r.error().to_string();
    ids_[name] = k.account_id();
  }
  SearchResult search(const SearchQuery& q) {
    ApiClient anon(ep_, std::nullopt, clock_);
    auto res = anon.call("POST", "/v1/search", to_json(q));
    EXPECT_TRUE(res) << res.error().to_string();
    auto sr = search_result_from_json(res.value_or(Json::object()));
    EXPECT_TRUE(sr) << sr.error().to_string();
    return sr.value_or(SearchResult{});
  }
  static std::vector<std::string> names(const SearchResult& r) {
    std::vector<std::string> out;
    for (const auto& c : r.candidates) out.push_back(c.advert.name);
    return out;
  }
  std::string reason_for(const SearchResult& r, const std::string& name) {
    for (const auto& x : r.rejected) {
      if (x.server == ids_[name]) return x.reason;
    }
    return "";
  }

  SimulatedClock clock_;
  XisService svc_;
  HttpServer server_;
  Endpoint ep_;
  std::map<std::string, std::string> ids_;
};

TEST_F(XisCoordSearchTest, WithinMsOfACoordinateRanksByEstimatedRtt) {
  SearchQuery q;
  q.rtt_from_coord = at(25, 0);  // "within 40 ms of me": my own coordinate; c is sqrt(25^2 + 80^2) + 2 away
  q.within_ms = 40;
  const auto r = search(q);
  EXPECT_EQ(names(r), (std::vector<std::string>{"b", "a"}));
  ASSERT_EQ(r.candidates.size(), 2u);
  ASSERT_TRUE(r.candidates[0].est_rtt_us);
  EXPECT_EQ(*r.candidates[0].est_rtt_us, 7'000);  // |(25,0)-(30,0)| + both heights
  EXPECT_EQ(*r.candidates[1].est_rtt_us, 27'000);
  EXPECT_NE(reason_for(r, "c").find("estimated RTT 85.8 ms above 40 ms"), std::string::npos) << reason_for(r, "c");
  EXPECT_NE(reason_for(r, "none").find("advertises no network coordinate"), std::string::npos);
  EXPECT_NE(reason_for(r, "three-d").find("3 dimensions, the reference 2"), std::string::npos);

  // Without within_ms the reference only ranks.
  q.within_ms.reset();
  EXPECT_EQ(names(search(q)), (std::vector<std::string>{"b", "a", "c"}));
  q.count = 1;
  const auto one = search(q);
  EXPECT_EQ(names(one), (std::vector<std::string>{"b"}));
  EXPECT_EQ(reason_for(one, "a"), "not among the 1 lowest estimated RTT");
}

TEST_F(XisCoordSearchTest, WithinMsOfAServer) {
  SearchQuery q;
  q.rtt_from_server = ids_["c"];
  q.within_ms = 90;
  const auto r = search(q);
  EXPECT_EQ(names(r), (std::vector<std::string>{"c", "a", "b"}));  // b: sqrt(30^2+80^2)+2 = 87.4
  EXPECT_NEAR(static_cast<double>(*r.candidates[2].est_rtt_us), (std::sqrt(30.0 * 30 + 80 * 80) + 2) * 1000, 1);
  q.within_ms = 85;
  EXPECT_EQ(names(search(q)), (std::vector<std::string>{"c", "a"}));

  // A reference server without a coordinate, or without a live advert: everyone is rejected,
  // with that reason.
  q.rtt_from_server = ids_["none"];
  auto bad = search(q);
  EXPECT_TRUE(bad.candidates.empty());
  EXPECT_EQ(bad.rejected.size(), 5u);
  EXPECT_NE(reason_for(bad, "a").find("advertises no network coordinate"), std::string::npos);
  q.rtt_from_server = KeyPair::generate().account_id();
  bad = search(q);
  EXPECT_TRUE(bad.candidates.empty());
  EXPECT_NE(reason_for(bad, "b").find("has no live advert"), std::string::npos);
}

TEST_F(XisCoordSearchTest, MalformedRttQueriesAre400) {
  ApiClient anon(ep_, std::nullopt, clock_);
  auto refused = [&](const std::string& body, const std::string& fragment) {
    auto res = anon.call_raw("POST", "/v1/search", body, "application/json");
    ASSERT_TRUE(res) << res.error().to_string();
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_NE(res->body.find(fragment), std::string::npos) << res->body;
  };
  const std::string coord = R"({"vec_us": [0, 0], "height_us": 1000, "error_ppm": 100000})";
  refused(R"({"within_ms": 10})", "needs rtt_from_coord or rtt_from_server");
  refused(R"({"within_ms": 10, "rtt_from_coord": )" + coord + ", \"rtt_from_server\": \"" + ids_["a"] + "\"}",
          "not both");
  refused(R"({"within_ms": 0, "rtt_from_coord": )" + coord + "}", "within_ms");
  refused(R"({"within_ms": 60001, "rtt_from_coord": )" + coord + "}", "within_ms");
  refused(R"({"within_ms": 1.5, "rtt_from_coord": )" + coord + "}", "within_ms");
  refused(R"({"rtt_from_server": "nobody"})", "not an account id");
  refused(R"({"rtt_from_coord": {"vec_us": [1e3], "height_us": 0, "error_ppm": 1}})", "expected integers");
  refused(R"({"rtt_from_coord": {"vec_us": [], "height_us": 0, "error_ppm": 1}})", "at least one");
  refused(R"({"rtt_from_coord": {"vec_us": [1,2,3,4,5,6,7,8,9], "height_us": 0, "error_ppm": 1}})", "vec_us");
  refused(R"({"rtt_from_coord": {"vec_us": [1], "height_us": -1, "error_ppm": 1}})", "height_us");
}

}  // namespace
}  // namespace xop
