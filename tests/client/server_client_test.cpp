// ServerClient over a RouterTransport to a stand-in server: session answers decode into
// SessionInfo; wrong types, missing or unknown fields and oversized answers are kUnavailable.
#include "client/server_client.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "net/router_transport.h"

namespace xop {
namespace {

class ServerClientTest : public ::testing::Test {
 protected:
  ServerClient client() {
    auto r = std::make_shared<Router>();
    auto h = [this](const HttpRequest&, const PathParams&) {
      if (raw) return HttpResponse{status, "application/json", *raw, "", {}};
      return json_response(status, answer);
    };
    r->add("POST", "/v1/sessions", h);
    r->add("GET", "/v1/sessions", h);
    r->add("GET", "/v1/sessions/{id}", h);
    r->add("DELETE", "/v1/sessions/{id}", h);
    r->add("HEAD", "/v1/blobs/{d}", h);
    r->add("PUT", "/v1/blobs/{d}", h);
    r->add("GET", "/v1/status", h);
    r->add("GET", "/v1/info", h);
    return ServerClient(ApiClient(std::make_shared<RouterTransport>(r), Endpoint{"server.test", 1}, std::nullopt));
  }
  Json answer = Json::object();
  int status = 200;
  std::optional<std::string> raw;
};

SessionInfo sample() {
  SessionInfo s;
  s.id = "s1";
  s.user = "u";
  s.po_id = "po1";
  s.state = "running";
  s.exit_code = 3;
  return s;
}

TEST_F(ServerClientTest, SessionAnswersDecodeAndRoundTrip) {
  auto c = client();
  answer = session_answer_json(sample());
  auto s = c.session("s1");
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->state, "running");
  EXPECT_EQ(s->exit_code, 3);
  EXPECT_EQ(session_answer_json(*s), answer);
  auto stopped = c.stop_session("s1");
  ASSERT_TRUE(stopped) << stopped.error().to_string();
  answer = Json{{"sessions", Json::array({to_json(sample())})}};
  auto all = c.sessions();
  ASSERT_TRUE(all) << all.error().to_string();
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(ServerClientTest, MalformedSessionAnswersAreErrors) {
  auto c = client();
  std::vector<Json> bad;
  Json j = session_answer_json(sample());
  j["session"]["created_at"] = "yesterday";
  bad.push_back(j);
  j = session_answer_json(sample());
  j["session"].erase("state");
  bad.push_back(j);
  j = session_answer_json(sample());
  j["session"]["usage"] = 5;
  bad.push_back(j);
  j = session_answer_json(sample());
  j["bonus"] = true;
  bad.push_back(j);
  for (const auto& b : bad) {
    answer = b;
    auto r = c.create_session(CreateSessionRequest{});
    ASSERT_FALSE(r) << b.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
    EXPECT_FALSE(c.session("s1"));
  }
  raw = std::string((size_t{1} << 20) + 1, ' ');
  EXPECT_FALSE(c.session("s1"));
  EXPECT_FALSE(c.session("a/b"));
}

TEST_F(ServerClientTest, Blobs) {
  auto c = client();
  answer = to_json(BlobStored{"sha256:aa", 3});
  auto put = c.put_blob("sha256:aa", "abc");
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_EQ(put->size, 3);
  auto has = c.has_blob("sha256:aa");
  ASSERT_TRUE(has);
  EXPECT_TRUE(*has);
  answer = Json{{"digest", 1}, {"size", 3}};
  EXPECT_FALSE(c.put_blob("sha256:aa", "abc"));
  status = 404;
  has = c.has_blob("sha256:aa");
  ASSERT_TRUE(has);
  EXPECT_FALSE(*has);
}

TEST_F(ServerClientTest, StatusDecodesStrictly) {
  auto c = client();
  ServerStatusView v;
  v.server = "s1";
  v.name = "alpha";
  v.advert.state = "disabled";
  v.sessions.push_back(HostedSession{"x1", "u", "running", 1, 0, 9});
  answer = to_json(v);
  auto s = c.status();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->sessions.at(0).claimed, 9);
  EXPECT_EQ(to_json(*s), answer);
  answer["sessions"][0]["claimed_micros"] = nullptr;
  auto bad = c.status();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(bad.error().message.find("GET /v1/status"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("server_status.sessions[0].claimed"), std::string::npos) << bad.error().message;
  raw = std::string(ServerClient::kMaxStatusBytes + 1, ' ');
  bad = c.status();
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("exceeds"), std::string::npos) << bad.error().message;
}

// What XIS asks an advertised endpoint it does not trust: its key, under kMaxInfoAnswer bytes.
TEST_F(ServerClientTest, InfoKeyReadsAHostileEndpointUnderItsCap) {
  auto c = client();
  const auto key = KeyPair::generate();
  answer = Json{{"public_key", key.public_key().base64()}, {"images", Json::array()}};
  auto k = c.info_key();
  ASSERT_TRUE(k) << k.error().to_string();
  EXPECT_EQ(*k, key.public_key().base64());
  answer["public_key"] = "not-a-key";
  EXPECT_FALSE(c.info_key());
  raw = std::string(kMaxInfoAnswer + 1, ' ');
  k = c.info_key();
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("too large"), std::string::npos) << k.error().message;
  status = 503;
  raw = "{}";
  k = c.info_key();
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().message, "its /v1/info answered 503");
}

}  // namespace
}  // namespace xop
