// XIS over real HTTP on loopback port 0, with real signatures.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "client/api_client.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "proto/xis_bodies.h"
#include "xis/xis_service.h"
#include "xis_test_util.h"

namespace xop {
namespace {

using testing::AdvertSpec;

class XisHttpTest : public ::testing::Test {
 protected:
  XisHttpTest()
      : clock_(SystemClock::instance().now_ms()),
        svc_(opts(), clock_),
        server_(HttpServerOptions{}, svc_.router()),
        key_(KeyPair::generate()) {}

  // These tests send many requests from one key on a clock that does not move: the per-identity
  // rate limit has its own tests (xis_admission_test.cpp).
  static XisOptions opts() {
    XisOptions o;
    o.advert_rate = RateLimit{1000, 1000};
    return o;
  }
  void SetUp() override {
    ASSERT_TRUE(server_.start());
    ep_ = Endpoint{"127.0.0.1", server_.port()};
  }
  void TearDown() override { server_.stop(); }

  ApiClient client(std::optional<KeyPair> key) { return ApiClient(ep_, std::move(key), clock_); }
  AdvertSpec spec(const std::string& name) const {
    AdvertSpec s;
    s.name = name;
    s.issued_at = clock_.now_ms();
    return s;
  }
  Json advert_body(const KeyPair& k, const std::string& name) {
    return Json{{"advert", testing::signed_advert(k, spec(name)).to_json()}};
  }
  // Sends a raw body and checks a JSON error with the given status comes back, and that nothing
  // was stored.
  void expect_refused(ApiClient& c, const std::string& target, const std::string& body, int status,
                      const std::string& content_type = "application/json") {
    const size_t before = svc_.live_adverts();
    auto res = c.call_raw("POST", target, body, content_type);
    ASSERT_TRUE(res) << res.error().to_string();
    EXPECT_EQ(res->status, status) << res->body;
    auto j = parse_json(res->body);
    ASSERT_TRUE(j) << res->body;
    ASSERT_TRUE(j->contains("error")) << res->body;
    EXPECT_TRUE((*j)["error"]["code"].is_string());
    EXPECT_TRUE((*j)["error"]["message"].is_string());
    EXPECT_EQ(svc_.live_adverts(), before);
  }

  SimulatedClock clock_;
  XisService svc_;
  HttpServer server_;
  KeyPair key_;
  Endpoint ep_;
};

TEST_F(XisHttpTest, InfoAdvertiseListAndSearch) {
  auto anon = client(std::nullopt);
  auto info = anon.call("GET", "/v1/info");
  ASSERT_TRUE(info) << info.error().to_string();
  ASSERT_TRUE((*info)["audience"].is_string());
  EXPECT_EQ((*info)["audience"].get<std::string>().rfind("xis", 0), 0u);
  EXPECT_EQ(*info,
            (Json{{"service", "xop-xis"}, {"version", "0.1.0"}, {"audience", (*info)["audience"]}, {"adverts", 0}}));

  auto srv = client(key_);
  auto acc = srv.call("POST", "/v1/adverts", advert_body(key_, "london"));
  ASSERT_TRUE(acc) << acc.error().to_string();
  EXPECT_EQ((*acc)["accepted"], true);
  EXPECT_EQ((*acc)["expires_at"], clock_.now_ms() + 30'000);
  EXPECT_EQ(svc_.live_adverts(), 1u);
  EXPECT_EQ((*anon.call("GET", "/v1/info"))["adverts"], 1);

  auto list = anon.call("GET", "/v1/adverts");
  ASSERT_TRUE(list);
  ASSERT_EQ((*list)["adverts"].size(), 1u);
  auto doc = SignedDoc::from_json((*list)["adverts"][0], kAdvertType);
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ(verify_advert(*doc)->server, key_.account_id());

  // Unsigned search; the answer parses with the strict client-side decoder (which verifies).
  SearchQuery q;
  q.min.cpu_millis = 500;
  q.near = testing::kParis;
  q.count = 5;
  auto res = anon.call("POST", "/v1/search", to_json(q));
  ASSERT_TRUE(res) << res.error().to_string();
  auto sr = search_result_from_json(*res);
  ASSERT_TRUE(sr) << sr.error().to_string();
  ASSERT_EQ(sr->candidates.size(), 1u);
  EXPECT_EQ(sr->candidates[0].advert.name, "london");
  EXPECT_NEAR(sr->candidates[0].distance_km, 343.5, 2.0);
  EXPECT_EQ(sr->candidates[0].price_per_hour, Money::micros(500'000));

  // A refusal with its reason travels too.
  q.min.cpu_millis = 5000;
  sr = search_result_from_json(*anon.call("POST", "/v1/search", to_json(q)));
  ASSERT_TRUE(sr);
  ASSERT_EQ(sr->rejected.size(), 1u);
  EXPECT_EQ(sr->rejected[0].reason, "needs 5000 cpu_millis, 4000 free");

  // Soft state: after the ttl the advert is gone from every view.
  clock_.advance_ms(30'000);
  EXPECT_EQ((*anon.call("GET", "/v1/info"))["adverts"], 0);
  EXPECT_TRUE((*anon.call("GET", "/v1/adverts"))["adverts"].empty());
}

TEST_F(XisHttpTest, RequestSignerMustBeTheAdvertSigner) {
  const auto other = KeyPair::generate();
  auto c = client(other);
  auto r = c.call("POST", "/v1/adverts", advert_body(key_, "london"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisHttpTest, TamperedAdvertIs401) {
  auto c = client(key_);
  Json body = advert_body(key_, "london");
  body["advert"]["body"]["free"]["cpu_millis"] = 64'000;
  auto r = c.call("POST", "/v1/adverts", body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisHttpTest, StaleAdvertIs409) {
  auto c = client(key_);
  const Json body = advert_body(key_, "london");
  ASSERT_TRUE(c.call("POST", "/v1/adverts", body));
  auto r = c.call("POST", "/v1/adverts", body);  // a new request signature, the same advert
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(svc_.live_adverts(), 1u);
}

TEST_F(XisHttpTest, MissingOrReplayedSignatureIs401) {
  auto anon = client(std::nullopt);
  auto r = anon.call("POST", "/v1/adverts", advert_body(key_, "london"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);

  const std::string body = advert_body(key_, "paris").dump();
  const auto sig =
      sign_request(key_, "POST", "/v1/adverts", clock_.now_ms(), ApiClient(ep_, std::nullopt).audience().value(), body);
  auto headers = signature_headers(sig);
  headers["Content-Type"] = "application/json";
  HttpClient http(ep_);
  auto first = http.request("POST", "/v1/adverts", body, headers);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->body;
  auto replay = http.request("POST", "/v1/adverts", body, headers);
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 401) << replay->body;
  // A signature over another body does not cover this one.
  const std::string other = advert_body(key_, "rome").dump();
  auto swapped = http.request("POST", "/v1/adverts", other, headers);
  ASSERT_TRUE(swapped);
  EXPECT_EQ(swapped->status, 401) << swapped->body;
  EXPECT_EQ(svc_.live_adverts(), 1u);
}

TEST_F(XisHttpTest, MalformedAdvertBodiesAreRefused) {
  auto c = client(key_);
  expect_refused(c, "/v1/adverts", "{not json", 400);
  expect_refused(c, "/v1/adverts", "", 400);
  expect_refused(c, "/v1/adverts", "[]", 400);
  expect_refused(c, "/v1/adverts", "{}", 400);
  expect_refused(c, "/v1/adverts", "{\"advert\": 5}", 400);
  expect_refused(c, "/v1/adverts", std::string(100, '[') + std::string(100, ']'), 400);

  Json unknown = advert_body(key_, "x");
  unknown["extra"] = 1;
  expect_refused(c, "/v1/adverts", unknown.dump(), 400);
  Json unknown_inner = advert_body(key_, "x");
  unknown_inner["advert"]["colour"] = "red";
  expect_refused(c, "/v1/adverts", unknown_inner.dump(), 400);

  // Wrong type inside the signed body (signed correctly, so only strictness can refuse it).
  Advert a = testing::make_advert(key_, spec("x"));
  Json j = to_json(a);
  j["ttl_ms"] = "30000";
  Json wrong_type{{"advert", SignedDoc::sign(kAdvertType, j, key_)->to_json()}};
  expect_refused(c, "/v1/adverts", wrong_type.dump(), 400);
  j = to_json(a);
  j["ttl_ms"] = 0;  // out of range
  expect_refused(c, "/v1/adverts", Json{{"advert", SignedDoc::sign(kAdvertType, j, key_)->to_json()}}.dump(), 400);

  expect_refused(c, "/v1/adverts", advert_body(key_, "x").dump(), 415, "text/plain");
  expect_refused(c, "/v1/adverts", std::string(kMaxAdvertBody + 1, ' '), 413);
  EXPECT_EQ(svc_.live_adverts(), 0u);
}

TEST_F(XisHttpTest, MalformedSearchBodiesAreRefused) {
  ASSERT_TRUE(client(key_).call("POST", "/v1/adverts", advert_body(key_, "x")));
  auto c = client(std::nullopt);
  expect_refused(c, "/v1/search", "{\"count\":", 400);
  expect_refused(c, "/v1/search", "", 400);
  expect_refused(c, "/v1/search", "\"text\"", 400);
  expect_refused(c, "/v1/search", R"({"count": 5, "colour": "red"})", 400);
  expect_refused(c, "/v1/search", R"({"count": "5"})", 400);
  expect_refused(c, "/v1/search", R"({"count": 0})", 400);
  expect_refused(c, "/v1/search", R"({"count": 1001})", 400);
  expect_refused(c, "/v1/search", R"({"count": 1.5})", 400);
  expect_refused(c, "/v1/search", R"({"min": {"cpu_millis": -1}})", 400);
  expect_refused(c, "/v1/search", R"({"min": {"gpus": 1}})", 400);
  expect_refused(c, "/v1/search", R"({"near": {"lat_e6": 91000000, "lon_e6": 0}})", 400);
  expect_refused(c, "/v1/search", R"({"max_price_per_hour_micros": -5})", 400);
  expect_refused(c, "/v1/search", R"({"count": 99999999999999999999999})", 400);
  expect_refused(c, "/v1/search", std::string(kMaxSearchBody + 1, ' '), 413);
  expect_refused(c, "/v1/search", "{}", 415, "text/plain");
  // And an empty object is a valid query: everything, ten at most.
  auto ok = c.call("POST", "/v1/search", Json::object());
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ((*ok)["candidates"].size(), 1u);
  EXPECT_EQ(svc_.live_adverts(), 1u);
}

TEST_F(XisHttpTest, UnknownPathsAndMethods) {
  auto c = client(key_);
  auto r = c.call("GET", "/v1/nothing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  r = c.call("DELETE", "/v1/adverts");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kMethodNotAllowed);
  r = c.call("GET", "/v1/search");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kMethodNotAllowed);
}

TEST_F(XisHttpTest, ConcurrentAdvertsAndSearches) {
  constexpr int kServers = 8;
  constexpr int kRounds = 10;
  std::vector<KeyPair> keys;
  for (int i = 0; i < kServers; ++i) keys.push_back(KeyPair::generate());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kServers; ++i) {
    threads.emplace_back([&, i] {
      auto c = client(keys[i]);
      for (int round = 0; round < kRounds; ++round) {
        AdvertSpec s = spec("s" + std::to_string(i));
        s.issued_at = clock_.now_ms() - kRounds + round;  // strictly increasing per server
        if (!c.call("POST", "/v1/adverts", Json{{"advert", testing::signed_advert(keys[i], s).to_json()}})) {
          ++failures;
        }
      }
    });
    threads.emplace_back([&] {
      auto c = client(std::nullopt);
      for (int round = 0; round < kRounds; ++round) {
        auto r = c.call("POST", "/v1/search", Json{{"count", 1000}});
        if (!r || !search_result_from_json(*r)) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(svc_.live_adverts(), static_cast<size_t>(kServers));
}

}  // namespace
}  // namespace xop
