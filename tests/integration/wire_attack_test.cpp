// Issue 14, items 1 (second half) and 2, against real `xop` processes:
//  - a request signed for one daemon is refused by every other daemon (the signature binds the
//    receiving service's audience), and still works at the daemon it was signed for;
//  - unauthenticated 512 MiB uploads are refused before their body is read, and a signed large
//    upload is streamed to disk: the server's peak memory (VmHWM from /proc, ground truth)
//    stays bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "crypto/digest.h"
#include "integration/process_platform.h"
#include "net/http_client.h"

namespace xop::testing {
namespace {

// Peak resident memory of a process, in bytes (VmHWM).
int64_t peak_rss(int pid) { return proc_status_kib(pid, "VmHWM") * 1024; }

std::string audience_of(const std::string& url) {
  auto c = ApiClient::connect(url, std::nullopt);
  auto a = c->audience();
  EXPECT_TRUE(a) << url << ": " << a.error().message;
  return a ? *a : "";
}

class WireAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_ = std::make_unique<ProcessPlatform>(ProcessPlatformOptions{.servers = 2, .runtime = "mock"});
    const std::string err = platform_->start();
    ASSERT_TRUE(err.empty()) << err;
    user_ = platform_->new_user("wire", 5);
  }

  // Sends one request signed by `key` for `audience` to `url`; returns the response.
  static Result<HttpResponse> send_signed(const std::string& url, const KeyPair& key, const std::string& audience,
                                          const std::string& method, const std::string& target, const std::string& body,
                                          std::map<std::string, std::string>* headers) {
    if (headers->empty()) {
      *headers = signature_headers(sign_request(key, method, target, SystemClock::instance().now_ms(), audience, body));
      (*headers)["Content-Type"] = "application/json";
    }
    HttpClient http(*parse_endpoint(url));
    return http.request(method, target, body, *headers);
  }

  std::unique_ptr<ProcessPlatform> platform_;
  KeyPair user_;
};

// Attack: a request signed for one daemon, replayed (the same bytes) to another.
TEST_F(WireAttackTest, RequestSignedForOneDaemonIsRefusedByEveryOther) {
  const std::string corp = platform_->corp_url();
  const std::string xis = platform_->xis_url();
  const std::string a = platform_->server_urls()[0];
  const std::string b = platform_->server_urls()[1];
  const std::string corp_aud = audience_of(corp);
  const std::string xis_aud = audience_of(xis);
  const std::string a_aud = audience_of(a);
  const std::string b_aud = audience_of(b);
  ASSERT_EQ(std::set<std::string>({corp_aud, xis_aud, a_aud, b_aud}).size(), 4u);

  auto expect_refused = [](const Result<HttpResponse>& r, const std::string& signed_for, const std::string& is,
                           const std::string& what) {
    ASSERT_TRUE(r) << what << ": " << r.error().message;
    EXPECT_EQ(r->status, 401) << what << ": " << r->body;
    EXPECT_NE(r->body.find(signed_for), std::string::npos) << what << ": " << r->body;
    EXPECT_NE(r->body.find(is), std::string::npos) << what << ": " << r->body;
    EXPECT_EQ(r->headers.count("x-xop-audience") ? r->headers.at("x-xop-audience") : "", is) << what;
  };

  // GET /v1/sessions signed for server A: refused by server B, then accepted by A (the refusal
  // at B did not use it up: A never saw it).
  std::map<std::string, std::string> h;
  expect_refused(send_signed(b, user_, a_aud, "GET", "/v1/sessions", "", &h), a_aud, b_aud, "A's request at B");
  auto at_a = send_signed(a, user_, a_aud, "GET", "/v1/sessions", "", &h);
  ASSERT_TRUE(at_a);
  EXPECT_EQ(at_a->status, 200) << at_a->body;

  // Signed for the corp (or for XIS), sent to a server.
  h.clear();
  expect_refused(send_signed(a, user_, corp_aud, "GET", "/v1/sessions", "", &h), corp_aud, a_aud,
                 "corp's request at a server");
  h.clear();
  expect_refused(send_signed(a, user_, xis_aud, "GET", "/v1/sessions", "", &h), xis_aud, a_aud,
                 "xis's request at a server");

  // A deposit signed by the admin for server A, sent to the corp; and for the corp, sent to XIS.
  const std::string deposit = Json{{"account", user_.account_id()}, {"amount_micros", 7}, {"memo", "x"}}.dump();
  h.clear();
  expect_refused(send_signed(corp, platform_->admin(), a_aud, "POST", "/v1/deposits", deposit, &h), a_aud, corp_aud,
                 "server's request at the corp");
  h.clear();
  auto for_corp = send_signed(corp, platform_->admin(), corp_aud, "POST", "/v1/deposits", deposit, &h);
  ASSERT_TRUE(for_corp);
  EXPECT_EQ(for_corp->status, 200) << for_corp->body;
  expect_refused(send_signed(xis, platform_->admin(), corp_aud, "POST", "/v1/adverts", deposit, &h), corp_aud, xis_aud,
                 "corp's request at XIS");
  // And the corp refuses the same deposit again (replay), so it was credited exactly once.
  auto again = send_signed(corp, platform_->admin(), corp_aud, "POST", "/v1/deposits", deposit, &h);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 401) << again->body;
  auto st = ApiClient::connect(corp, user_)->call("GET", "/v1/statements/" + user_.account_id());
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->value("balance_micros", int64_t{0}), 5'000'000 + 7) << st->dump();
}

// Sends a PUT of `length` body bytes on a raw connection, stopping as soon as the server
// answers; returns (status, body bytes sent).
std::pair<int, uint64_t> upload(uint16_t port, const std::string& target, uint64_t length,
                                const std::map<std::string, std::string>& headers, const std::string* body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {0, 0};
  }
  std::string head = "PUT " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n" +
                     "Content-Length: " + std::to_string(length) + "\r\n";
  for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
  head += "\r\n";
  (void)::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  const std::string zeros(size_t{1} << 20, '\0');
  uint64_t sent = 0;
  std::string answer;
  auto readable = [&](int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  };
  while (sent < length && !readable(0)) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), length - sent));
    const char* data = body != nullptr ? body->data() + sent : zeros.data();
    pollfd p{fd, POLLOUT | POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0 || (p.revents & POLLIN) != 0) break;
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == EAGAIN) continue;
    if (w <= 0) break;
    sent += static_cast<uint64_t>(w);
  }
  char buf[4096];
  while (answer.find("\r\n\r\n") == std::string::npos && readable(60'000)) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const int status = answer.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(answer.substr(9, 3)) : 0;
  return {status, sent};
}

// Attack: three anonymous 512 MiB uploads (before the fix they took a server from 174 MiB to
// 2.3 GiB). Now each is refused from its headers with no body byte read, and the server's peak
// memory does not move; a signed 256 MiB upload is streamed to disk, not memory.
TEST_F(WireAttackTest, LargeUploadsDoNotGrowTheServersMemory) {
  const int pid = platform_->server_pid(0);
  const auto ep = *parse_endpoint(platform_->server_urls()[0]);
  const int64_t before = peak_rss(pid);
  ASSERT_GT(before, 0);
  const std::string fake = "sha256:" + std::string(64, 'e');
  std::vector<std::thread> threads;
  std::vector<std::pair<int, uint64_t>> results(3);
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      results[i] = upload(ep.port, "/v1/blobs/" + fake, uint64_t{512} << 20,
                          {{"X-Xop-Key", user_.public_key().base64()}, {"X-Xop-Timestamp", "1"}}, nullptr);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& [status, sent] : results) {
    EXPECT_EQ(status, 401);
    // The answer came before the body: at most what sat in socket buffers was sent.
    EXPECT_LT(sent, uint64_t{64} << 20);
  }
  const int64_t after_anonymous = peak_rss(pid);
  std::printf("server VmHWM: %lld KiB before, %lld KiB after 3 anonymous 512 MiB uploads\n",
              static_cast<long long>(before / 1024), static_cast<long long>(after_anonymous / 1024));
  EXPECT_LT(after_anonymous - before, int64_t{32} << 20);

  // A signed 256 MiB upload goes to disk: the blob is stored, memory stays bounded.
  const std::string blob(size_t{256} << 20, 'x');
  const std::string digest = oci_digest(blob);
  const std::string audience = audience_of(platform_->server_urls()[0]);
  const std::string target = "/v1/blobs/" + digest;
  auto headers =
      signature_headers(sign_request(user_, "PUT", target, SystemClock::instance().now_ms(), audience, blob));
  auto [status, sent] = upload(ep.port, target, blob.size(), headers, &blob);
  EXPECT_EQ(status, 201);
  EXPECT_EQ(sent, blob.size());
  const int64_t after_signed = peak_rss(pid);
  std::printf("server VmHWM: %lld KiB after a signed 256 MiB upload\n", static_cast<long long>(after_signed / 1024));
  EXPECT_LT(after_signed - before, int64_t{64} << 20);

  // Three concurrent downloads of it by its owner are streamed from disk: before, each held the
  // blob twice in memory (the read and the response), about 1.5 GiB for these three.
  std::vector<std::thread> readers;
  std::vector<std::string> got(3);
  std::vector<int> statuses(3, 0);
  // Distinct timestamps from one base: the same signature twice would be refused as a replay.
  const TimeMs base = SystemClock::instance().now_ms();
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&, i] {
      // The client side accepts the whole blob (ApiClient caps answers at 64 MiB).
      HttpClient http(ep, std::chrono::seconds(60), size_t{300} << 20);
      auto h = signature_headers(sign_request(user_, "GET", target, base + i, audience, ""));
      auto r = http.request("GET", target, "", h);
      statuses[i] = r ? r->status : -1;
      if (r && r->status == 200) got[i] = oci_digest(r->body);
    });
  }
  for (auto& t : readers) t.join();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i], digest) << "download " << i << ": status " << statuses[i];
  const int64_t after_downloads = peak_rss(pid);
  std::printf("server VmHWM: %lld KiB after 3 concurrent downloads of the 256 MiB blob\n",
              static_cast<long long>(after_downloads / 1024));
  EXPECT_LT(after_downloads - before, int64_t{64} << 20);
}

}  // namespace
}  // namespace xop::testing
