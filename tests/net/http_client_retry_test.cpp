// The client retries only when a kept-alive connection was closed before the server read the
// request; a timeout on a reused connection must not send the request a second time.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "net/http_client.h"
#include "net/http_server.h"

namespace xop {
namespace {

TEST(HttpClientRetry, TimeoutOnReusedConnectionIsNotResent) {
  std::atomic<int> calls{0};
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  auto router = std::make_shared<Router>();
  router->add("POST", "/work", [&](const HttpRequest&, const PathParams&) {
    if (++calls == 2) {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::seconds(5), [&] { return release; });
    }
    return json_response(200, Json::object());
  });
  HttpServerOptions opts;
  opts.threads = 3;
  HttpServer server(opts, router);
  ASSERT_TRUE(server.start().has_value());
  HttpClient client(Endpoint{"127.0.0.1", server.port()}, std::chrono::milliseconds(300));
  ASSERT_TRUE(client.request("POST", "/work", "{}").has_value());  // opens the kept-alive connection
  auto slow = client.request("POST", "/work", "{}");               // reuses it, then times out
  EXPECT_FALSE(slow.has_value());
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(calls.load(), 2) << "the timed-out request was sent again";
  auto after = client.request("POST", "/work", "{}");
  EXPECT_TRUE(after.has_value());
  EXPECT_EQ(calls.load(), 3);
  server.stop();
}

TEST(HttpClientRetry, ServerClosedIdleConnectionIsRetriedOnce) {
  std::atomic<int> calls{0};
  auto router = std::make_shared<Router>();
  router->add("POST", "/work", [&](const HttpRequest&, const PathParams&) {
    ++calls;
    return json_response(200, Json::object());
  });
  HttpServerOptions opts;
  opts.idle_timeout = std::chrono::seconds(1);
  HttpServer server(opts, router);
  ASSERT_TRUE(server.start().has_value());
  HttpClient client(Endpoint{"127.0.0.1", server.port()});
  ASSERT_TRUE(client.request("POST", "/work", "{}").has_value());
  // Restart the server on the same client: its kept-alive connection is now dead.
  const uint16_t port = server.port();
  server.stop();
  HttpServerOptions again = opts;
  again.port = port;
  HttpServer server2(again, router);
  ASSERT_TRUE(server2.start().has_value());
  auto r = client.request("POST", "/work", "{}");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(calls.load(), 2);
  server2.stop();
}

}  // namespace
}  // namespace xop
