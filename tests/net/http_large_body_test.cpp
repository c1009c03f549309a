// Bodies larger than Beast's default 1 MiB limit reach routes that allow them, and bodies over a
// route's limit get 413 even when the client is still sending.
#include <gtest/gtest.h>

#include "net/http_client.h"
#include "net/http_server.h"

namespace xop {
namespace {

TEST(HttpLargeBody, RouteLimitAboveBeastDefaultAcceptsBigBodies) {
  auto router = std::make_shared<Router>();
  router->add(
      "PUT", "/big",
      [](const HttpRequest& req, const PathParams&) {
        return json_response(200, Json{{"size", req.body.size()}});
      },
      8u << 20);
  router->add("POST", "/small", [](const HttpRequest&, const PathParams&) { return json_response(200, Json{}); });
  HttpServer server(HttpServerOptions{}, router);
  ASSERT_TRUE(server.start().has_value());
  HttpClient client(Endpoint{"127.0.0.1", server.port()});

  const std::string three_mib(3u << 20, 'x');
  auto ok = client.request("PUT", "/big", three_mib);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(parse_json(ok->body)->value("size", 0), 3 << 20);

  auto too_big = client.request("PUT", "/big", std::string(9u << 20, 'x'));
  ASSERT_TRUE(too_big.has_value()) << too_big.error().message;
  EXPECT_EQ(too_big->status, 413);

  auto small = client.request("POST", "/small", std::string(2u << 20, 'x'));
  ASSERT_TRUE(small.has_value()) << small.error().message;
  EXPECT_EQ(small->status, 413);
  EXPECT_NE(small->body.find("payload_too_large"), std::string::npos);

  // The client recovers: the next request on a fresh connection works.
  auto again = client.request("PUT", "/big", "{}");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->status, 200);
  server.stop();
}

}  // namespace
}  // namespace xop
