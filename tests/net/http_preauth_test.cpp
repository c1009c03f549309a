// Issue 14, item 2: nobody can exhaust a daemon's memory without credentials. The server
// authenticates a signed route from its headers before reading any body byte, streams large
// bodies to disk under quotas, caps connections per peer and in total, and cuts slow headers.
// The peer side here is a raw socket, so what the server read is what this test sent.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "client/api_client.h"
#include "crypto/digest.h"
#include "net/http_server.h"
#include "support/test_support.h"

namespace xop {
namespace {

constexpr const char* kAudience = "preauth-test-service";

// A raw TCP connection from a chosen loopback source address.
class RawConn {
 public:
  RawConn(uint16_t port, const char* from = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &src.sin_addr);
    (void)::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  bool send_all(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads one response (headers and a Content-Length body) within `timeout`; "" if none came.
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t len = 0;
        const auto cl = buf_.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) len = std::stoul(buf_.substr(cl + 16));
        if (buf_.size() >= end + 4 + len) {
          std::string r = buf_.substr(0, end + 4 + len);
          buf_.erase(0, end + 4 + len);
          return r;
        }
      }
      if (!wait_readable(deadline)) return "";
      char tmp[4096];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return "";
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // True once the peer closed (EOF or reset) before `timeout`.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (wait_readable(deadline)) {
      char tmp[4096];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool wait_readable(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(response.substr(9, 3));
}

class HttpPreauthTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions o = {}) {
    o.spool_dir = spool_.path();
    auto router = std::make_shared<Router>();
    router->set_verifier(&verifier_);
    router->add(
        "PUT", "/upload",
        [this](const HttpRequest& req, const PathParams&) {
          ++handled_;
          spooled_file_ = req.body_file;
          const bool on_disk = !req.body_file.empty() && std::filesystem::exists(req.body_file);
          return json_response(200, Json{{"in_memory", req.body.size()},
                                         {"on_disk", on_disk},
                                         {"size", req.body_size},
                                         {"caller", req.caller ? req.caller->account_id() : ""}});
        },
        size_t{512} << 20, Access::kSigned, kSpoolBody);
    router->add(
        "POST", "/echo",
        [this](const HttpRequest& req, const PathParams&) {
          ++handled_;
          return json_response(200, Json{{"body", req.body}});
        },
        kDefaultMaxBody, Access::kSigned);
    router->add("GET", "/ping", [](const HttpRequest&, const PathParams&) { return json_response(200, Json{}); });
    server_ = std::make_unique<HttpServer>(o, router);
    ASSERT_TRUE(server_->start());
    router_ = router;
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  std::string signed_put_header(const std::string& body, size_t content_length) {
    auto sig = sign_request(key_, "PUT", "/upload", SystemClock::instance().now_ms(), kAudience, body);
    std::string h = "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(content_length) + "\r\n";
    for (const auto& [k, v] : signature_headers(sig)) h += k + ": " + v + "\r\n";
    return h + "\r\n";
  }

  testing::TempDir spool_;
  KeyPair key_ = KeyPair::generate();
  RequestVerifier verifier_{SystemClock::instance(), kAudience};
  std::shared_ptr<Router> router_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
  std::string spooled_file_;
};

// Attack: an unauthenticated client announces a 512 MiB upload. The server answers 401 from
// the headers alone: this test has sent no body byte when the answer arrives (before the fix,
// the server waited to read the whole body and no answer came).
TEST_F(HttpPreauthTest, UnsignedLargeUploadIsRefusedBeforeAnyBodyByteIsRead) {
  start();
  for (const std::string& extra : {std::string(), std::string("X-Xop-Key: AAAA\r\nX-Xop-Signature: AAAA\r\n")}) {
    RawConn c(server_->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send_all("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size_t{512} << 20) +
                           "\r\n" + extra + "\r\n"));
    const std::string r = c.read_response(std::chrono::seconds(5));
    EXPECT_EQ(status_of(r), 401) << r;
    EXPECT_NE(r.find("unauthenticated"), std::string::npos) << r;
    EXPECT_NE(r.find(std::string("X-Xop-Audience: ") + kAudience), std::string::npos) << r;
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(5)));
  }
  EXPECT_EQ(handled_.load(), 0);
  EXPECT_TRUE(std::filesystem::is_empty(spool_.path()));
}

// Attack: a valid signature over one body, sent with another body.
TEST_F(HttpPreauthTest, SignedBodyWhoseDigestDoesNotMatchIsRefused) {
  start();
  auto sig = sign_request(key_, "POST", "/echo", SystemClock::instance().now_ms(), kAudience, "the signed body");
  const std::string other = "another body!!!";  // same length
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(other.size()) + "\r\n";
  for (const auto& [k, v] : signature_headers(sig)) req += k + ": " + v + "\r\n";
  RawConn c(server_->port());
  ASSERT_TRUE(c.send_all(req + "\r\n" + other));
  const std::string r = c.read_response();
  EXPECT_EQ(status_of(r), 401) << r;
  EXPECT_NE(r.find("X-Xop-Content-Sha256"), std::string::npos) << r;
  EXPECT_EQ(handled_.load(), 0);
  // A genuine request (signed afresh: a signature is accepted once) goes through.
  ApiClient client(Endpoint{"127.0.0.1", server_->port()}, key_);
  client.set_audience(kAudience);
  auto ok = client.call("POST", "/echo", Json{{"k", 1}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(HttpPreauthTest, SignedLargeBodyIsStreamedToTheSpoolAndRemovedAfterwards) {
  start();
  const std::string body(size_t{3} << 20, 'z');
  ApiClient client(Endpoint{"127.0.0.1", server_->port()}, key_);
  client.set_audience(kAudience);
  auto r = client.call_raw("PUT", "/upload", body, "application/octet-stream");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = parse_json(r->body);
  EXPECT_EQ((*j)["in_memory"], 0);
  EXPECT_EQ((*j)["on_disk"], true);
  EXPECT_EQ((*j)["size"], body.size());
  EXPECT_EQ((*j)["caller"], key_.account_id());
  EXPECT_EQ(spooled_file_.rfind(spool_.path(), 0), 0u) << spooled_file_;
  // Removed once the request is done (right after the answer is written).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::filesystem::exists(spooled_file_) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(std::filesystem::exists(spooled_file_));
}

// Attack: one caller fills the disk with parallel uploads. Its spool quota is refused (503)
// before the body is read, while another caller still gets through.
TEST_F(HttpPreauthTest, SpoolQuotaPerCallerIsEnforcedBeforeTheBodyIsRead) {
  HttpServerOptions o;
  o.max_spool_bytes_per_caller = size_t{4} << 20;
  start(o);
  // First upload: announced at 3 MiB, body still to come (holds its reservation).
  RawConn first(server_->port());
  const std::string body1(size_t{3} << 20, 'a');
  ASSERT_TRUE(first.send_all(signed_put_header(body1, body1.size())));
  ASSERT_TRUE(first.send_all(body1.substr(0, 1024)));
  // Second one by the same caller, also 3 MiB: over the 4 MiB quota.
  const std::string body2(size_t{3} << 20, 'b');
  // The first reservation is made once the server has read the first header; poll until the
  // second is refused (bounded).
  std::string r2;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    RawConn second(server_->port());
    ASSERT_TRUE(second.send_all(signed_put_header(body2, body2.size())));
    r2 = second.read_response(std::chrono::seconds(5));
    if (status_of(r2) == 503) break;
  }
  EXPECT_EQ(status_of(r2), 503) << r2;
  EXPECT_NE(r2.find("quota"), std::string::npos) << r2;
  // Another caller is not affected.
  ApiClient other(Endpoint{"127.0.0.1", server_->port()}, KeyPair::generate());
  other.set_audience(kAudience);
  auto r3 = other.call_raw("PUT", "/upload", body2, "application/octet-stream");
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->status, 200) << r3->body;
  // The first upload completes normally.
  ASSERT_TRUE(first.send_all(std::string_view(body1).substr(1024)));
  EXPECT_EQ(status_of(first.read_response()), 200);
}

// Attack: one peer opens many connections. Beyond the per-peer cap it gets a 503 JSON error;
// another peer address is still served; beyond the total cap everyone gets 503.
TEST_F(HttpPreauthTest, ConnectionsAreCappedPerPeerAndInTotal) {
  HttpServerOptions o;
  o.max_connections_per_peer = 3;
  o.max_connections = 5;
  start(o);
  const std::string ping = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConn>(server_->port(), "127.0.0.1"));
    ASSERT_TRUE(held.back()->send_all(ping));
    ASSERT_EQ(status_of(held.back()->read_response()), 200) << i;  // held open (keep-alive)
  }
  RawConn excess(server_->port(), "127.0.0.1");
  ASSERT_TRUE(excess.send_all(ping));
  const std::string r = excess.read_response();
  EXPECT_EQ(status_of(r), 503) << r;
  EXPECT_NE(r.find("too many connections"), std::string::npos) << r;
  EXPECT_TRUE(excess.closed_within(std::chrono::seconds(5)));

  // Another peer is served, up to the total.
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawConn>(server_->port(), "127.0.0.2"));
    ASSERT_TRUE(held.back()->send_all(ping));
    ASSERT_EQ(status_of(held.back()->read_response()), 200) << i;
  }
  RawConn third(server_->port(), "127.0.0.3");
  ASSERT_TRUE(third.send_all(ping));
  EXPECT_EQ(status_of(third.read_response()), 503);

  // Closing connections frees their slots (the server notices the close asynchronously).
  held.clear();
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    RawConn again(server_->port(), "127.0.0.1");
    if (again.send_all(ping)) status = status_of(again.read_response());
  }
  EXPECT_EQ(status, 200);
}

// Attack (slowloris): a client dribbles a header one line at a time to hold a connection.
// The whole header must arrive within header_timeout of its first byte.
TEST_F(HttpPreauthTest, SlowHeaderIsCutAtTheHeaderDeadline) {
  HttpServerOptions o;
  o.idle_timeout = std::chrono::seconds(60);
  o.header_timeout = std::chrono::seconds(1);
  start(o);
  RawConn c(server_->port());
  ASSERT_TRUE(c.send_all("GET /ping HTTP/1.1\r\n"));
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 50 && !closed; ++i) {
    if (!c.send_all("X-Slow-" + std::to_string(i) + ": y\r\n")) {
      closed = true;
      break;
    }
    closed = c.closed_within(std::chrono::milliseconds(200));
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(closed);
  EXPECT_LT(took, std::chrono::seconds(5));
}

// Attack: a body sent to a path no route serves (or with a method it does not take) used to be
// read (1 MiB) before the 404. Now the answer comes from the headers; no body byte was sent.
TEST_F(HttpPreauthTest, BodyForAnUnknownRouteIsNeverRead) {
  start();
  for (const std::string& line : {std::string("POST /nope"), std::string("DELETE /ping")}) {
    RawConn c(server_->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(
        c.send_all(line + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size_t{1} << 20) + "\r\n\r\n"));
    const std::string r = c.read_response(std::chrono::seconds(5));
    EXPECT_EQ(status_of(r), line[0] == 'P' ? 404 : 405) << line << ": " << r;
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(5))) << line;
  }
  EXPECT_EQ(handled_.load(), 0);
}

// Attack: a signed upload trickled a few bytes at a time held its spool reservation as long as
// each chunk came within the idle timeout. The whole body now has a deadline from the minimum
// rate; when it passes the connection is cut, and the reservation is free again.
TEST_F(HttpPreauthTest, TrickledUploadIsCutAtItsRateDeadlineAndFreesItsReservation) {
  HttpServerOptions o;
  o.header_timeout = std::chrono::seconds(1);
  o.min_transfer_bytes_per_s = 1 << 20;  // 1 MiB/s: 3 MiB may take 1 s + 3 s
  o.max_spool_bytes_per_caller = size_t{4} << 20;
  start(o);
  const std::string body(size_t{3} << 20, 'a');
  RawConn slow(server_->port());
  ASSERT_TRUE(slow.send_all(signed_put_header(body, body.size())));
  const auto started = std::chrono::steady_clock::now();
  bool cut = false;
  // Far slower than the minimum rate (the idle timeout of 30 s would never fire).
  for (size_t sent = 0; sent < body.size() && std::chrono::steady_clock::now() - started < std::chrono::seconds(20);
       sent += 64) {
    if (!slow.send_all(body.substr(sent, 64)) || slow.closed_within(std::chrono::milliseconds(100))) {
      cut = true;
      break;
    }
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(cut);
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_EQ(handled_.load(), 0);
  // The same caller's next 3 MiB upload fits its 4 MiB quota again (polled: the cut connection's
  // coroutine frees the reservation as it unwinds).
  ApiClient client(Endpoint{"127.0.0.1", server_->port()}, key_);
  client.set_audience(kAudience);
  int status = 0;
  EXPECT_TRUE(testing::poll_until(
      [&] {
        auto r = client.call_raw("PUT", "/upload", body, "application/octet-stream");
        status = r ? r->status : 0;
        return status == 200;
      },
      std::chrono::seconds(10)))
      << status;
}

}  // namespace
}  // namespace xop
