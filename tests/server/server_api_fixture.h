// The server's HTTP API over a real HttpServer on port 0, with a SessionManager on the mock
// sandbox (tests/server/session_fixture.h), and clients for alice, bob and an anonymous caller.
// Shared by the API tests and the blob access tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "client/api_client.h"
#include "net/http_server.h"
#include "server/server_api.h"
#include "server/session_fixture.h"

namespace xop::testing {

class ServerApiFixture : public ::testing::Test {
 protected:
  static constexpr const char* kAudience = "server-under-test";

  void SetUp() override {
    verifier_ = std::make_unique<RequestVerifier>(env_.clock, kAudience);
    ServerApiDeps deps;
    deps.sessions = env_.manager.get();
    deps.images = env_.images.get();
    deps.verifier = verifier_.get();
    deps.info = [] { return Json{{"service", "xop-server"}, {"audience", kAudience}}; };
    deps.clock = &env_.clock;
    http_ = std::make_unique<HttpServer>(HttpServerOptions{}, make_server_api(deps));
    ASSERT_TRUE(http_->start());
    alice_ = client(env_.alice);
    bob_ = client(env_.bob);
    anon_ = std::make_unique<ApiClient>(*ApiClient::connect(http_->url(), std::nullopt, env_.clock));
  }
  void TearDown() override { http_->stop(); }

  std::unique_ptr<ApiClient> client(const KeyPair& k) {
    auto c = ApiClient::connect(http_->url(), k, env_.clock);
    EXPECT_TRUE(c) << c.error().message;
    return std::make_unique<ApiClient>(std::move(*c));
  }

  SessionEnv env_;
  std::unique_ptr<RequestVerifier> verifier_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<ApiClient> alice_;
  std::unique_ptr<ApiClient> bob_;
  std::unique_ptr<ApiClient> anon_;
};

}  // namespace xop::testing
