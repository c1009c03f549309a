// Issue 14 (4), end to end on the all-in-one platform (corp, XIS and servers as separate HTTP
// services, real signatures; the mock sandbox, so it runs without root): fake adverts claiming a
// real server's endpoint do not stop a deploy, and a server holding thousands of images stays
// discoverable.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "client/api_client.h"
#include "deploy/deployer.h"
#include "net/http_server.h"
#include "server/advertiser.h"
#include "sim/platform.h"
#include "support/builders.h"
#include "support/test_support.h"
#include "xis/xis_service.h"

namespace xop::testing {
namespace {

SignedDoc cheap_fake_advert(const KeyPair& k, const std::string& endpoint, TimeMs now) {
  Rates rates;  // free of charge: it would rank first if admitted
  Advert a;
  a.server = k.account_id();
  a.name = "fake";
  a.endpoint = endpoint;
  a.city = "London";
  a.location = GeoPoint{51'507'400, -127'800};
  a.capacity = Resources{64'000, 256LL << 30, 1LL << 40, 10'000'000'000};
  a.free = a.capacity;
  a.price_sheet = testing::signed_price_sheet(k, now, rates);
  a.sandboxes = {"mock"};
  a.issued_at = now;
  a.ttl_ms = 60'000;
  return *SignedDoc::sign(kAdvertType, to_json(a), k);
}

TEST(DiscoveryPoison, FakeAdvertsClaimingARealEndpointDoNotStopADeploy) {
  spdlog::set_level(spdlog::level::warn);
  TempDir dir;
  PlatformOptions o;
  o.data_dir = dir.path();
  o.servers = 2;
  o.runtime = "mock";
  o.charging_interval_ms = 60'000;
  auto platform = Platform::start(o);
  ASSERT_TRUE(platform) << platform.error().to_string();
  auto& p = **platform;
  auto xis = parse_endpoint(p.xis_url());
  ASSERT_TRUE(xis);
  ASSERT_TRUE(poll_until(
      [&] {
        auto c = ApiClient::connect(p.xis_url(), std::nullopt);
        auto info = c->call("GET", "/v1/info");
        return info && (*info)["adverts"] == 2;
      },
      std::chrono::seconds(20)));

  // 600 unregistered keys claim the first server's endpoint with a free, roomy advert.
  int admitted = 0;
  for (int i = 0; i < 600; ++i) {
    const KeyPair fake = KeyPair::generate();
    ApiClient c(*xis, fake);
    auto r = c.call(
        "POST", "/v1/adverts",
        Json{{"advert", cheap_fake_advert(fake, p.servers()[0].url, SystemClock::instance().now_ms()).to_json()}});
    if (r) ++admitted;
  }
  EXPECT_EQ(admitted, 0);

  KeyPair user = KeyPair::generate();
  auto corp = ApiClient::connect(p.corp_url(), user);
  ASSERT_TRUE(corp->call("POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "u"}}));
  auto admin = ApiClient::connect(p.corp_url(), p.admin_key());
  ASSERT_TRUE(
      admin->call("POST", "/v1/deposits", Json{{"account", user.account_id()}, {"amount_micros", 100'000'000}}));
  DeployManifest m;
  m.name = "poison";
  m.image = std::string(XOP_BUILD_DIR) + "/images/burner";
  m.command = {"/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"};
  m.resources.cpu_millis = 100;
  m.resources.memory_bytes = 16 << 20;
  m.count = 2;
  m.near = GeoPoint{51'507'400, -127'800};
  m.budget = Money::micros(1'000'000);
  Deployer d(user, p.corp_url(), p.xis_url(), dir.file("scratch"));
  auto r = d.deploy(m, nullptr);
  ASSERT_TRUE(r) << r.error().to_string();
  int placed = 0;
  for (const auto& out : r->outcomes) {
    EXPECT_TRUE(out.ok) << out.name << ": " << out.error;
    EXPECT_NE(out.name, "fake");
    placed += out.ok ? 1 : 0;
  }
  EXPECT_EQ(placed, 2);
  for (const auto& out : r->outcomes) {
    if (!out.ok) continue;
    auto s = ApiClient::connect(out.endpoint, user);
    (void)s->call("DELETE", "/v1/sessions/" + out.session);
  }
  p.stop();
}

AdvertSource source(const KeyPair& k) {
  AdvertSource s;
  s.server_id = k.account_id();
  s.name = "hoarder";
  s.endpoint = "http://127.0.0.1:7999";
  s.city = "London";
  s.location = GeoPoint{51'507'400, -127'800};
  s.capacity = Resources{4000, 8LL << 30, 100LL << 30, 1'000'000'000};
  Rates rates;
  rates.cpu_reserve_per_core_hour = 1'000'000;
  s.price_sheet = testing::signed_price_sheet(k, 1, rates, s.server_id);
  s.sandboxes = {"mock"};
  return s;
}

std::vector<std::string> digests(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(fmt::format("sha256:{:064x}", i));
  return out;
}

TEST(DiscoveryPoison, ServerHoldingThousandsOfImagesStaysInSearch) {
  // The server side (make_advert, send_advert) against a real XIS over HTTP.
  const TimeMs now = SystemClock::instance().now_ms();
  XisService svc(XisOptions{}, SystemClock::instance());
  HttpServer http(HttpServerOptions{}, svc.router());
  ASSERT_TRUE(http.start());
  const KeyPair k = KeyPair::generate();
  const AdvertSource src = source(k);
  auto adv = make_advert(src, src.capacity, digests(4100), now, k);
  ASSERT_TRUE(adv) << adv.error().to_string();
  XisClient xis(ApiClient(Endpoint{"127.0.0.1", http.port()}, k));
  auto sent = send_advert(xis, *adv);
  ASSERT_TRUE(sent) << sent.error().to_string();
  SearchQuery q;
  auto found = svc.search(q);
  ASSERT_EQ(found.candidates.size(), 1u);
  const Advert& a = found.candidates[0].advert;
  EXPECT_EQ(a.name, "hoarder");
  EXPECT_EQ(a.images.size(), kMaxAdvertImages);
  EXPECT_EQ(a.images_total, 4100);
  EXPECT_EQ(a.images.front(), digests(1)[0]);
  http.stop();

  // A server with few images lists them all and says nothing more.
  auto small = make_advert(src, src.capacity, digests(3), now, k);
  ASSERT_TRUE(small);
  EXPECT_FALSE(small->body.contains("images_total"));
  EXPECT_EQ(small->body["images"].size(), 3u);
}

TEST(DiscoveryPoison, XisRefusingAnOversizedAdvertIsSpeltOutForTheServerLog) {
  XisOptions o;
  o.max_advert_bytes = 2048;
  XisService svc(o, SystemClock::instance());
  HttpServer http(HttpServerOptions{}, svc.router());
  ASSERT_TRUE(http.start());
  const KeyPair k = KeyPair::generate();
  const AdvertSource src = source(k);
  auto adv = make_advert(src, src.capacity, digests(100), SystemClock::instance().now_ms(), k);
  ASSERT_TRUE(adv);
  XisClient xis(ApiClient(Endpoint{"127.0.0.1", http.port()}, k));
  auto sent = send_advert(xis, *adv);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(sent.error().message.find("413 payload_too_large for an advert of"), std::string::npos)
      << sent.error().message;
  EXPECT_NE(sent.error().message.find("listing 100 images"), std::string::npos) << sent.error().message;
  http.stop();
}

}  // namespace
}  // namespace xop::testing
