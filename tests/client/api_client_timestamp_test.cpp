// ApiClient signs with strictly increasing timestamps during a burst (identical requests must
// not collide in the receiver's replay cache) and follows a clock that jumps back.
#include <gtest/gtest.h>

#include "client/api_client.h"
#include "net/http_server.h"

namespace xop {
namespace {

TEST(ApiClientTimestamps, BurstOfIdenticalRequestsIsNotAReplayAndClockJumpsAreFollowed) {
  SimulatedClock clock(2'000'000'000'000);
  RequestVerifier verifier(clock, "test-audience");
  auto router = std::make_shared<Router>();
  router->add("POST", "/v1/x", [&](const HttpRequest& req, const PathParams&) {
    auto who = verifier.verify(req.method, req.target, req.signature(), req.body);
    if (!who) return error_response(who.error());
    return json_response(200, Json{{"ts", req.header("x-xop-timestamp")}});
  });
  HttpServer server(HttpServerOptions{}, router);
  ASSERT_TRUE(server.start().has_value());
  ApiClient client(Endpoint{"127.0.0.1", server.port()}, KeyPair::generate(), clock);
  client.set_audience("test-audience");
  for (int i = 0; i < 20; ++i) {
    auto r = client.call("POST", "/v1/x", Json{{"same", true}});
    ASSERT_TRUE(r.has_value()) << i << ": " << r.error().message;
  }
  // The clock jumps back an hour (another test's simulated time, or a clock set back): the
  // client's timestamps follow it instead of staying in the receiver's future.
  clock.set_ms(2'000'000'000'000 - 3'600'000);
  auto r = client.call("POST", "/v1/x", Json{{"same", true}});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->value("ts", ""), std::to_string(clock.now_ms()));
  server.stop();
}

}  // namespace
}  // namespace xop
