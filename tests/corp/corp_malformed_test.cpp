// Every endpoint answers hostile input with a 4xx JSON error and changes nothing.
#include <sqlite3.h>

#include "corp_fixture.h"

namespace xop::testing {
namespace {

class CorpMalformed : public CorpFixture {
 protected:
  void SetUp() override {
    CorpFixture::SetUp();
    if (HasFatalFailure()) return;
    register_parties();
    po_ = create_po(alice_, srv_, 10'000);
    ASSERT_TRUE(send_usage(srv_, {record(po_, session_id('a'), 1, 1000, 1000)}));
  }

  // Whom requests to this corp are signed for.
  std::string audience() const { return corp_->public_key().account_id(); }

  // Every row of every table, as text: equal fingerprints mean nothing changed.
  std::string fingerprint() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(dir_.file("corp.db").c_str(), &db), SQLITE_OK);
    std::string out;
    for (const char* t :
         {"accounts", "ledger_accounts", "transactions", "entries", "purchase_orders", "usage_records"}) {
      const std::string sql = std::string("SELECT * FROM ") + t + " ORDER BY 1, 2";
      sqlite3_stmt* st = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
      out += t;
      out += ":";
      while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
          const auto* txt = sqlite3_column_text(st, i);
          out += txt ? reinterpret_cast<const char*>(txt) : "NULL";
          out += "|";
        }
        out += "\n";
      }
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
  }

  // Asserts a 4xx JSON error body.
  static void expect_4xx(const Result<HttpResponse>& r, const std::string& what) {
    ASSERT_TRUE(r) << what << ": " << r.error().to_string();
    EXPECT_GE(r->status, 400) << what << ": " << r->body;
    EXPECT_LT(r->status, 500) << what << ": " << r->body;
    auto j = parse_json(r->body);
    ASSERT_TRUE(j) << what << ": " << r->body;
    ASSERT_TRUE(j->contains("error")) << what;
    EXPECT_TRUE((*j)["error"]["code"].is_string()) << what;
    EXPECT_TRUE((*j)["error"]["message"].is_string()) << what;
  }

  struct Case {
    std::string target;
    KeyPair signer;
    Json valid_body;
  };

  std::vector<Case> mutating_cases() {
    KeyPair fresh = KeyPair::generate();
    return {
        {"/v1/accounts", fresh, Json{{"kind", "user"}, {"name", "x"}}},
        {"/v1/deposits", admin_, Json{{"account", alice_.account_id()}, {"amount_micros", 5}}},
        {"/v1/purchase-orders", alice_,
         Json{{"server", srv_.account_id()}, {"price_sheet", price_sheet(srv_).to_json()}, {"max_amount_micros", 5}}},
        {"/v1/usage", srv_, batch(srv_, {record(po_, session_id('a'), 2, 1000, 1000)})},
    };
  }

  std::string po_;
};

TEST_F(CorpMalformed, MutatingEndpointsRefuseBadBodies) {
  const std::string before = fingerprint();
  for (const auto& c : mutating_cases()) {
    // Malformed JSON, not an object, empty, truncated.
    for (const char* body : {"{", "[1,2]", "\"str\"", "", "null", "{\"kind\":", "{}"}) {
      expect_4xx(raw(c.signer, "POST", c.target, body), c.target + " body " + std::string(body));
    }
    // Unknown field.
    Json extra = c.valid_body;
    extra["surprise"] = 1;
    expect_4xx(raw(c.signer, "POST", c.target, extra.dump()), c.target + " unknown field");
    // Wrong type for every field.
    for (auto it = c.valid_body.begin(); it != c.valid_body.end(); ++it) {
      Json wrong = c.valid_body;
      wrong[it.key()] = it->is_string() ? Json(12) : Json("twelve");
      expect_4xx(raw(c.signer, "POST", c.target, wrong.dump()), c.target + " wrong type " + it.key());
      Json missing = c.valid_body;
      missing.erase(it.key());
      expect_4xx(raw(c.signer, "POST", c.target, missing.dump()), c.target + " missing " + it.key());
    }
    // Missing signature; tampered signature; wrong content type; oversized body.
    expect_4xx(raw(std::nullopt, "POST", c.target, c.valid_body.dump()), c.target + " unsigned");
    {
      clock_->advance_ms(1);
      auto sig = sign_request(c.signer, "POST", c.target, clock_->now_ms(), audience(), c.valid_body.dump() + " ");
      HttpClient http(ep_);
      auto h = signature_headers(sig);
      h["Content-Type"] = "application/json";
      auto r = http.request("POST", c.target, c.valid_body.dump(), h);
      expect_4xx(r, c.target + " signature over another body");
    }
    {
      clock_->advance_ms(1);
      ApiClient cl(ep_, c.signer, *clock_);
      expect_4xx(cl.call_raw("POST", c.target, c.valid_body.dump(), "text/plain"), c.target + " content type");
    }
    {
      // One byte over the route's limit: 413, or (when the server stops reading a body that
      // is still arriving) a closed connection. Either way nothing is processed.
      const size_t limit = c.target == "/v1/usage" ? (4u << 20) : (64u << 10);
      auto r = raw(c.signer, "POST", c.target, std::string(limit + 1, ' '));
      if (r) {
        EXPECT_EQ(r->status, 413) << c.target << ": " << r->body;
      } else {
        EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().to_string();
      }
    }
  }
  EXPECT_EQ(fingerprint(), before);
  expect_balanced();
}

TEST_F(CorpMalformed, ReplayedRequestsAreRefused) {
  // Each valid request succeeds once; the identical bytes sent again (same timestamp, same
  // signature) are a replay, and the second attempt changes nothing.
  for (const auto& c : mutating_cases()) {
    clock_->advance_ms(1);
    const std::string body = c.valid_body.dump();
    auto sig = sign_request(c.signer, "POST", c.target, clock_->now_ms(), audience(), body);
    auto headers = signature_headers(sig);
    headers["Content-Type"] = "application/json";
    HttpClient http(ep_);
    auto first = http.request("POST", c.target, body, headers);
    ASSERT_TRUE(first);
    EXPECT_LT(first->status, 300) << c.target << ": " << first->body;
    const std::string after_first = fingerprint();
    auto second = http.request("POST", c.target, body, headers);
    expect_4xx(second, c.target + " replay");
    EXPECT_EQ(second->status, 401) << second->body;
    EXPECT_EQ(fingerprint(), after_first) << c.target;
  }
  expect_balanced();
}

TEST_F(CorpMalformed, StaleTimestampRefused) {
  const std::string before = fingerprint();
  const std::string body = Json{{"account", alice_.account_id()}, {"amount_micros", 5}}.dump();
  for (int64_t skew : {-120'000, 120'000}) {
    auto sig = sign_request(admin_, "POST", "/v1/deposits", clock_->now_ms() + skew, audience(), body);
    HttpClient http(ep_);
    auto h = signature_headers(sig);
    h["Content-Type"] = "application/json";
    auto r = http.request("POST", "/v1/deposits", body, h);
    expect_4xx(r, "skewed timestamp");
    EXPECT_EQ(r->status, 401);
  }
  EXPECT_EQ(fingerprint(), before);
}

TEST_F(CorpMalformed, ReadEndpointsNeedSignatures) {
  const std::string before = fingerprint();
  for (const std::string& target :
       {"/v1/accounts/" + alice_.account_id(), "/v1/purchase-orders/" + po_, "/v1/statements/" + alice_.account_id()}) {
    expect_4xx(raw(std::nullopt, "GET", target, ""), target + " unsigned");
    auto r = raw(std::nullopt, "GET", target, "");
    EXPECT_EQ(r->status, 401);
  }
  // Malformed ids.
  for (const char* target : {"/v1/accounts/nope", "/v1/purchase-orders/nope", "/v1/statements/nope"}) {
    expect_4xx(raw(alice_, "GET", target, ""), std::string(target));
  }
  expect_4xx(raw(alice_, "POST", "/v1/purchase-orders/nope/close", ""), "close unknown");
  expect_4xx(raw(alice_, "POST", "/v1/purchase-orders/" + po_ + "/close", "{\"x\":1}"), "close with fields");
  expect_4xx(raw(std::nullopt, "POST", "/v1/purchase-orders/" + po_ + "/close", ""), "close unsigned");
  expect_4xx(raw(alice_, "DELETE", "/v1/accounts/" + alice_.account_id(), ""), "unknown method");
  expect_4xx(raw(alice_, "GET", "/v1/nothing", ""), "unknown path");
  EXPECT_EQ(fingerprint(), before);
}

// POST /v1/purchase-orders/{po_id}/extend with hostile bodies, ids and callers: a clear 4xx each
// time and not one row changed; then a good one, replayed, is refused.
TEST_F(CorpMalformed, HostileExtensionsChangeNothing) {
  const std::string before = fingerprint();
  const std::string target = "/v1/purchase-orders/" + po_ + "/extend";
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"empty", ""},
      {"not json", "{"},
      {"array", "[1]"},
      {"no amount", "{}"},
      {"zero", R"({"amount_micros":0})"},
      {"negative", R"({"amount_micros":-1})"},
      {"int64 min", R"({"amount_micros":-9223372036854775808})"},
      {"beyond int64", R"({"amount_micros":9223372036854775808})"},
      {"float", R"({"amount_micros":1.5})"},
      {"string", R"({"amount_micros":"100"})"},
      {"unknown field", R"({"amount_micros":100,"x":1})"},
      {"duplicate key", R"({"amount_micros":100,"amount_micros":200})"},
      {"above the balance", R"({"amount_micros":100000000})"},
      {"overflowing max", R"({"amount_micros":9223372036854775807})"},
      {"oversized", std::string(80 * 1024, ' ') + R"({"amount_micros":1})"},
  };
  for (const auto& [what, body] : bodies) expect_4xx(raw(alice_, "POST", target, body), "extend " + what);
  const std::string good = R"({"amount_micros":100})";
  expect_4xx(raw(std::nullopt, "POST", target, good), "extend unsigned");
  expect_4xx(raw(srv_, "POST", target, good), "extend by the server");
  expect_4xx(raw(owner_, "POST", target, good), "extend by another user");
  expect_4xx(raw(admin_, "POST", target, good), "extend by the admin");
  expect_4xx(raw(alice_, "POST", "/v1/purchase-orders/nope/extend", good), "extend a malformed id");
  expect_4xx(raw(alice_, "POST", "/v1/purchase-orders/po" + std::string(32, 'f') + "/extend", good),
             "extend an unknown PO");
  auto r = raw(alice_, "POST", target, R"({"amount_micros":100000000})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 402);
  r = raw(owner_, "POST", target, good);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = raw(alice_, "POST", "/v1/purchase-orders/po" + std::string(32, 'f') + "/extend", good);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(fingerprint(), before);

  r = raw(alice_, "POST", target, good);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string after = fingerprint();
  const HttpResponse again = replay(recorded("POST /v1/purchase-orders/{po_id}/extend"));
  EXPECT_EQ(again.status, 401) << again.body;
  EXPECT_EQ(fingerprint(), after);
  expect_balanced();
}

TEST_F(CorpMalformed, HostileUsageRecordsAreRefusedAndChangeNothing) {
  const std::string before = fingerprint();
  const std::string s = session_id('a');
  auto ok = record(po_, s, 2, 1000, 1000);
  std::vector<std::pair<std::string, Json>> cases;
  auto with = [&](const std::string& name, const std::function<void(Json&)>& f) {
    Json j = to_json(ok);
    f(j);
    cases.emplace_back(name, j);
  };
  with("negative amount", [](Json& j) { j["amount_micros"] = -1; });
  with("huge amount", [](Json& j) { j["amount_micros"] = INT64_MAX; });
  with("period reversed", [](Json& j) { j["period_end"] = j["period_start"].get<int64_t>() - 1; });
  with("period too long", [](Json& j) { j["period_end"] = j["period_start"].get<int64_t>() + 2 * kMaxPeriodMs; });
  with("huge reservation", [](Json& j) { j["reserved"]["cpu_millis"] = INT64_MAX; });
  with("seq zero", [](Json& j) { j["seq"] = 0; });
  with("bad session", [](Json& j) { j["session"] = "../../etc"; });
  for (const auto& [name, rec] : cases) {
    // A record the decoder cannot take refuses the batch (4xx); one it can decode but that breaks
    // a settlement rule is refused alone (200, status "refused" with a reason). Either way nothing
    // changes (the fingerprint below).
    Json body{{"server", srv_.account_id()}, {"sent_at", 1}, {"records", Json::array({rec})}};
    auto d = SignedDoc::sign(kUsageBatchType, body, srv_);
    ASSERT_TRUE(d);
    auto r = raw(srv_, "POST", "/v1/usage", Json{{"batch", d->to_json()}}.dump());
    ASSERT_TRUE(r) << name;
    if (r->status == 200) {
      auto j = parse_json(r->body);
      ASSERT_TRUE(j && j->contains("results")) << name << ": " << r->body;
      ASSERT_EQ((*j)["results"].size(), 1u) << name;
      EXPECT_EQ((*j)["results"][0].value("status", ""), "refused") << name << ": " << r->body;
      EXPECT_FALSE((*j)["results"][0].value("reason", "").empty()) << name;
    } else {
      expect_4xx(r, name);
    }
  }
  // An empty batch is a heartbeat (expiry.h): accepted, and it moves no money.
  Json empty{{"server", srv_.account_id()}, {"sent_at", 1}, {"records", Json::array()}};
  auto hb =
      raw(srv_, "POST", "/v1/usage", Json{{"batch", SignedDoc::sign(kUsageBatchType, empty, srv_)->to_json()}}.dump());
  ASSERT_TRUE(hb);
  EXPECT_EQ(hb->status, 200) << hb->body;
  EXPECT_EQ(fingerprint(), before);
  expect_balanced();
}

}  // namespace
}  // namespace xop::testing
