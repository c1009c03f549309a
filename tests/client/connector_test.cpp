// ApiClient::connect with a Connector reaches the endpoint through the transport it returns (the
// seam the deployer and the simulated platform use); without one it is HTTP as before.
#include "client/connector.h"

#include <gtest/gtest.h>

#include "client/api_client.h"
#include "net/router_transport.h"

namespace xop {
namespace {

TEST(ConnectorTest, ConnectUsesTheConnectorsTransport) {
  auto router = std::make_shared<Router>();
  router->add("GET", "/v1/hello", [](const HttpRequest& req, const PathParams&) {
    return json_response(200, Json{{"remote", req.remote}});
  });
  std::vector<std::string> asked;
  Connector connector = [&](const Endpoint& ep) -> std::shared_ptr<Transport> {
    asked.push_back(ep.url());
    return std::make_shared<RouterTransport>(router, "sim-peer");
  };
  auto c = ApiClient::connect("http://corp.sim:7000", std::nullopt, SystemClock::instance(), connector);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->endpoint().host, "corp.sim");
  EXPECT_EQ(c->endpoint().port, 7000);
  auto r = c->call("GET", "/v1/hello");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, (Json{{"remote", "sim-peer"}}));
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], "http://corp.sim:7000");

  auto missing = c->call("GET", "/v1/nothing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(ConnectorTest, BadUrlFailsBeforeTheConnector) {
  bool called = false;
  Connector connector = [&](const Endpoint&) -> std::shared_ptr<Transport> {
    called = true;
    return nullptr;
  };
  auto c = ApiClient::connect("not a url", std::nullopt, SystemClock::instance(), connector);
  EXPECT_FALSE(c);
  EXPECT_FALSE(called);
}

TEST(ConnectorTest, HttpConnectorGivesAnHttpClient) {
  auto t = http_connector()(Endpoint{"127.0.0.1", 1});
  ASSERT_NE(t, nullptr);
  EXPECT_NE(dynamic_cast<HttpClient*>(t.get()), nullptr);
}

}  // namespace
}  // namespace xop
