// A real HttpServer on a loopback port 0, talked to by HttpClient and by raw sockets.
#include "net/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Writes `request` on a fresh connection and reads until the server closes it (or 10 s pass).
std::string raw_exchange(uint16_t port, const std::string& request, bool half_close = false) {
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const timeval tv{10, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  boost::system::error_code ec;
  asio::write(s, asio::buffer(request), ec);
  if (half_close) s.shutdown(tcp::socket::shutdown_send, ec);
  std::string out;
  char buf[4096];
  for (;;) {
    const size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

int status_of(const std::string& raw_response) {
  if (raw_response.size() < 12 || raw_response.rfind("HTTP/1.", 0) != 0) return -1;
  return std::stoi(raw_response.substr(9, 3));
}

std::string body_of(const std::string& raw_response) {
  const auto p = raw_response.find("\r\n\r\n");
  return p == std::string::npos ? "" : raw_response.substr(p + 4);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(HttpServerOptions{}); }

  void start(HttpServerOptions opts) {
    server_.reset();
    auto router = std::make_shared<Router>();
    router->add("GET", "/v1/ping", [](const HttpRequest&, const PathParams&) {
      return json_response(200, Json{{"pong", true}});
    });
    router->add("GET", "/v1/remote", [](const HttpRequest& r, const PathParams&) {
      return json_response(200, Json{{"remote", r.remote}});
    });
    router->add(
        "POST", "/v1/echo/{id}",
        [](const HttpRequest& r, const PathParams& p) {
          return json_response(200, Json{{"id", p.at("id")}, {"body", r.body}, {"q", r.query}, {"target", r.target}});
        },
        1024);
    router->add(
        "POST", "/v1/small",
        [](const HttpRequest& r, const PathParams&) {
          return json_response(200, Json{{"len", r.body.size()}});
        },
        16);
    router->add("GET", "/v1/throw",
                [](const HttpRequest&, const PathParams&) -> HttpResponse { throw std::runtime_error("boom"); });
    server_ = std::make_unique<HttpServer>(opts, router);
    ASSERT_TRUE(server_->start().has_value());
    ASSERT_NE(server_->port(), 0);
  }

  Endpoint endpoint() const { return Endpoint{"127.0.0.1", server_->port()}; }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesJson) {
  HttpClient c(endpoint());
  auto r = c.request("GET", "/v1/ping", "");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_EQ(*parse_json(r->body), (Json{{"pong", true}}));
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(HttpServerTest, PassesPathParamsQueryAndBody) {
  HttpClient c(endpoint());
  auto r = c.request("POST", "/v1/echo/abc?x=1&y=two", R"({"k":"v"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  const auto j = *parse_json(r->body);
  EXPECT_EQ(j["id"], "abc");
  EXPECT_EQ(j["body"], R"({"k":"v"})");
  EXPECT_EQ(j["q"]["x"], "1");
  EXPECT_EQ(j["q"]["y"], "two");
  EXPECT_EQ(j["target"], "/v1/echo/abc?x=1&y=two");
}

TEST_F(HttpServerTest, NotFoundMethodNotAllowedAndExceptionsAreJson) {
  HttpClient c(endpoint());
  auto nf = c.request("GET", "/nope", "");
  ASSERT_TRUE(nf.has_value());
  EXPECT_EQ(nf->status, 404);
  EXPECT_EQ((*parse_json(nf->body))["error"]["code"], "not_found");
  auto na = c.request("DELETE", "/v1/ping", "");
  ASSERT_TRUE(na.has_value());
  EXPECT_EQ(na->status, 405);
  auto ex = c.request("GET", "/v1/throw", "");
  ASSERT_TRUE(ex.has_value());
  EXPECT_EQ(ex->status, 500);
  EXPECT_EQ((*parse_json(ex->body))["error"]["code"], "internal");
  // The connection survives all of that.
  EXPECT_EQ(c.request("GET", "/v1/ping", "")->status, 200);
}

TEST_F(HttpServerTest, HeadHasHeadersButNoBody) {
  HttpClient c(endpoint());
  auto r = c.request("HEAD", "/v1/ping", "");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->headers["content-length"], std::to_string(Json{{"pong", true}}.dump().size()));
  // And the connection is still usable afterwards (no stray body bytes).
  auto g = c.request("GET", "/v1/ping", "");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(*parse_json(g->body), (Json{{"pong", true}}));
}

TEST_F(HttpServerTest, KeepAliveReusesTheConnection) {
  HttpClient c(endpoint());
  std::set<std::string> remotes;
  for (int i = 0; i < 20; ++i) {
    auto r = c.request("GET", "/v1/remote", "");
    ASSERT_TRUE(r.has_value());
    remotes.insert((*parse_json(r->body))["remote"].get<std::string>());
  }
  EXPECT_EQ(remotes.size(), 1u);
  HttpClient other(endpoint());
  auto r = other.request("GET", "/v1/remote", "");
  EXPECT_EQ(remotes.count((*parse_json(r->body))["remote"].get<std::string>()), 0u);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  const auto raw = raw_exchange(server_->port(), "GET /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(raw), 200);
  EXPECT_EQ(*parse_json(body_of(raw)), (Json{{"pong", true}}));
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  const std::string one = "GET /v1/ping HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string two = "POST /v1/small HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";
  const auto raw = raw_exchange(server_->port(), one + two);
  const auto second = raw.find("HTTP/1.1", 1);
  ASSERT_NE(second, std::string::npos) << raw;
  EXPECT_EQ(status_of(raw), 200);
  EXPECT_EQ(status_of(raw.substr(second)), 200);
  EXPECT_NE(raw.find(R"({"len":3})"), std::string::npos);
}

TEST_F(HttpServerTest, BodyOverRouteLimitWithContentLengthIs413Json) {
  HttpClient c(endpoint());
  auto r = c.request("POST", "/v1/small", std::string(17, 'x'));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ((*parse_json(r->body))["error"]["code"], "payload_too_large");
  // Exactly at the limit is fine, and the client recovers on a new connection.
  auto ok = c.request("POST", "/v1/small", std::string(16, 'x'));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, LargeBodyOverLimitIs413NotAReset) {
  // Much more than the limit, so the server answers before it has read what was sent.
  for (int i = 0; i < 20; ++i) {
    HttpClient c(endpoint());
    auto r = c.request("POST", "/v1/small", std::string(512 * 1024, 'x'));
    ASSERT_TRUE(r.has_value()) << "attempt " << i << ": " << r.error().message;
    EXPECT_EQ(r->status, 413);
  }
}

TEST_F(HttpServerTest, ChunkedBodyOverRouteLimitIs413Json) {
  std::string req = "POST /v1/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) req += "8\r\n12345678\r\n";
  req += "0\r\n\r\n";
  const auto raw = raw_exchange(server_->port(), req);
  EXPECT_EQ(status_of(raw), 413) << raw;
  auto j = parse_json(body_of(raw));
  ASSERT_TRUE(j.has_value()) << raw;
  EXPECT_EQ((*j)["error"]["code"], "payload_too_large");
}

TEST_F(HttpServerTest, ChunkedBodyWithinLimitIsAccepted) {
  const auto raw = raw_exchange(server_->port(),
                                "POST /v1/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: "
                                "close\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(raw), 200) << raw;
  EXPECT_EQ(*parse_json(body_of(raw)), (Json{{"len", 8}}));
}

TEST_F(HttpServerTest, HeadersTooLargeIs4xx) {
  std::string req = "GET /v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(32 * 1024, 'h') + "\r\n\r\n";
  const auto raw = raw_exchange(server_->port(), req);
  const int status = status_of(raw);
  EXPECT_GE(status, 400) << raw.substr(0, 200);
  EXPECT_LT(status, 500);
  EXPECT_TRUE(parse_json(body_of(raw)).has_value());
}

TEST_F(HttpServerTest, MalformedRequestsAre400Json) {
  for (const char* bad :
       {"GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET /v1/ping HTTP/9.9\r\n\r\n",
        "GET /v1/ping HTTP/1.1\r\nNo colon here\r\n\r\n", "POST /v1/small HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /v1/small HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    const auto raw = raw_exchange(server_->port(), bad);
    EXPECT_EQ(status_of(raw), 400) << bad << " -> " << raw;
    auto j = parse_json(body_of(raw));
    ASSERT_TRUE(j.has_value()) << bad;
    EXPECT_EQ((*j)["error"]["code"], "invalid_argument");
  }
  // The server is still fine.
  HttpClient c(endpoint());
  EXPECT_EQ(c.request("GET", "/v1/ping", "")->status, 200);
}

TEST_F(HttpServerTest, TruncatedRequestIsDropped) {
  // Half a request and then EOF: nothing to answer, but nothing must break either.
  const auto raw = raw_exchange(server_->port(), "POST /v1/small HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", true);
  EXPECT_TRUE(raw.empty() || status_of(raw) == 400) << raw;
  HttpClient c(endpoint());
  EXPECT_EQ(c.request("GET", "/v1/ping", "")->status, 200);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
  HttpServerOptions opts;
  opts.idle_timeout = 1s;
  start(opts);
  const auto t0 = std::chrono::steady_clock::now();
  // Send nothing at all: the server must hang up on its own.
  const auto raw = raw_exchange(server_->port(), "");
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(raw.empty()) << raw;
  EXPECT_GE(waited, 900ms);
  EXPECT_LT(waited, 8s);
}

TEST_F(HttpServerTest, ClientRecoversWhenServerClosedIdleConnection) {
  HttpServerOptions opts;
  opts.idle_timeout = 1s;
  start(opts);
  HttpClient c(endpoint());
  ASSERT_EQ(c.request("GET", "/v1/ping", "")->status, 200);
  // Wait (by polling a fresh raw connection being closed) until the idle timeout has certainly fired.
  (void)raw_exchange(server_->port(), "");
  auto r = c.request("GET", "/v1/ping", "");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, StopClosesConnectionsAndRefusesNewOnes) {
  HttpClient c(endpoint(), 10s);
  ASSERT_EQ(c.request("GET", "/v1/ping", "")->status, 200);
  // A raw keep-alive connection that is idle when the server stops.
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  const timeval tv{10, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  server_->stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  char b;
  boost::system::error_code ec;
  const size_t n = s.read_some(asio::buffer(&b, 1), ec);
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "idle connection was not closed by stop()";
  const auto t1 = std::chrono::steady_clock::now();
  auto r = c.request("GET", "/v1/ping", "");
  EXPECT_FALSE(r.has_value());
  if (!r) {
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 5s) << "client hung against a stopped server";
}

TEST_F(HttpServerTest, DestroyWhileClientsAreConnected) {
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<HttpClient>(endpoint(), 5s));
    ASSERT_EQ(clients.back()->request("GET", "/v1/ping", "")->status, 200);
  }
  server_.reset();
  for (auto& c : clients) EXPECT_FALSE(c->request("GET", "/v1/ping", "").has_value());
}

TEST_F(HttpServerTest, ManyConcurrentClientsAllAnsweredCorrectly) {
  constexpr int kThreads = 8;
  constexpr int kRequests = 200;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c(endpoint());
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = c.request("POST", "/v1/echo/" + std::to_string(t) + "?i=" + std::to_string(i), body);
        if (!r || r->status != 200) continue;
        auto j = parse_json(r->body);
        if (j && (*j)["body"] == body && (*j)["id"] == std::to_string(t) && (*j)["q"]["i"] == std::to_string(i)) {
          ++good;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), kThreads * kRequests);
}

TEST_F(HttpServerTest, ListenFailuresAreErrors) {
  HttpServerOptions bad_host;
  bad_host.host = "not an address";
  HttpServer s1(bad_host, std::make_shared<Router>());
  EXPECT_FALSE(s1.start().has_value());
  HttpServerOptions taken;
  taken.port = server_->port();
  HttpServer s2(taken, std::make_shared<Router>());
  auto r = s2.start();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

// ---------------------------------------------------------------- client against hostile servers

TEST(HttpClientTest, TimesOutAgainstAServerThatNeverAnswers) {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  std::vector<tcp::socket> held;
  std::thread t([&] {
    // Accept (up to two connections, in case the client retries) and never answer.
    for (int i = 0; i < 2; ++i) {
      boost::system::error_code ec;
      tcp::socket s(ioc);
      acceptor.accept(s, ec);
      if (ec) return;
      held.push_back(std::move(s));
    }
  });
  HttpClient c(Endpoint{"127.0.0.1", port}, 300ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.request("GET", "/v1/ping", "");
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  boost::system::error_code ec;
  acceptor.close(ec);
  // Unblock the accept thread if it is still waiting for a second connection.
  {
    asio::io_context ioc2;
    tcp::socket poke(ioc2);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  }
  t.join();
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  // Find a port that is free by binding and closing.
  uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  HttpClient c(Endpoint{"127.0.0.1", port}, 2s);
  auto r = c.request("GET", "/", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(HttpClientTest, ResponseSizeCapIsEnforced) {
  auto router = std::make_shared<Router>();
  router->add("GET", "/big", [](const HttpRequest&, const PathParams&) {
    return json_response(200, Json{{"x", std::string(100'000, 'b')}});
  });
  HttpServer server(HttpServerOptions{}, router);
  ASSERT_TRUE(server.start().has_value());
  HttpClient small(Endpoint{"127.0.0.1", server.port()}, 5s, 10'000);
  auto r = small.request("GET", "/big", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  HttpClient big(Endpoint{"127.0.0.1", server.port()}, 5s);
  EXPECT_EQ(big.request("GET", "/big", "")->status, 200);
}

TEST(HttpClientTest, GarbageResponseIsUnavailable) {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  std::thread t([&] {
    boost::system::error_code ec;
    tcp::socket s(ioc);
    acceptor.accept(s, ec);
    if (ec) return;
    char buf[1024];
    s.read_some(asio::buffer(buf), ec);
    asio::write(s, asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")), ec);
    s.shutdown(tcp::socket::shutdown_both, ec);
  });
  HttpClient c(Endpoint{"127.0.0.1", port}, 2s);
  auto r = c.request("GET", "/", "");
  t.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace xop
