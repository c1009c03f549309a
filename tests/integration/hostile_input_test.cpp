// Walks every endpoint of every daemon, as listed in docs/api/*.yaml, against real processes, and
// sends what a hostile or broken client might: malformed JSON, wrong types, unknown fields,
// oversized bodies, missing and replayed signatures. Each must get a 4xx JSON error
// {error:{code,message}}, and afterwards nothing has changed: the ledger, the adverts, sessions.
#include <gtest/gtest.h>

#include "integration/process_platform.h"
#include "net/http_client.h"
#include "support/openapi.h"

namespace xop::testing {
namespace {

struct Operation {
  std::string service;
  ApiOperation api;
  std::string path;  // with parameters filled in
};

std::string fill(std::string path, const std::string& account) {
  auto replace = [&](const std::string& param, const std::string& value) {
    for (auto pos = path.find(param); pos != std::string::npos; pos = path.find(param)) {
      path.replace(pos, param.size(), value);
    }
  };
  replace("{digest}", "sha256:" + std::string(64, 'e'));
  replace("{id}", "s" + std::string(32, 'b'));
  replace("{po_id}", "po" + std::string(32, 'c'));
  replace("{account}", account);
  return path;
}

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_ = std::make_unique<ProcessPlatform>(ProcessPlatformOptions{.servers = 1, .runtime = "mock"});
    const std::string err = platform_->start();
    ASSERT_TRUE(err.empty()) << err;
    user_ = platform_->new_user("hostile", 5);
    urls_ = {{"corp", platform_->corp_url()}, {"xis", platform_->xis_url()}, {"server", platform_->server_urls()[0]}};
  }

  // Everything a test could have changed, in one comparable value.
  Json snapshot() {
    Json s;
    auto corp = ApiClient::connect(platform_->corp_url(), user_);
    // The admin key gets a fresh check (anyone else may get one cached for a few seconds).
    auto admin = ApiClient::connect(platform_->corp_url(), platform_->admin());
    auto check = admin->call("GET", "/v1/ledger/check");
    if (check) check->erase("checked_at");
    s["ledger"] = check ? *check : Json("unavailable");
    auto st = corp->call("GET", "/v1/statements/" + user_.account_id());
    s["statement"] = st ? *st : Json("unavailable");
    auto xis = ApiClient::connect(platform_->xis_url(), std::nullopt);
    auto ads = xis->call("GET", "/v1/adverts");
    s["adverts"] = ads ? ads->value("adverts", Json::array()).size() : 0;
    auto server = ApiClient::connect(platform_->server_urls()[0], user_);
    auto sessions = server->call("GET", "/v1/sessions");
    s["sessions"] = sessions ? sessions->value("sessions", Json::array()).size() : 999;
    auto info = server->call("GET", "/v1/info");
    s["images"] = info ? info->value("images", Json::array()) : Json("unavailable");
    return s;
  }

  static void expect_json_4xx(const Result<HttpResponse>& r, const std::string& what) {
    ASSERT_TRUE(r.has_value()) << what << ": transport error " << r.error().message;
    EXPECT_GE(r->status, 400) << what << " -> " << r->status << " " << r->body;
    EXPECT_LT(r->status, 500) << what << " -> " << r->status << " " << r->body;
    auto j = parse_json(r->body);
    ASSERT_TRUE(j.has_value()) << what << ": error body is not JSON: " << r->body;
    ASSERT_TRUE(j->contains("error")) << what << ": " << r->body;
    EXPECT_TRUE((*j)["error"]["code"].is_string()) << what;
    EXPECT_TRUE((*j)["error"]["message"].is_string()) << what;
  }

  std::unique_ptr<ProcessPlatform> platform_;
  KeyPair user_;
  std::map<std::string, std::string> urls_;
};

TEST_F(HostileInputTest, EveryEndpointRefusesBadInputAndChangesNothing) {
  std::vector<Operation> ops;
  for (const auto* svc : {"corp", "xis", "server"}) {
    const auto documented = load_openapi(svc);
    ASSERT_FALSE(documented.empty()) << svc;
    for (const auto& api : documented) ops.push_back(Operation{svc, api, fill(api.path, user_.account_id())});
  }
  // Let the server's first adverts settle so that the snapshot is stable.
  const Json before = snapshot();
  int checked = 0;
  for (const auto& op : ops) {
    const std::string what = op.service + " " + op.api.method + " " + op.path;
    auto signed_client = ApiClient::connect(urls_[op.service], user_);
    auto ep = parse_endpoint(urls_[op.service]);
    HttpClient raw(*ep);
    if (op.api.json_body) {
      const std::vector<std::string> bodies = {
          "{\"a\":",               // truncated
          "not json at all",       // not JSON
          "[]",                    // wrong type at the top
          "\"string\"",            // wrong type at the top
          "42",                    // wrong type at the top
          "{\"bogus_field\": 1}",  // unknown field
          "{\"kind\": 5, \"name\": [1], \"account\": {}, \"amount\": \"x\", \"batch\": 7, \"advert\": 1,"
          " \"spec\": 1, \"min\": 1, \"count\": \"many\"}",  // wrong field types
          std::string(40, '[') + std::string(40, ']'),       // too deep
      };
      for (const auto& b : bodies) {
        expect_json_4xx(signed_client->call_raw(op.api.method, op.path, b), what + " body " + b.substr(0, 30));
        ++checked;
      }
      // Oversized: more than any JSON route allows (the largest, the corp's usage batches, 4 MiB).
      std::string big = "{\"x\":\"" + std::string(5 << 20, 'a') + "\"}";
      auto r = signed_client->call_raw(op.api.method, op.path, big);
      expect_json_4xx(r, what + " oversized");
      if (r) {
        EXPECT_EQ(r->status, 413) << what;
      }
      ++checked;
    }
    if (op.api.binary_body) {
      expect_json_4xx(signed_client->call_raw(op.api.method, op.path, "not the blob", "application/octet-stream"),
                      what + " blob with the wrong digest");
      ++checked;
    }
    if (op.api.signature_required) {
      const std::string body = op.api.json_body ? "{}" : "";
      // Missing signature.
      auto r = raw.request(op.api.method, op.path, body, {{"Content-Type", "application/json"}});
      expect_json_4xx(r, what + " unsigned");
      if (r) {
        EXPECT_EQ(r->status, 401) << what;
      }
      const std::string audience = ApiClient(*ep, std::nullopt).audience().value();
      // Signature by the right key over another path.
      auto sig = sign_request(user_, op.api.method, "/v1/other", SystemClock::instance().now_ms(), audience, body);
      auto h = signature_headers(sig);
      h["Content-Type"] = "application/json";
      r = raw.request(op.api.method, op.path, body, h);
      expect_json_4xx(r, what + " signature for another path");
      if (r) {
        EXPECT_EQ(r->status, 401) << what;
      }
      // Replay of one signed request.
      sig = sign_request(user_, op.api.method, op.path, SystemClock::instance().now_ms(), audience, body);
      h = signature_headers(sig);
      h["Content-Type"] = "application/json";
      (void)raw.request(op.api.method, op.path, body, h);
      r = raw.request(op.api.method, op.path, body, h);
      expect_json_4xx(r, what + " replayed");
      if (r) {
        EXPECT_EQ(r->status, 401) << what;
      }
      checked += 3;
    }
  }
  std::printf("checked %d hostile requests over %zu operations\n", checked, ops.size());
  EXPECT_GT(checked, 50);
  const Json after = snapshot();
  EXPECT_EQ(before["ledger"], after["ledger"]);
  EXPECT_EQ(before["statement"], after["statement"]);
  EXPECT_EQ(before["adverts"], after["adverts"]);
  EXPECT_EQ(before["sessions"], after["sessions"]);
  EXPECT_EQ(before["images"], after["images"]);
  EXPECT_TRUE(after["ledger"].value("balanced", false));
}

}  // namespace
}  // namespace xop::testing
