// Issue 14 (4), "anyone can poison discovery": XIS admits an advert only from a server registered
// with the corp, at an endpoint no other live server holds and that answers with the advert's
// key, within per-identity rate limits and bounded memory. Real HTTP on loopback port 0: a stand-in
// corp serving GET /v1/servers/{id} and stand-in servers serving GET /v1/info.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "client/api_client.h"
#include "net/http_server.h"
#include "proto/xis_bodies.h"
#include "xis/advert_store.h"
#include "xis/xis_service.h"
#include "xis_test_util.h"

namespace xop {
namespace {

using testing::AdvertSpec;

// The corp's registration answers, as GET /v1/servers/{id} gives them (docs/api/corp.yaml).
class FakeCorp {
 public:
  FakeCorp() {
    auto r = std::make_shared<Router>();
    r->add(
        "GET", "/v1/servers/{id}",
        [this](const HttpRequest&, const PathParams& p) {
          ++lookups;
          std::lock_guard lock(mu_);
          if (!garbage_.empty()) return HttpResponse{200, "application/json", garbage_, {}, {}};
          auto it = servers_.find(p.at("id"));
          if (it == servers_.end()) return error_response(ErrorCode::kNotFound, "no server account");
          return json_response(200, Json{{"server", it->second}});
        },
        0);
    http_ = std::make_unique<HttpServer>(HttpServerOptions{}, r);
    EXPECT_TRUE(http_->start());
  }
  ~FakeCorp() { http_->stop(); }
  void add(const KeyPair& server, const KeyPair& owner) {
    std::lock_guard lock(mu_);
    servers_[server.account_id()] = Json{{"id", server.account_id()},
                                         {"name", "srv"},
                                         {"public_key", server.public_key().base64()},
                                         {"owner", owner.account_id()}};
  }
  void answer_garbage(std::string body) {
    std::lock_guard lock(mu_);
    garbage_ = std::move(body);
  }
  void stop() { http_->stop(); }
  [[nodiscard]] std::string url() const { return http_->url(); }
  std::atomic<int> lookups{0};

 private:
  std::mutex mu_;
  std::map<std::string, Json> servers_;
  std::string garbage_;
  std::unique_ptr<HttpServer> http_;
};

// A server's public GET /v1/info, answering with `key` (or a raw body).
class FakeServer {
 public:
  explicit FakeServer(const KeyPair& key, std::string raw_body = "") {
    const std::string body = raw_body.empty()
                                 ? Json{{"service", "xop-server"}, {"public_key", key.public_key().base64()}}.dump()
                                 : std::move(raw_body);
    auto r = std::make_shared<Router>();
    r->add(
        "GET", "/v1/info",
        [body](const HttpRequest&, const PathParams&) {
          return HttpResponse{200, "application/json", body, {}, {}};
        },
        0);
    http_ = std::make_unique<HttpServer>(HttpServerOptions{}, r);
    EXPECT_TRUE(http_->start());
  }
  ~FakeServer() { http_->stop(); }
  void stop() { http_->stop(); }
  [[nodiscard]] std::string url() const { return http_->url(); }

 private:
  std::unique_ptr<HttpServer> http_;
};

class XisAdmissionTest : public ::testing::Test {
 protected:
  XisAdmissionTest() : clock_(SystemClock::instance().now_ms()) {}

  void start(XisOptions o = {}) {
    XisPeers peers;
    peers.registry = *corp_registry(corp_.url());
    peers.endpoint_key = http_endpoint_key();
    svc_ = std::make_unique<XisService>(o, clock_, std::move(peers));
    http_ = std::make_unique<HttpServer>(HttpServerOptions{}, svc_->router());
    ASSERT_TRUE(http_->start());
  }
  void TearDown() override {
    if (http_) http_->stop();
  }

  SignedDoc advert(const KeyPair& k, const std::string& endpoint, const std::string& name = "srv") {
    AdvertSpec s;
    s.name = name;
    s.issued_at = clock_.now_ms() + (++seq_);  // strictly newer each time (within the future bound)
    Advert a = testing::make_advert(k, s);
    a.endpoint = endpoint;
    return testing::sign_advert(k, a);
  }
  HttpResponse post(const KeyPair& k, const SignedDoc& doc) {
    ApiClient c(Endpoint{"127.0.0.1", http_->port()}, k, clock_);
    auto r = c.call_raw("POST", "/v1/adverts", Json{{"advert", doc.to_json()}}.dump());
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : HttpResponse{0, "", "", {}, {}};
  }
  static std::string code(const HttpResponse& r) {
    auto j = parse_json(r.body);
    if (!j || !j->contains("error")) return "";
    return (*j)["error"]["code"].get<std::string>();
  }
  std::vector<std::string> search_names() {
    SearchQuery q;
    q.count = 1000;
    std::vector<std::string> out;
    for (const auto& c : svc_->search(q).candidates) out.push_back(c.advert.name + "@" + c.advert.endpoint);
    return out;
  }

  SimulatedClock clock_;
  FakeCorp corp_;
  std::unique_ptr<XisService> svc_;
  std::unique_ptr<HttpServer> http_;
  KeyPair owner_ = KeyPair::generate();
  int seq_ = 0;
};

TEST_F(XisAdmissionTest, UnregisteredFloodClaimingARealEndpointIsRefusedAndTheRealServerStaysFound) {
  start();
  const KeyPair real = KeyPair::generate();
  corp_.add(real, owner_);
  FakeServer real_srv(real);
  HttpResponse ok = post(real, advert(real, real_srv.url(), "real"));
  ASSERT_EQ(ok.status, 200) << ok.body;

  // 600 keys that the corp does not know, each claiming the real server's endpoint.
  int forbidden = 0, busy = 0;
  for (int i = 0; i < 600; ++i) {
    const KeyPair fake = KeyPair::generate();
    HttpResponse r = post(fake, advert(fake, real_srv.url(), "fake" + std::to_string(i)));
    if (r.status == 403 && code(r) == "permission_denied") {
      ++forbidden;
    } else if (r.status == 503 && code(r) == "resource_exhausted" && r.headers.contains("retry-after")) {
      ++busy;
    } else {
      ADD_FAILURE() << "fake advert " << i << " got " << r.status << " " << r.body;
    }
  }
  EXPECT_EQ(forbidden + busy, 600);
  // The flood cost the corp at most the look-up burst (the clock did not move): unknown keys
  // beyond it were turned away before the corp was asked.
  EXPECT_LE(corp_.lookups.load(), 1 + 64);
  EXPECT_GT(busy, 0);
  EXPECT_EQ(svc_->live_adverts(), 1u);
  EXPECT_EQ(search_names(), std::vector<std::string>{"real@" + real_srv.url()});

  // A second later the look-up budget has refilled; a refused key retried is answered from the
  // negative cache, not by the corp again.
  clock_.advance_ms(1000);
  const KeyPair fake = KeyPair::generate();
  ASSERT_EQ(post(fake, advert(fake, real_srv.url())).status, 403);
  const int before = corp_.lookups.load();
  ASSERT_EQ(post(fake, advert(fake, real_srv.url())).status, 403);
  EXPECT_EQ(corp_.lookups.load(), before);
  // And the real server keeps refreshing.
  clock_.advance_ms(1000);
  EXPECT_EQ(post(real, advert(real, real_srv.url(), "real")).status, 200);
}

TEST_F(XisAdmissionTest, RegisteredServerClaimingAnothersEndpointIsRefused) {
  start();
  const KeyPair real = KeyPair::generate(), rogue = KeyPair::generate();
  corp_.add(real, owner_);
  corp_.add(rogue, owner_);
  FakeServer real_srv(real), rogue_srv(rogue);
  ASSERT_EQ(post(real, advert(real, real_srv.url(), "real")).status, 200);

  // While the real advert is live its endpoint is taken: 409.
  HttpResponse r = post(rogue, advert(rogue, real_srv.url(), "rogue"));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("held by the live advert of server " + real.account_id()), std::string::npos) << r.body;
  // The same endpoint spelt differently (trailing slash) is the same endpoint.
  r = post(rogue, advert(rogue, real_srv.url() + "/", "rogue"));
  EXPECT_EQ(r.status, 409) << r.body;

  // After it expires, the endpoint still answers with the real server's key: 403.
  clock_.advance_ms(30'000);
  ASSERT_EQ(svc_->live_adverts(), 0u);
  r = post(rogue, advert(rogue, real_srv.url(), "rogue"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("holds another key"), std::string::npos) << r.body;
  // An endpoint that does not answer proves nothing either.
  FakeServer gone(rogue);
  const std::string gone_url = gone.url();
  gone.stop();
  r = post(rogue, advert(rogue, gone_url, "rogue"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("cannot confirm"), std::string::npos) << r.body;
  EXPECT_EQ(svc_->live_adverts(), 0u);

  // Each at its own endpoint is fine, and the real server can come back to its own.
  EXPECT_EQ(post(rogue, advert(rogue, rogue_srv.url(), "rogue")).status, 200);
  EXPECT_EQ(post(real, advert(real, real_srv.url(), "real")).status, 200);
  EXPECT_EQ(svc_->live_adverts(), 2u);
  // Moving onto the other's live endpoint is refused too, and changes nothing.
  EXPECT_EQ(post(rogue, advert(rogue, real_srv.url(), "rogue")).status, 409);
  auto names = search_names();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"real@" + real_srv.url(), "rogue@" + rogue_srv.url()}));
}

TEST_F(XisAdmissionTest, FloodFromOneIdentityGets429WithRetryAfter) {
  start();
  const KeyPair k = KeyPair::generate();
  corp_.add(k, owner_);
  FakeServer srv(k);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(post(k, advert(k, srv.url(), "v" + std::to_string(i))).status, 200) << i;
  HttpResponse r = post(k, advert(k, srv.url(), "v10"));
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(code(r), "rate_limited");
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_EQ(search_names(), std::vector<std::string>{"v9@" + srv.url()});  // nothing changed
  // Another identity is not held back by the first one's flood.
  const KeyPair other = KeyPair::generate();
  corp_.add(other, owner_);
  FakeServer other_srv(other);
  EXPECT_EQ(post(other, advert(other, other_srv.url(), "other")).status, 200);
  // Refilled at 2 a second: half a second later there is room for one more.
  clock_.advance_ms(500);
  EXPECT_EQ(post(k, advert(k, srv.url(), "v11")).status, 200);
  EXPECT_EQ(post(k, advert(k, srv.url(), "v12")).status, 429);
}

TEST_F(XisAdmissionTest, CorpUnreachableKnownServersKeepRefreshingNewOnesGet503) {
  XisOptions o;
  o.max_ttl_ms = 3'600'000;
  start(o);
  const KeyPair known = KeyPair::generate(), newcomer = KeyPair::generate();
  corp_.add(known, owner_);
  corp_.add(newcomer, owner_);
  FakeServer known_srv(known), new_srv(newcomer);
  ASSERT_EQ(post(known, advert(known, known_srv.url(), "known")).status, 200);
  corp_.stop();
  clock_.advance_ms(61'000);  // the registration answer is stale: XIS would ask the corp again
  HttpResponse r = post(known, advert(known, known_srv.url(), "known"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = post(newcomer, advert(newcomer, new_srv.url(), "new"));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(code(r), "unavailable");
  EXPECT_TRUE(r.headers.contains("retry-after"));
  // Not for ever: an hour after the corp last vouched for it, a known server is refused as well.
  clock_.advance_ms(3'600'000);
  EXPECT_EQ(post(known, advert(known, known_srv.url(), "known")).status, 503);
}

TEST_F(XisAdmissionTest, HostileCorpAndEndpointAnswersAreRefusals) {
  start();
  const KeyPair k = KeyPair::generate();
  corp_.add(k, owner_);
  // An endpoint answering with junk, a non-key, or more than the cap.
  for (const std::string& body :
       std::vector<std::string>{"{not json", "[]", R"({"public_key": 5})", R"({"public_key": "AAAA"})",
                                std::string(kMaxInfoAnswer + 10, ' ')}) {
    FakeServer junk(k, body);
    HttpResponse r = post(k, advert(k, junk.url()));
    EXPECT_EQ(r.status, 403) << body.substr(0, 40) << ": " << r.body;
  }
  EXPECT_EQ(svc_->live_adverts(), 0u);
  // A corp answering with junk is a corp that cannot be asked: 503, nothing cached or stored.
  const KeyPair k2 = KeyPair::generate();
  corp_.add(k2, owner_);
  FakeServer srv2(k2);
  for (const std::string& body : std::vector<std::string>{
           "{", R"({"server": 1})", R"({"server": {"id": "x", "public_key": "y"}})",
           Json{{"server", {{"id", k2.account_id()}, {"public_key", k.public_key().base64()}}}}.dump(),
           Json{{"server", {{"id", k2.account_id()}, {"public_key", k2.public_key().base64()}, {"owner", 7}}}}
               .dump()}) {
    corp_.answer_garbage(body);
    HttpResponse r = post(k2, advert(k2, srv2.url()));
    EXPECT_EQ(r.status, 503) << body << ": " << r.body;
  }
  EXPECT_EQ(svc_->live_adverts(), 0u);
}

TEST(XisPeerDecoders, StrictAndTotal) {
  const KeyPair k = KeyPair::generate();
  const std::string id = k.account_id();
  EXPECT_FALSE(decode_registry_answer(id, 404, "")->has_value());
  EXPECT_FALSE(decode_registry_answer(id, 500, "{}"));
  EXPECT_FALSE(decode_registry_answer(id, 200, ""));
  EXPECT_FALSE(decode_registry_answer(id, 200, std::string(200, '[')));
  EXPECT_FALSE(decode_registry_answer(id, 200, std::string(kMaxRegistryAnswer + 1, ' ')));
  auto good =
      decode_registry_answer(id, 200, Json{{"server", {{"id", id}, {"public_key", k.public_key().base64()}}}}.dump());
  ASSERT_TRUE(good) << good.error().to_string();
  ASSERT_TRUE(good->has_value());
  EXPECT_EQ((*good)->owner, "");
  EXPECT_TRUE(decode_info_key(Json{{"public_key", k.public_key().base64()}, {"images", Json::array()}}.dump()));
  EXPECT_FALSE(decode_info_key(R"({"public_key": null})"));
  EXPECT_FALSE(decode_info_key("\"x\""));
  EXPECT_FALSE(endpoint_key("ftp://x:1"));
  EXPECT_FALSE(endpoint_key("http://x:0"));
  EXPECT_EQ(*endpoint_key("http://Host.Example:80//"), "host.example:80");
}

TEST_F(XisAdmissionTest, SizeAndMemoryBoundsHold) {
  XisOptions o;
  o.max_adverts = 4;
  o.max_per_owner = 2;
  start(o);
  // Per owner: a third server of the same owner is refused.
  std::vector<KeyPair> keys;
  std::vector<std::unique_ptr<FakeServer>> srvs;
  for (int i = 0; i < 6; ++i) {
    keys.push_back(KeyPair::generate());
    srvs.push_back(std::make_unique<FakeServer>(keys.back()));
  }
  const KeyPair owner2 = KeyPair::generate(), owner3 = KeyPair::generate();
  corp_.add(keys[0], owner_);
  corp_.add(keys[1], owner_);
  corp_.add(keys[2], owner_);
  ASSERT_EQ(post(keys[0], advert(keys[0], srvs[0]->url())).status, 200);
  ASSERT_EQ(post(keys[1], advert(keys[1], srvs[1]->url())).status, 200);
  HttpResponse r = post(keys[2], advert(keys[2], srvs[2]->url()));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("owner " + owner_.account_id()), std::string::npos) << r.body;
  // In total: at most max_adverts.
  corp_.add(keys[3], owner2);
  corp_.add(keys[4], owner2);
  corp_.add(keys[5], owner3);
  EXPECT_EQ(post(keys[3], advert(keys[3], srvs[3]->url())).status, 200);
  EXPECT_EQ(post(keys[4], advert(keys[4], srvs[4]->url())).status, 200);
  EXPECT_EQ(post(keys[5], advert(keys[5], srvs[5]->url())).status, 503);
  EXPECT_EQ(svc_->live_adverts(), 4u);
  // One advert: a body beyond the limit is 413 before it is read.
  ApiClient c(Endpoint{"127.0.0.1", http_->port()}, keys[0], clock_);
  auto big = c.call_raw("POST", "/v1/adverts", std::string(kMaxAdvertBytes + 1, ' '));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413) << big->body;
}

TEST(XisMemoryBound, FloodOfAdvertsStaysWithinTheBounds) {
  // Without peers (anyone may advertise) the store's own bounds still hold: 600 adverts of the
  // largest size allowed against a store of 100 adverts and 1 MiB.
  SimulatedClock clock(1'700'000'000'000);
  XisOptions o;
  o.max_adverts = 100;
  o.max_stored_bytes = size_t{1} << 20;
  XisService svc(o, clock);
  int accepted = 0;
  for (int i = 0; i < 600; ++i) {
    const KeyPair k = KeyPair::generate();
    AdvertSpec s;
    s.issued_at = clock.now_ms();
    Advert a = testing::make_advert(k, s);
    for (size_t j = 0; j < kMaxAdvertImages; ++j) a.images.push_back(fmt::format("sha256:{:064x}", j));
    if (svc.accept(testing::sign_advert(k, a))) ++accepted;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 100);  // the byte budget binds first: each advert is ~25 KiB
  EXPECT_LE(svc.stored_bytes(), o.max_stored_bytes);
  EXPECT_LE(svc.stored_entries(), o.max_adverts);
  // Expired adverts make room again, and memory never grows past the bounds.
  clock.advance_ms(120'000);
  for (int i = 0; i < 200; ++i) {
    const KeyPair k = KeyPair::generate();
    AdvertSpec s;
    s.issued_at = clock.now_ms();
    (void)svc.accept(testing::signed_advert(k, s));
    ASSERT_LE(svc.stored_entries(), 2 * o.max_adverts);
    ASSERT_LE(svc.stored_bytes(), o.max_stored_bytes);
  }
  EXPECT_EQ(svc.live_adverts(), 100u);
}

}  // namespace
}  // namespace xop
