#include "server/server_api.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/api_client.h"
#include "net/http_server.h"
#include "server/server_api_fixture.h"

namespace xop {
namespace {

using testing::SessionEnv;

// The API over a real HttpServer on port 0, with a SessionManager on the mock sandbox.
class ServerApiTest : public testing::ServerApiFixture {
 protected:
  Json create_body(const KeyPair& user) { return to_json(CreateSessionRequest{env_.spec(), env_.po(user)}); }
  // POSTs a raw body as alice; expects a 400 JSON error and no session.
  void expect_bad_create(const std::string& body, const std::string& words) {
    auto r = alice_->call_raw("POST", "/v1/sessions", body);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 400) << body.substr(0, 200) << " -> " << r->body;
    auto j = parse_json(r->body);
    ASSERT_TRUE(j) << r->body;
    ASSERT_TRUE(j->contains("error")) << r->body;
    EXPECT_EQ((*j)["error"].value("code", ""), "invalid_argument");
    EXPECT_NE((*j)["error"].value("message", "").find(words), std::string::npos) << r->body;
    EXPECT_TRUE(env_.manager->list("")->empty());
    EXPECT_EQ(env_.sandbox.count(), 0u);
  }
};

// Sends raw bytes on a fresh connection and returns whatever comes back until close or `max`.
std::string raw_exchange(uint16_t port, const std::string& bytes, size_t max = 4096) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[1024];
  while (out.size() < max) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos) break;
  }
  ::close(fd);
  return out;
}

TEST_F(ServerApiTest, InfoIsPublic) {
  auto r = anon_->call("GET", "/v1/info");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["service"], "xop-server");
}

TEST_F(ServerApiTest, UnsignedRequestsAre401) {
  const std::string data = "some blob";
  const std::string digest = oci_digest(data);
  auto put = anon_->call_raw("PUT", "/v1/blobs/" + digest, data, "application/octet-stream");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 401);
  EXPECT_FALSE(env_.images->has_blob(digest));
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/v1/sessions"},
                                                        {"GET", "/v1/sessions"},
                                                        {"GET", "/v1/sessions/s0"},
                                                        {"DELETE", "/v1/sessions/s0"},
                                                        {"GET", "/v1/sessions/s0/logs"}}) {
    auto r = anon_->call(method, target, method == "POST" ? create_body(env_.alice) : Json(nullptr));
    ASSERT_FALSE(r) << method << " " << target;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << method << " " << target;
  }
  EXPECT_TRUE(env_.manager->list("")->empty());
}

TEST_F(ServerApiTest, ForgedSignatureIs401) {
  // Signed by alice's key but carrying bob's key header: the signature cannot verify.
  auto r = alice_->call_raw("GET", "/v1/sessions", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const std::string req = "GET /v1/sessions HTTP/1.1\r\nHost: x\r\nX-Xop-Key: " + env_.bob.public_key().base64() +
                          "\r\nX-Xop-Timestamp: " + std::to_string(env_.clock.now_ms()) +
                          "\r\nX-Xop-Signature: " + std::string(86, 'A') + "==\r\nConnection: close\r\n\r\n";
  const std::string answer = raw_exchange(http_->port(), req);
  EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << answer;
}

TEST_F(ServerApiTest, BlobPutChecksDigestAndGetServesIt) {
  const std::string data = "layer bytes";
  const std::string digest = oci_digest(data);
  const std::string wrong = oci_digest("other bytes");
  auto bad = alice_->call_raw("PUT", "/v1/blobs/" + wrong, data, "application/octet-stream");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_FALSE(env_.images->has_blob(wrong));
  EXPECT_FALSE(env_.images->has_blob(digest));

  auto not_digest = alice_->call_raw("PUT", "/v1/blobs/sha256:..%2F..%2Fetc", data, "application/octet-stream");
  ASSERT_TRUE(not_digest);
  EXPECT_EQ(not_digest->status, 400);

  auto missing = alice_->call_raw("GET", "/v1/blobs/" + digest, "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto bad_get = anon_->call_raw("GET", "/v1/blobs/md5:abc", "");
  ASSERT_TRUE(bad_get);
  EXPECT_EQ(bad_get->status, 400);

  auto put = alice_->call_raw("PUT", "/v1/blobs/" + digest, data, "application/octet-stream");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201) << put->body;
  auto again = alice_->call_raw("PUT", "/v1/blobs/" + digest, data, "application/octet-stream");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  // Bob's upload of the same bytes makes him a second owner (blob_access_test.cpp has the rest).
  auto bobs = bob_->call_raw("PUT", "/v1/blobs/" + digest, data, "application/octet-stream");
  ASSERT_TRUE(bobs);
  EXPECT_EQ(bobs->status, 201);
  auto get = alice_->call_raw("GET", "/v1/blobs/" + digest, "");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, data);
  EXPECT_EQ(get->headers["docker-content-digest"], digest);
}

TEST_F(ServerApiTest, BlobOverTheLimitIs413) {
  // Signed (an unsigned one is refused with 401 before its size matters).
  const std::string digest = oci_digest("x");
  std::string req = "PUT /v1/blobs/" + digest + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n" +
                    "Content-Length: " + std::to_string(kMaxBlobBytes + 1) + "\r\n";
  const auto sig =
      sign_request(env_.alice, "PUT", "/v1/blobs/" + digest, env_.clock.now_ms(), "server-under-test", "x");
  for (const auto& [k, v] : signature_headers(sig)) req += k + ": " + v + "\r\n";
  req += "\r\n" + std::string(1024, 'x');
  const std::string answer = raw_exchange(http_->port(), req);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  EXPECT_FALSE(env_.images->has_blob(digest));
  // The server is still fine.
  EXPECT_TRUE(anon_->call("GET", "/v1/info"));
}

TEST_F(ServerApiTest, MalformedCreateRequestsAre400AndCreateNothing) {
  expect_bad_create("{not json", "");
  expect_bad_create("[]", "");
  expect_bad_create("null", "");
  Json good = create_body(env_.alice);
  {
    Json j = good;
    j["surprise"] = 1;
    expect_bad_create(j.dump(), "surprise");
  }
  {
    Json j = good;
    j["spec"]["gpu"] = true;
    expect_bad_create(j.dump(), "gpu");
  }
  {
    Json j = good;
    j["spec"]["resources"]["cpu_millis"] = "lots";
    expect_bad_create(j.dump(), "cpu_millis");
  }
  {
    Json j = good;
    j["spec"]["resources"]["memory_bytes"] = -1;
    expect_bad_create(j.dump(), "memory_bytes");
  }
  {
    Json j = good;
    j["spec"]["pids"] = 1e300;
    expect_bad_create(j.dump(), "pids");
  }
  {
    Json j = good;
    j["spec"]["image"] = "ubuntu:latest";
    expect_bad_create(j.dump(), "image");
  }
  {
    Json j = good;
    j["spec"]["env"] = Json{{"A=B", "c"}};
    expect_bad_create(j.dump(), "env");
  }
  {
    Json j = good;
    j.erase("purchase_order");
    expect_bad_create(j.dump(), "purchase_order");
  }
  {
    Json j = good;
    j["purchase_order"]["signature"] = "not base64!";
    expect_bad_create(j.dump(), "");
  }
  {
    Json j = good;
    j["spec"]["command"] = Json::array({1, 2});
    expect_bad_create(j.dump(), "command");
  }
  // Deeply nested JSON is refused, not a stack overflow.
  expect_bad_create(std::string(100000, '[') + std::string(100000, ']'), "");
}

TEST_F(ServerApiTest, SessionsCrud) {
  auto created = alice_->call("POST", "/v1/sessions", create_body(env_.alice));
  ASSERT_TRUE(created) << created.error().message;
  const Json s = (*created)["session"];
  const std::string id = s["id"];
  EXPECT_EQ(s["state"], "running");
  EXPECT_EQ(s["user"], env_.alice.account_id());
  EXPECT_EQ(s["spec"]["image"], env_.image);
  EXPECT_TRUE(s["exit_code"].is_null());

  auto list = alice_->call("GET", "/v1/sessions");
  ASSERT_TRUE(list);
  ASSERT_EQ((*list)["sessions"].size(), 1u);
  EXPECT_EQ((*list)["sessions"][0]["id"], id);
  auto bob_list = bob_->call("GET", "/v1/sessions");
  ASSERT_TRUE(bob_list);
  EXPECT_TRUE((*bob_list)["sessions"].empty());

  auto got = alice_->call("GET", "/v1/sessions/" + id);
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)["session"]["id"], id);
  auto bob_get = bob_->call("GET", "/v1/sessions/" + id);
  ASSERT_FALSE(bob_get);
  EXPECT_EQ(bob_get.error().code, ErrorCode::kNotFound);
  auto bob_del = bob_->call("DELETE", "/v1/sessions/" + id);
  ASSERT_FALSE(bob_del);
  EXPECT_EQ(bob_del.error().code, ErrorCode::kNotFound);

  testing::write_file(env_.sandbox.spec(id)->log_path, "hello from the workload\n");
  auto logs = alice_->call("GET", "/v1/sessions/" + id + "/logs");
  ASSERT_TRUE(logs) << logs.error().message;
  EXPECT_EQ((*logs)["logs"], "hello from the workload\n");

  env_.clock.advance_ms(2000);
  auto del = alice_->call("DELETE", "/v1/sessions/" + id);
  ASSERT_TRUE(del) << del.error().message;
  EXPECT_EQ((*del)["session"]["state"], "stopped");
  EXPECT_EQ((*del)["session"]["reason"], "stopped by the user");
  EXPECT_GE((*del)["session"]["records"].get<int64_t>(), 1);
  EXPECT_GT((*del)["session"]["claimed_micros"].get<int64_t>(), 0);

  // The same PO again: 409.
  auto dup_po = env_.po(env_.alice);
  auto first = alice_->call("POST", "/v1/sessions", to_json(CreateSessionRequest{env_.spec(), dup_po}));
  ASSERT_TRUE(first) << first.error().message;
  auto second = alice_->call("POST", "/v1/sessions", to_json(CreateSessionRequest{env_.spec(), dup_po}));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  // Bob cannot use alice's PO: 403.
  auto stolen = bob_->call("POST", "/v1/sessions", create_body(env_.alice));
  ASSERT_FALSE(stolen);
  EXPECT_EQ(stolen.error().code, ErrorCode::kPermissionDenied);
}

TEST_F(ServerApiTest, UnknownRoutesAndMethods) {
  auto r = anon_->call_raw("GET", "/v1/nothing", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  auto m = anon_->call_raw("PATCH", "/v1/sessions", "");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 405);
}

}  // namespace
}  // namespace xop
