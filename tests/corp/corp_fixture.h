// A real XenoCorp for tests: SQLite in a TempDir, the HTTP server on loopback port 0, signed
// ApiClient calls, and a SimulatedClock that the fixture ticks by 1 ms before every request
// (so identical requests are distinct signatures, not replays).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "core/clock.h"
#include "corp/corp_service.h"
#include "net/http_server.h"
#include "proto/charge.h"
#include "proto/price_sheet.h"
#include "proto/usage_record.h"
#include "support/builders.h"
#include "support/test_support.h"

namespace xop::testing {

class CorpFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_unique<SimulatedClock>(SystemClock::instance().now_ms());
    // Records date their periods from t0_, after every purchase order the fixtures create.
    t0_ = clock_->now_ms() + 1000;
    corp_key_ = KeyPair::generate();
    admin_ = KeyPair::generate();
    open_corp();
  }

  // Opens the corp on dir_/corp.db (again, after restart_corp()) and serves it on a fresh
  // loopback port through a router that remembers the last request of each route.
  void open_corp() {
    CorpOptions o;
    o.db_path = dir_.file("corp.db");
    o.admin_key = admin_.public_key();
    customize(o);
    auto svc = CorpService::open(o, corp_key_, *clock_);
    ASSERT_TRUE(svc) << svc.error().to_string();
    corp_ = std::move(*svc);
    auto recording = std::make_shared<Router>();
    for (const auto& route : corp_->router()->routes()) {
      recording->add(
          route.method, route.pattern,
          [this, h = route.handler, key = route.method + " " + route.pattern](const HttpRequest& q,
                                                                              const PathParams& p) {
            {
              std::lock_guard lock(recorded_mu_);
              recorded_[key] = q;
            }
            return h(q, p);
          },
          route.max_body);
    }
    server_ = std::make_unique<HttpServer>(HttpServerOptions{}, recording);
    auto st = server_->start();
    ASSERT_TRUE(st) << st.error().to_string();
    auto ep = parse_endpoint(server_->url());
    ASSERT_TRUE(ep);
    ep_ = *ep;
  }
  // Closes the corp (HTTP server and database) and opens it again on the same database, with
  // the same clock (so still inside the replay window of anything sent before).
  void restart_corp() {
    server_->stop();
    server_.reset();
    corp_.reset();
    open_corp();
  }
  // The exact request (headers and body as received) last routed to "METHOD /pattern".
  HttpRequest recorded(const std::string& route) {
    std::lock_guard lock(recorded_mu_);
    auto it = recorded_.find(route);
    EXPECT_NE(it, recorded_.end()) << "no request recorded for " << route;
    return it == recorded_.end() ? HttpRequest{} : it->second;
  }
  // Hands `q` to the running corp's router exactly as received (bypassing the socket, so the
  // bytes are the original ones whatever port the corp now listens on).
  HttpResponse replay(const HttpRequest& q) { return corp_->router()->dispatch(q); }

  // Lets a fixture change the corp's options before it opens.
  virtual void customize(CorpOptions&) {}

  void TearDown() override {
    if (server_) server_->stop();
  }

  Result<Json> call(const std::optional<KeyPair>& key, const std::string& method, const std::string& target,
                    const Json& body = nullptr) {
    clock_->advance_ms(1);
    ApiClient c(ep_, key, *clock_);
    return c.call(method, target, body);
  }
  Result<HttpResponse> raw(const std::optional<KeyPair>& key, const std::string& method, const std::string& target,
                           const std::string& body) {
    clock_->advance_ms(1);
    ApiClient c(ep_, key, *clock_);
    return c.call_raw(method, target, body);
  }

  // The usual cast: a user alice_ funded with `alice_funds`, and a server srv_ owned by owner_.
  void register_parties(int64_t alice_funds = 100'000) {
    alice_ = register_user("alice");
    owner_ = register_user("owner");
    srv_ = register_server(owner_);
    deposit(alice_, alice_funds);
  }

  KeyPair register_user(const std::string& name = "alice") {
    KeyPair k = KeyPair::generate();
    auto r = call(k, "POST", "/v1/accounts", Json{{"kind", "user"}, {"name", name}});
    EXPECT_TRUE(r) << r.error().to_string();
    return k;
  }
  KeyPair register_server(const KeyPair& owner, const std::string& name = "srv") {
    KeyPair k = KeyPair::generate();
    auto r = call(k, "POST", "/v1/accounts",
                  Json{{"kind", "server"},
                       {"name", name},
                       {"owner", owner.account_id()},
                       {"owner_consent", owner_consent_json(owner, k)}});
    EXPECT_TRUE(r) << r.error().to_string();
    return k;
  }
  void deposit(const KeyPair& who, int64_t amount) {
    auto r = call(admin_, "POST", "/v1/deposits", Json{{"account", who.account_id()}, {"amount_micros", amount}});
    ASSERT_TRUE(r) << r.error().to_string();
  }
  int64_t balance(const std::string& id) {
    auto r = call(admin_, "GET", "/v1/accounts/" + id);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? (*r)["balance_micros"].get<int64_t>() : -1;
  }
  int64_t held(const std::string& id) {
    auto r = call(admin_, "GET", "/v1/accounts/" + id);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? (*r)["held_micros"].get<int64_t>() : -1;
  }

  static Rates test_rates() {
    Rates r;
    r.cpu_reserve_per_core_hour = 3'600'000;  // 1 micro per core-ms
    r.memory_reserve_per_gib_hour = 360'000;
    r.cpu_use_per_core_hour = 7'200'000;
    r.net_io_per_gib = 1'000'000;
    return r;
  }
  SignedDoc price_sheet(const KeyPair& server, const Rates& rates = test_rates()) {
    PriceSheet p{server.account_id(), clock_->now_ms(), rates};
    auto d = SignedDoc::sign(kPriceSheetType, to_json(p), server);
    EXPECT_TRUE(d);
    return *d;
  }
  Result<Json> create_po_raw(const KeyPair& user, const KeyPair& server, int64_t max_amount) {
    return call(user, "POST", "/v1/purchase-orders",
                Json{{"server", server.account_id()},
                     {"price_sheet", price_sheet(server).to_json()},
                     {"max_amount_micros", max_amount}});
  }
  std::string create_po(const KeyPair& user, const KeyPair& server, int64_t max_amount) {
    auto r = create_po_raw(user, server, max_amount);
    EXPECT_TRUE(r) << r.error().to_string();
    if (!r) return "";
    return (*r)["purchase_order"]["body"]["po_id"].get<std::string>();
  }

  // A record whose amount is what the test rates give for `cpu_millis` reserved over `ms`.
  // Periods are consecutive from t0_ (after the fixtures' purchase orders were issued).
  [[nodiscard]] UsageRecord record(const std::string& po_id, const std::string& session, int64_t seq,
                                   int64_t cpu_millis, int64_t ms, bool final = false) const {
    return record_from(t0_ + (seq - 1) * ms, po_id, session, seq, cpu_millis, ms, final);
  }
  // A record of `ms` from `start` whose amount is what the test rates give for `cpu_millis`
  // reserved (and a tenth of it used).
  static UsageRecord record_from(TimeMs start, const std::string& po_id, const std::string& session, int64_t seq,
                                 int64_t cpu_millis, int64_t ms, bool final = false) {
    UsageRecord r;
    r.session = session;
    r.po_id = po_id;
    r.seq = seq;
    r.period_start = start;
    r.period_end = r.period_start + ms;
    r.reserved.cpu_millis = cpu_millis;
    r.used.cpu_ns = cpu_millis * ms * 100;
    auto c = compute_charge(test_rates(), r.reserved, r.used, ms);
    EXPECT_TRUE(c);
    r.amount = c->total;
    r.final = final;
    return r;
  }
  Json batch(const KeyPair& signer, const std::vector<UsageRecord>& recs, const std::string& server_id = "") {
    UsageBatch b{server_id.empty() ? signer.account_id() : server_id, clock_->now_ms(), recs};
    auto d = SignedDoc::sign(kUsageBatchType, to_json(b), signer);
    EXPECT_TRUE(d);
    return Json{{"batch", d->to_json()}};
  }
  // Like a server, reports records only once their periods have ended: the clock is moved to the
  // latest period end first if it is behind.
  // POST /v1/usage of `recs` after their periods: the answer as the corp gave it.
  Result<Json> send_usage_answer(const KeyPair& server, const std::vector<UsageRecord>& recs) {
    TimeMs end = 0;
    for (const auto& r : recs) end = std::max(end, r.period_end);
    if (clock_->now_ms() < end) clock_->set_ms(end);
    return call(server, "POST", "/v1/usage", batch(server, recs));
  }
  // As above, with a record the corp refused (corp/settlement.h: refusals are per record) turned
  // into the error it names, so a test can ask which rule refused which record.
  Result<Json> send_usage(const KeyPair& server, const std::vector<UsageRecord>& recs) {
    return refused_as_error(send_usage_answer(server, recs));
  }
  static Result<Json> refused_as_error(Result<Json> r) {
    if (!r || !r->contains("results")) return r;
    for (const auto& res : (*r)["results"]) {
      if (res.value("status", "") == "refused") {
        return make_error(error_code_from_name(res.value("code", "")), res.value("reason", ""));
      }
    }
    return r;
  }

  void expect_balanced() {
    auto c = corp_->check_ledger();
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_TRUE(c->balanced) << to_json(*c).dump();
    EXPECT_EQ(c->total, 0);
  }

  static std::string session_id(char c) { return "s" + std::string(32, c); }

  TempDir dir_;
  std::unique_ptr<SimulatedClock> clock_;
  TimeMs t0_ = 0;
  std::mutex recorded_mu_;
  std::map<std::string, HttpRequest> recorded_;
  KeyPair alice_ = KeyPair::generate();
  KeyPair owner_ = KeyPair::generate();
  KeyPair srv_ = KeyPair::generate();
  KeyPair corp_key_ = KeyPair::generate();
  KeyPair admin_ = KeyPair::generate();
  std::unique_ptr<CorpService> corp_;
  std::unique_ptr<HttpServer> server_;
  Endpoint ep_;
};

}  // namespace xop::testing
