#include "net/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace xop {
namespace {

HttpRequest req(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = path;
  r.target = std::move(path);
  return r;
}

Json body_of(const HttpResponse& r) {
  auto j = parse_json(r.body);
  EXPECT_TRUE(j.has_value()) << r.body;
  return j.value_or(Json());
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add("GET", "/v1/sessions", [](const HttpRequest&, const PathParams&) {
      return json_response(200, Json{{"list", true}});
    });
    router_.add(
        "POST", "/v1/sessions",
        [](const HttpRequest& r, const PathParams&) {
          return json_response(201, Json{{"body", r.body}});
        },
        64);
    router_.add("GET", "/v1/sessions/{id}", [](const HttpRequest&, const PathParams& p) {
      return json_response(200, Json{{"id", p.at("id")}});
    });
    router_.add("DELETE", "/v1/sessions/{id}", [](const HttpRequest&, const PathParams& p) {
      return json_response(200, Json{{"deleted", p.at("id")}});
    });
    router_.add("GET", "/v1/accounts/{acct}/pos/{po}", [](const HttpRequest&, const PathParams& p) {
      return json_response(200, Json{{"acct", p.at("acct")}, {"po", p.at("po")}});
    });
    router_.add("GET", "/v1/throw", [](const HttpRequest&, const PathParams&) -> HttpResponse {
      throw std::runtime_error("secret detail");
    });
    router_.add("GET", "/v1/throw-int", [](const HttpRequest&, const PathParams&) -> HttpResponse { throw 42; });
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralAndParameterSegments) {
  auto r = router_.dispatch(req("GET", "/v1/sessions"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["list"], true);
  r = router_.dispatch(req("GET", "/v1/sessions/s123"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["id"], "s123");
  r = router_.dispatch(req("GET", "/v1/accounts/a1/pos/po2"));
  EXPECT_EQ(body_of(r)["acct"], "a1");
  EXPECT_EQ(body_of(r)["po"], "po2");
  r = router_.dispatch(req("DELETE", "/v1/sessions/s9"));
  EXPECT_EQ(body_of(r)["deleted"], "s9");
}

TEST_F(RouterTest, UnknownPathIs404Json) {
  for (const char* p : {"/", "/v1", "/v2/sessions", "/v1/sessions/a/b", "/v1/accounts/a/pos", "/v1/sessionsX"}) {
    auto r = router_.dispatch(req("GET", p));
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(body_of(r)["error"]["code"], "not_found") << p;
  }
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405Json) {
  auto r = router_.dispatch(req("PUT", "/v1/sessions"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(body_of(r)["error"]["code"], "method_not_allowed");
  EXPECT_EQ(router_.dispatch(req("POST", "/v1/sessions/s1")).status, 405);
  EXPECT_EQ(router_.dispatch(req("get", "/v1/sessions")).status, 405);  // methods are case-sensitive
}

TEST_F(RouterTest, HeadIsServedByGetRoutes) {
  auto r = router_.dispatch(req("HEAD", "/v1/sessions/s1"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["id"], "s1");
  // No GET route for it: still 405, not a HEAD-only match.
  Router only_post;
  only_post.add("POST", "/x", [](const HttpRequest&, const PathParams&) { return json_response(200, Json{}); });
  EXPECT_EQ(only_post.dispatch(req("HEAD", "/x")).status, 405);
}

TEST_F(RouterTest, HandlerExceptionsBecome500WithoutDetails) {
  for (const char* p : {"/v1/throw", "/v1/throw-int"}) {
    HttpResponse r;
    if (std::string(p) == "/v1/throw") {
      r = router_.dispatch(req("GET", p));
      EXPECT_EQ(r.status, 500);
      EXPECT_EQ(body_of(r)["error"]["code"], "internal");
      EXPECT_EQ(r.body.find("secret detail"), std::string::npos);
    } else {
      // Non-std exceptions must not escape either.
      EXPECT_NO_THROW(r = router_.dispatch(req("GET", p)));
      EXPECT_EQ(r.status, 500);
    }
  }
}

TEST_F(RouterTest, RepeatedAndTrailingSlashesAreIgnored) {
  EXPECT_EQ(router_.dispatch(req("GET", "/v1/sessions/")).status, 200);
  EXPECT_EQ(body_of(router_.dispatch(req("GET", "//v1//sessions//s1")))["id"], "s1");
}

TEST_F(RouterTest, BodyLimitsPerRoute) {
  EXPECT_EQ(router_.body_limit("POST", "/v1/sessions"), 64u);
  EXPECT_EQ(router_.body_limit("GET", "/v1/sessions"), kDefaultMaxBody);
  EXPECT_EQ(router_.body_limit("POST", "/nowhere"), kDefaultMaxBody);
}

TEST(HttpHelpersTest, ParseQuery) {
  auto q = parse_query("a=1&b=two+words&flag&=x&c=&a=3");
  EXPECT_EQ(q["a"], "3");
  EXPECT_EQ(q["b"], "two words");
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q["c"], "");
  EXPECT_EQ(q.count(""), 0u);
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_TRUE(parse_query("&&&").empty());
}

TEST(HttpHelpersTest, ParseEndpoint) {
  auto e = parse_endpoint("http://127.0.0.1:8080/");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 8080);
  EXPECT_EQ(e->url(), "http://127.0.0.1:8080");
  auto v6 = parse_endpoint("http://[::1]:9");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  for (const char* bad : {"", "127.0.0.1:80", "https://x:1", "http://", "http://host", "http://:80", "http://h:0",
                          "http://h:65536", "http://h:-1", "http://h:80x", "http://h:99999999999"}) {
    EXPECT_FALSE(parse_endpoint(bad).has_value()) << bad;
  }
}

TEST(HttpHelpersTest, JsonBody) {
  HttpRequest r;
  r.body = R"({"a":1})";
  EXPECT_EQ((*json_body(r))["a"], 1);
  r.headers["content-type"] = "application/json; charset=utf-8";
  EXPECT_TRUE(json_body(r).has_value());
  r.headers["content-type"] = "text/plain";
  EXPECT_EQ(json_body(r).error().code, ErrorCode::kUnsupportedMedia);
  r.headers.clear();
  r.body = "";
  EXPECT_EQ(json_body(r).error().code, ErrorCode::kInvalidArgument);
  r.body = "{bad";
  EXPECT_EQ(json_body(r).error().code, ErrorCode::kInvalidArgument);
  r.body = std::string(100, '[') + std::string(100, ']');
  EXPECT_FALSE(json_body(r).has_value());
}

TEST(HttpHelpersTest, ErrorResponsesRoundTrip) {
  const auto r = error_response(ErrorCode::kPaymentRequired, "po exhausted");
  EXPECT_EQ(r.status, 402);
  const auto e = error_from_response(r.status, r.body);
  EXPECT_EQ(e.code, ErrorCode::kPaymentRequired);
  EXPECT_EQ(e.message, "po exhausted");
  const auto plain = error_from_response(502, "<html>bad gateway</html>");
  EXPECT_EQ(plain.code, ErrorCode::kUnavailable);
  EXPECT_NE(plain.message.find("HTTP 502"), std::string::npos);
  EXPECT_EQ(error_from_response(400, std::string(10000, 'x')).message.size(), std::string("HTTP 400: ").size() + 200);
  EXPECT_EQ(error_from_response(400, R"({"error":"flat"})").code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_from_response(400, R"({"error":{"code":7}})").code, ErrorCode::kInternal);
}

TEST(HttpHelpersTest, JsonResponseSurvivesInvalidUtf8) {
  // A handler echoing bytes it did not validate must not throw while serialising.
  const auto r = json_response(200, Json{{"x", "\xff\xfe"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(parse_json(r.body).has_value());
}

TEST(HttpHelpersTest, RequestSignatureHeaders) {
  HttpRequest r;
  r.headers[kHeaderKey] = "k";
  r.headers[kHeaderTimestamp] = "1";
  r.headers[kHeaderSignature] = "s";
  const auto s = r.signature();
  EXPECT_EQ(s.key_b64, "k");
  EXPECT_EQ(s.timestamp, "1");
  EXPECT_EQ(s.signature_b64, "s");
  EXPECT_EQ(r.header("missing"), "");
}

}  // namespace
}  // namespace xop
