// An ApiClient over a RouterTransport talks to a real XisService router in-process, with real
// signatures and no socket: the seam the simulated platform (issue 13.3) is built on.
#include <gtest/gtest.h>

#include "client/api_client.h"
#include "net/router_transport.h"
#include "xis/xis_service.h"
#include "xis_test_util.h"

namespace xop {
namespace {

TEST(XisRouterTransportTest, ApiClientAdvertisesAndSearchesInProcess) {
  SimulatedClock clock(SystemClock::instance().now_ms());
  XisService svc(XisOptions{}, clock);
  auto transport = std::make_shared<RouterTransport>(svc.router());
  const auto key = KeyPair::generate();

  ApiClient anon(transport, Endpoint{"xis.sim", 1}, std::nullopt, clock);
  EXPECT_EQ(anon.endpoint().host, "xis.sim");
  auto info = anon.call("GET", "/v1/info");
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ((*info)["service"], "xop-xis");

  ApiClient srv(transport, Endpoint{"xis.sim", 1}, key, clock);
  testing::AdvertSpec spec;
  spec.name = "london";
  spec.issued_at = clock.now_ms();
  auto acc = srv.call("POST", "/v1/adverts", Json{{"advert", testing::signed_advert(key, spec).to_json()}});
  ASSERT_TRUE(acc) << acc.error().to_string();
  EXPECT_EQ((*acc)["accepted"], true);
  EXPECT_EQ(svc.live_adverts(), 1u);

  // A request signed by another key for this advert is refused by the service, as over HTTP.
  ApiClient other(transport, Endpoint{"xis.sim", 1}, KeyPair::generate(), clock);
  auto r = other.call("POST", "/v1/adverts", Json{{"advert", testing::signed_advert(key, spec).to_json()}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);

  // An unsigned call to a signed route is 401 (the gate, before the handler).
  auto unsigned_post = anon.call("POST", "/v1/adverts", Json{{"advert", testing::signed_advert(key, spec).to_json()}});
  ASSERT_FALSE(unsigned_post);
  EXPECT_EQ(unsigned_post.error().code, ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace xop
