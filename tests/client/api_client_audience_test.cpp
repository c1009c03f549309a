// ApiClient signs for the receiving service's audience: learnt from GET /v1/info and cached,
// learnt again (one retry) when the service says it is someone else now (e.g. an XIS restarted
// with a new instance id); a pinned audience is never replaced.
#include <gtest/gtest.h>

#include "client/api_client.h"
#include "net/http_server.h"

namespace xop {
namespace {

TEST(ApiClientAudience, LearnsFromInfoRelearnsOnceFromA401AndNeverReplacesAPinnedOne) {
  RequestVerifier one(SystemClock::instance(), "service-one");
  RequestVerifier two(SystemClock::instance(), "service-two");
  int info_calls = 0;
  int handled = 0;
  auto router = std::make_shared<Router>();
  router->set_verifier(&one);
  router->add("GET", "/v1/info", [&](const HttpRequest&, const PathParams&) {
    ++info_calls;
    return json_response(200, Json{{"audience", "service-one"}});  // stays stale on purpose
  });
  router->add(
      "POST", "/v1/x",
      [&](const HttpRequest&, const PathParams&) {
        ++handled;
        return json_response(200, Json{});
      },
      kDefaultMaxBody, Access::kSigned);
  HttpServer server(HttpServerOptions{}, router);
  ASSERT_TRUE(server.start());
  const Endpoint ep{"127.0.0.1", server.port()};
  ApiClient client(ep, KeyPair::generate());
  ASSERT_TRUE(client.call("POST", "/v1/x", Json{{"n", 1}}));
  ASSERT_TRUE(client.call("POST", "/v1/x", Json{{"n", 2}}));
  EXPECT_EQ(info_calls, 1);  // cached
  EXPECT_EQ(client.audience().value(), "service-one");

  router->set_verifier(&two);  // the service is someone else now (no request in flight)
  auto r = client.call("POST", "/v1/x", Json{{"n", 3}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(client.audience().value(), "service-two");
  EXPECT_EQ(handled, 3);

  ApiClient pinned(ep, KeyPair::generate());
  pinned.set_audience("service-one");
  auto p = pinned.call("POST", "/v1/x", Json{{"n", 4}});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(p.error().message.find("this service is \"service-two\""), std::string::npos) << p.error().message;
  EXPECT_EQ(pinned.audience().value(), "service-one");
  EXPECT_EQ(handled, 3);
  server.stop();
}

}  // namespace
}  // namespace xop
