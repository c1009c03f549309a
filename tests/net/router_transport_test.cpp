// RouterTransport takes a request through the same gate as HttpServer (net/request_gate.h): the
// same signed request, sent over loopback HTTP and in-process, gets the same status and body.
#include "net/router_transport.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/digest.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "support/test_support.h"

namespace xop {
namespace {

constexpr const char* kAudience = "router-transport-test";

// One service: its own verifier (signatures are remembered against replay, so each transport
// gets its own copy and the same request can be sent to both).
struct Service {
  RequestVerifier verifier{SystemClock::instance(), kAudience};
  std::shared_ptr<Router> router = std::make_shared<Router>();
  std::string spooled_file;
  Service() {
    router->set_verifier(&verifier);
    router->add(
        "POST", "/echo",
        [](const HttpRequest& req, const PathParams&) {
          return json_response(200, Json{{"body", req.body}, {"caller", req.caller ? req.caller->account_id() : ""}});
        },
        64, Access::kSigned);
    router->add(
        "POST", "/maybe",
        [](const HttpRequest& req, const PathParams&) {
          return json_response(200, Json{{"caller", req.caller ? req.caller->account_id() : ""}});
        },
        kDefaultMaxBody, Access::kOptional);
    router->add(
        "PUT", "/upload",
        [this](const HttpRequest& req, const PathParams&) {
          spooled_file = req.body_file;
          const bool on_disk = !req.body_file.empty() && std::filesystem::exists(req.body_file);
          return json_response(200,
                               Json{{"in_memory", req.body.size()}, {"on_disk", on_disk}, {"size", req.body_size}});
        },
        kDefaultMaxBody, Access::kSigned, kSpoolBody);
    router->add("GET", "/ping", [](const HttpRequest& req, const PathParams&) {
      return json_response(200, Json{{"q", req.query.count("x") != 0 ? req.query.at("x") : ""}});
    });
  }
};

class RouterTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(HttpServerOptions{}, over_http_.router);
    ASSERT_TRUE(server_->start());
    http_ = std::make_unique<HttpClient>(Endpoint{"127.0.0.1", server_->port()});
    local_ = std::make_unique<RouterTransport>(in_process_.router);
  }
  void TearDown() override { server_->stop(); }

  std::map<std::string, std::string> signed_headers(const KeyPair& k, const std::string& method,
                                                    const std::string& target, const std::string& body,
                                                    const std::string& audience = kAudience) {
    auto h = signature_headers(sign_request(k, method, target, SystemClock::instance().now_ms(), audience, body));
    h["Content-Type"] = "application/json";
    return h;
  }
  // Sends the same request both ways and checks both answers agree; returns the in-process one.
  HttpResponse both(const std::string& method, const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers) {
    auto a = http_->request(method, target, body, headers);
    auto b = local_->request(method, target, body, headers);
    EXPECT_TRUE(a) << a.error().to_string();
    EXPECT_TRUE(b) << b.error().to_string();
    if (!a || !b) return {};
    EXPECT_EQ(a->status, b->status) << a->body << " vs " << b->body;
    EXPECT_EQ(a->body, b->body);
    EXPECT_EQ(a->content_type, b->content_type);
    EXPECT_EQ(a->headers["x-xop-audience"], b->headers["x-xop-audience"]);
    return *b;
  }

  Service over_http_;
  Service in_process_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<RouterTransport> local_;
  KeyPair key_ = KeyPair::generate();
};

TEST_F(RouterTransportTest, SignedRequestIsServed) {
  const std::string body = R"({"a":1})";
  auto res = both("POST", "/echo", body, signed_headers(key_, "POST", "/echo", body));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, Json({{"body", body}, {"caller", key_.public_key().account_id()}}).dump());
}

TEST_F(RouterTransportTest, BadSignatureIs401WithTheAudience) {
  const std::string body = R"({"a":1})";
  auto h = signed_headers(key_, "POST", "/echo", body, "someone-else");
  auto res = both("POST", "/echo", body, h);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.headers["x-xop-audience"], kAudience);
}

TEST_F(RouterTransportTest, TamperedBodyIsRefused) {
  auto h = signed_headers(key_, "POST", "/echo", R"({"a":1})");
  auto res = both("POST", "/echo", R"({"a":2})", h);
  EXPECT_EQ(res.status, 401);
}

TEST_F(RouterTransportTest, UnsignedOnASignedRouteIs401) {
  auto res = both("POST", "/echo", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.status, 401);
}

TEST_F(RouterTransportTest, OptionalRouteChecksASignatureOnlyWhenSent) {
  auto anon = both("POST", "/maybe", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(anon.status, 200);
  EXPECT_EQ(anon.body, Json({{"caller", ""}}).dump());
  auto with = both("POST", "/maybe", "{}", signed_headers(key_, "POST", "/maybe", "{}"));
  EXPECT_EQ(with.status, 200);
  EXPECT_EQ(with.body, Json({{"caller", key_.public_key().account_id()}}).dump());
  auto bad = both("POST", "/maybe", "{}", signed_headers(key_, "POST", "/maybe", "{}", "someone-else"));
  EXPECT_EQ(bad.status, 401);
}

TEST_F(RouterTransportTest, UnknownRouteAndWrongMethod) {
  EXPECT_EQ(both("GET", "/nowhere", "", {}).status, 404);
  EXPECT_EQ(both("POST", "/nowhere", "{}", {{"Content-Type", "application/json"}}).status, 404);
  EXPECT_EQ(both("DELETE", "/echo", "", {}).status, 405);
}

TEST_F(RouterTransportTest, OversizedBodyIs413) {
  const std::string body(100, 'x');  // the route takes 64 bytes
  auto res = both("POST", "/echo", body, signed_headers(key_, "POST", "/echo", body));
  EXPECT_EQ(res.status, 413);
}

TEST_F(RouterTransportTest, QueryAndMixedCaseHeaders) {
  auto res = both("GET", "/ping?x=7", "", {{"X-Anything", "1"}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, Json({{"q", "7"}}).dump());
}

TEST_F(RouterTransportTest, SpooledRouteGetsItsBodyInAFileRemovedAfterwards) {
  const std::string body(1000, 'b');
  auto res = both("PUT", "/upload", body, signed_headers(key_, "PUT", "/upload", body));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, Json({{"in_memory", 0}, {"on_disk", true}, {"size", 1000}}).dump());
  ASSERT_FALSE(in_process_.spooled_file.empty());
  EXPECT_FALSE(std::filesystem::exists(in_process_.spooled_file));
}

}  // namespace
}  // namespace xop
