// SimNetwork: endpoints served in-process by routers, unreachable when unbound or down, rebound
// when a daemon restarts.
#include "sim/sim_network.h"

#include <gtest/gtest.h>

namespace xop {
namespace {

std::shared_ptr<Router> answering(const std::string& who) {
  auto r = std::make_shared<Router>();
  r->add("GET", "/v1/info", [who](const HttpRequest&, const PathParams&) {
    return json_response(200, Json{{"who", who}});
  });
  return r;
}

std::string who(const Connector& c, const std::string& url) {
  auto t = c(*parse_endpoint(url));
  auto r = t->request("GET", "/v1/info", "", {});
  if (!r) return "unreachable: " + r.error().message;
  return parse_json(r->body)->value("who", "");
}

TEST(SimNetworkTest, ServesBoundEndpointsAndRefusesOthersAsUnreachable) {
  SimNetwork net;
  ASSERT_TRUE(net.bind("http://a.sim:1", answering("a")));
  ASSERT_TRUE(net.bind("http://b.sim:1", answering("b")));
  const Connector c = net.connector();
  EXPECT_EQ(who(c, "http://a.sim:1"), "a");
  EXPECT_EQ(who(c, "http://b.sim:1"), "b");
  EXPECT_EQ(who(c, "http://a.sim:2").rfind("unreachable", 0), 0u) << "another port is another endpoint";
  auto t = c(*parse_endpoint("http://nowhere.sim:1"));
  auto r = t->request("GET", "/v1/info", "", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(net.requests(), 2u);
}

TEST(SimNetworkTest, AnOutageAndARestartAreSeenByExistingTransports) {
  SimNetwork net;
  ASSERT_TRUE(net.bind("http://a.sim:1", answering("first")));
  const Connector c = net.connector();
  auto t = c(*parse_endpoint("http://a.sim:1"));
  net.set_reachable("http://a.sim:1", false);
  EXPECT_FALSE(t->request("GET", "/v1/info", "", {}));
  net.set_reachable("http://a.sim:1", true);
  ASSERT_TRUE(net.bind("http://a.sim:1", answering("second")));  // the daemon restarted
  auto r = t->request("GET", "/v1/info", "", {});
  ASSERT_TRUE(r);
  EXPECT_EQ(parse_json(r->body)->value("who", ""), "second");
  net.unbind("http://a.sim:1");
  EXPECT_FALSE(t->request("GET", "/v1/info", "", {}));
}

TEST(SimNetworkTest, BadBindingsAreRefusedAndConnectorsOutliveTheNetwork) {
  Connector c;
  {
    SimNetwork net;
    EXPECT_FALSE(net.bind("not a url", answering("x")));
    EXPECT_FALSE(net.bind("http://a.sim:1", nullptr));
    ASSERT_TRUE(net.bind("http://a.sim:1", answering("a")));
    c = net.connector();
  }
  auto r = c(*parse_endpoint("http://a.sim:1"))->request("GET", "/v1/info", "", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace xop
