// ServerClient over a RouterTransport to a stand-in server: session answers decode into
// SessionInfo; wrong types, missing or unknown fields and oversized answers are kUnavailable.
#include "client/server_client.h"

#include <gtest/gtest.h>

#include "net/router_transport.h"

namespace xop {
namespace {

class ServerClientTest : public ::testing::Test {
 protected:
  ServerClient client() {
    auto r = std::make_shared<Router>();
    auto h = [this](const HttpRequest&, const PathParams&) {
      if (raw) return HttpResponse{200, "application/json", *raw, "", {}};
      return json_response(status, answer);
    };
    r->add("POST", "/v1/sessions", h);
    r->add("GET", "/v1/sessions", h);
    r->add("GET", "/v1/sessions/{id}", h);
    r->add("DELETE", "/v1/sessions/{id}", h);
    r->add("HEAD", "/v1/blobs/{d}", h);
    r->add("PUT", "/v1/blobs/{d}", h);
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

}  // namespace
}  // namespace xop
