// Idempotency-Key on the corp's money-moving POSTs (corp/idempotency.h), over real HTTP on
// loopback and a real SQLite file: a replay returns the first answer byte for byte, a reused key
// is 422, a malformed one 400, one in flight 409; keys survive a restart and concurrent
// duplicates move money once. Payouts and the money-conservation proof of the ledger check.
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <thread>

#include "corp/idempotency.h"
#include "corp_fixture.h"
#include "proto/idempotency_key.h"

namespace xop::testing {
namespace {

class CorpIdempotency : public CorpFixture {
 protected:
  void SetUp() override {
    CorpFixture::SetUp();
    if (HasFatalFailure()) return;
    register_parties();
  }

  // A freshly signed POST carrying `key` as its Idempotency-Key header value (verbatim).
  HttpResponse post(const KeyPair& who, const std::string& target, const Json& body, const std::string& key) {
    clock_->advance_ms(1);
    ApiClient c(ep_, who, *clock_);
    const std::string text = body.is_null() ? std::string() : body.dump();
    auto r = c.call_raw("POST", target, text, "application/json", {{"Idempotency-Key", key}});
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : HttpResponse{};
  }
  static std::string code_of(const HttpResponse& r) {
    auto j = parse_json(r.body);
    if (!j || !j->contains("error")) return "";
    return (*j)["error"].value("code", "");
  }
  // From an HTTP client the header name is lower-cased; from serve_idempotent it is as sent.
  static bool replayed(const HttpResponse& r) {
    for (const auto& [k, v] : r.headers) {
      if ((k == "idempotent-replayed" || k == kHeaderIdempotentReplayed) && v == "true") return true;
    }
    return false;
  }
  Json deposit_body(const KeyPair& who, int64_t amount, const std::string& memo = "top-up") {
    return Json{{"account", who.account_id()}, {"amount_micros", amount}, {"memo", memo}};
  }
  Json payout_body(const KeyPair& who, int64_t amount, const std::string& memo = "to alice's bank, invoice 7") {
    return Json{{"account_id", who.account_id()}, {"amount_micros", amount}, {"memo", memo}};
  }
  // The admin's fresh ledger check, with every figure.
  LedgerCheck check() {
    auto c = corp_->check_ledger();
    EXPECT_TRUE(c) << c.error().to_string();
    return c ? *c : LedgerCheck{};
  }
  void exec_sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("corp.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  int64_t count(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(dir_.file("corp.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }
};

TEST_F(CorpIdempotency, ADepositReplayReturnsTheFirstAnswerByteForByteAndMovesNothing) {
  const int64_t before = balance(alice_.account_id());
  const HttpResponse first = post(admin_, "/v1/deposits", deposit_body(alice_, 700), "\"dep-1\"");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(replayed(first));
  for (int i = 0; i < 3; ++i) {
    const HttpResponse again = post(admin_, "/v1/deposits", deposit_body(alice_, 700), "\"dep-1\"");
    EXPECT_EQ(again.status, first.status);
    EXPECT_EQ(again.body, first.body);
    EXPECT_EQ(again.content_type, first.content_type);
    EXPECT_TRUE(replayed(again));
  }
  // The bare-token form names the same key.
  const HttpResponse bare = post(admin_, "/v1/deposits", deposit_body(alice_, 700), "dep-1");
  EXPECT_EQ(bare.body, first.body);
  EXPECT_TRUE(replayed(bare));
  EXPECT_EQ(balance(alice_.account_id()), before + 700);
  EXPECT_EQ(count("SELECT COUNT(*) FROM transactions WHERE kind = 'deposit' AND memo = 'top-up'"), 1);
  // Without a key every request moves money, as before.
  deposit(alice_, 5);
  deposit(alice_, 5);
  EXPECT_EQ(balance(alice_.account_id()), before + 710);
  expect_balanced();
}

TEST_F(CorpIdempotency, TheSameKeyForAnotherRequestIs422AndChangesNothing) {
  ASSERT_EQ(post(admin_, "/v1/deposits", deposit_body(alice_, 100), "k").status, 200);
  const int64_t after = balance(alice_.account_id());
  const HttpResponse other_amount = post(admin_, "/v1/deposits", deposit_body(alice_, 101), "k");
  EXPECT_EQ(other_amount.status, 422) << other_amount.body;
  EXPECT_EQ(code_of(other_amount), "idempotency_key_reused");
  const HttpResponse other_route = post(admin_, "/v1/payouts", payout_body(alice_, 100), "k");
  EXPECT_EQ(other_route.status, 422) << other_route.body;
  EXPECT_EQ(code_of(other_route), "idempotency_key_reused");
  EXPECT_EQ(balance(alice_.account_id()), after);
  expect_balanced();
}

TEST_F(CorpIdempotency, KeysAreScopedPerCaller) {
  KeyPair bob = register_user("bob");
  deposit(bob, 50'000);
  const Json po =
      Json{{"server", srv_.account_id()}, {"price_sheet", price_sheet(srv_).to_json()}, {"max_amount_micros", 1000}};
  const HttpResponse a = post(alice_, "/v1/purchase-orders", po, "order-1");
  const HttpResponse b = post(bob, "/v1/purchase-orders", po, "order-1");
  ASSERT_EQ(a.status, 201) << a.body;
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_FALSE(replayed(b));
  EXPECT_NE(a.body, b.body);
  EXPECT_EQ(held(alice_.account_id()), 1000);
  EXPECT_EQ(held(bob.account_id()), 1000);
  // Alice's replay is hers: the same purchase order, not a second hold.
  const HttpResponse a2 = post(alice_, "/v1/purchase-orders", po, "order-1");
  EXPECT_EQ(a2.body, a.body);
  EXPECT_TRUE(replayed(a2));
  EXPECT_EQ(held(alice_.account_id()), 1000);
  expect_balanced();
}

TEST_F(CorpIdempotency, AMalformedKeyIs400AndMovesNothing) {
  const int64_t before = balance(alice_.account_id());
  for (const std::string& bad :
       {std::string(""), std::string("   "), std::string("\"\""), std::string(256, 'k'),
        "\"" + std::string(256, 'k') + "\"", std::string("caf\xc3\xa9"), std::string("two words"),
        std::string("\"unterminated"), std::string("\"a\"b"), std::string("\"bad\\escape\"")}) {
    const HttpResponse r = post(admin_, "/v1/deposits", deposit_body(alice_, 10), bad);
    EXPECT_EQ(r.status, 400) << "key [" << bad << "]: " << r.body;
    EXPECT_EQ(code_of(r), "invalid_idempotency_key") << "key [" << bad << "]";
  }
  // 255 characters is the limit, not past it.
  EXPECT_EQ(post(admin_, "/v1/deposits", deposit_body(alice_, 10), std::string(255, 'k')).status, 200);
  EXPECT_EQ(balance(alice_.account_id()), before + 10);
  expect_balanced();
}

TEST_F(CorpIdempotency, AKeySurvivesARestartOfTheCorp) {
  const HttpResponse first = post(admin_, "/v1/deposits", deposit_body(alice_, 321), "before-restart");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string po_body = Json{
      {"server", srv_.account_id()},
      {"price_sheet", price_sheet(srv_).to_json()},
      {"max_amount_micros", 4000}}.dump();
  const HttpResponse po = post(alice_, "/v1/purchase-orders", *parse_json(po_body), "po-before");
  ASSERT_EQ(po.status, 201) << po.body;
  restart_corp();
  // A long time later too: keys do not expire.
  clock_->advance_ms(int64_t{400} * 24 * 3600 * 1000);
  const HttpResponse again = post(admin_, "/v1/deposits", deposit_body(alice_, 321), "before-restart");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_TRUE(replayed(again));
  const HttpResponse po_again = post(alice_, "/v1/purchase-orders", *parse_json(po_body), "po-before");
  EXPECT_EQ(po_again.status, 201);
  EXPECT_EQ(po_again.body, po.body);
  EXPECT_EQ(count("SELECT COUNT(*) FROM transactions WHERE kind = 'deposit' AND memo = 'top-up'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM purchase_orders"), 1);
  expect_balanced();
}

TEST_F(CorpIdempotency, ConcurrentDuplicatesFromThreadsMoveMoneyOnce) {
  const int64_t before = balance(alice_.account_id());
  constexpr int kThreads = 8;
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    const std::string key = "burst-" + std::to_string(round);
    std::vector<HttpResponse> answers(kThreads);
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    // Each thread signs its own request (distinct timestamps) before the burst starts.
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        ApiClient c(ep_, admin_, *clock_);
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        auto r = c.call_raw("POST", "/v1/deposits", deposit_body(alice_, 1000).dump(), "application/json",
                            {{"Idempotency-Key", key}});
        if (r) {
          answers[i] = *r;
        } else {
          errors[i] = r.error().to_string();
        }
      });
    }
    for (auto& t : threads) t.join();
    int fresh = 0;
    std::string body;
    for (int i = 0; i < kThreads; ++i) {
      ASSERT_TRUE(errors[i].empty()) << errors[i];
      const HttpResponse& r = answers[i];
      if (r.status == 409) {
        EXPECT_EQ(code_of(r), "idempotency_key_in_flight") << r.body;
        continue;
      }
      ASSERT_EQ(r.status, 200) << r.body;
      if (!replayed(r)) ++fresh;
      if (body.empty()) body = r.body;
      EXPECT_EQ(r.body, body);
    }
    EXPECT_EQ(fresh, 1) << "round " << round;
  }
  EXPECT_EQ(balance(alice_.account_id()), before + kRounds * 1000);
  expect_balanced();
}

// While the first request with a key is being served, a duplicate gets 409 at once (it does not
// wait for the first); after it, the duplicate gets the stored answer.
TEST_F(CorpIdempotency, ADuplicateOfARequestInFlightIs409) {
  ClearingHouse& house = corp_->clearing_house();
  InFlightKeys in_flight;
  HttpRequest q;
  q.method = "POST";
  q.target = q.path = "/v1/deposits";
  q.body = R"({"account":"x"})";
  q.caller = admin_.public_key();
  q.headers[kHeaderIdempotencyKey] = "slow";
  const Authenticate no_auth = [](const HttpRequest&) -> Result<PublicKey> {
    return make_error(ErrorCode::kUnauthenticated, "the test's requests carry their caller");
  };
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  HttpResponse first;
  std::thread slow([&] {
    first = serve_idempotent(house, in_flight, no_auth, q, clock_->now_ms(), [&](const HttpRequest&) {
      std::unique_lock lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return json_response(200, Json{{"ok", 1}});
    });
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  bool ran = false;
  const HttpResponse dup = serve_idempotent(house, in_flight, no_auth, q, clock_->now_ms(), [&](const HttpRequest&) {
    ran = true;
    return json_response(200, Json{{"ok", 2}});
  });
  EXPECT_FALSE(ran);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(code_of(dup), "idempotency_key_in_flight");
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  slow.join();
  EXPECT_EQ(first.status, 200);
  const HttpResponse after = serve_idempotent(house, in_flight, no_auth, q, clock_->now_ms(), [&](const HttpRequest&) {
    ran = true;
    return json_response(200, Json{{"ok", 3}});
  });
  EXPECT_FALSE(ran);
  EXPECT_EQ(after.body, first.body);
  EXPECT_TRUE(replayed(after));
}

// A failed answer is not stored: nothing happened, so the same key runs again once it can succeed.
TEST_F(CorpIdempotency, AFailedRequestIsNotStoredAndItsKeyRunsAgain) {
  const Json body = payout_body(alice_, 200'000);  // alice has 100,000
  const HttpResponse refused = post(admin_, "/v1/payouts", body, "pay-1");
  EXPECT_EQ(refused.status, 402) << refused.body;
  deposit(alice_, 150'000);
  const HttpResponse paid = post(admin_, "/v1/payouts", body, "pay-1");
  EXPECT_EQ(paid.status, 200) << paid.body;
  EXPECT_FALSE(replayed(paid));
  EXPECT_EQ(balance(alice_.account_id()), 50'000);
  EXPECT_EQ(count("SELECT COUNT(*) FROM idempotency_keys"), 1);
  expect_balanced();
}

TEST_F(CorpIdempotency, CloseAndUsageReplaysAnswerAsTheFirstTime) {
  const std::string po = create_po(alice_, srv_, 10'000);
  ASSERT_FALSE(po.empty());
  clock_->set_ms(std::max(clock_->now_ms(), t0_ + 1000));
  const Json usage = batch(srv_, {record(po, session_id('a'), 1, 1000, 1000)});
  const HttpResponse u1 = post(srv_, "/v1/usage", usage, "usage-1");
  ASSERT_EQ(u1.status, 200) << u1.body;
  const HttpResponse u2 = post(srv_, "/v1/usage", usage, "usage-1");
  EXPECT_EQ(u2.body, u1.body);  // "charged", not "duplicate"
  EXPECT_TRUE(replayed(u2));
  const HttpResponse c1 = post(alice_, "/v1/purchase-orders/" + po + "/close", nullptr, "close-1");
  ASSERT_EQ(c1.status, 200) << c1.body;
  const HttpResponse c2 = post(alice_, "/v1/purchase-orders/" + po + "/close", nullptr, "close-1");
  EXPECT_EQ(c2.status, 200) << c2.body;  // not 409 "already closing"
  EXPECT_EQ(c2.body, c1.body);
  // Without the key the second close is the conflict it always was.
  auto c3 = call(alice_, "POST", "/v1/purchase-orders/" + po + "/close");
  ASSERT_FALSE(c3);
  EXPECT_EQ(c3.error().code, ErrorCode::kConflict);
  expect_balanced();
}

TEST_F(CorpIdempotency, AnExtensionRetriedWithItsKeyHoldsMoreOnlyOnce) {
  const std::string po = create_po(alice_, srv_, 10'000);
  ASSERT_FALSE(po.empty());
  const int64_t before = balance(alice_.account_id());
  const std::string target = "/v1/purchase-orders/" + po + "/extend";
  const HttpResponse e1 = post(alice_, target, Json{{"amount_micros", 2'500}}, "extend-1");
  ASSERT_EQ(e1.status, 200) << e1.body;
  const HttpResponse e2 = post(alice_, target, Json{{"amount_micros", 2'500}}, "extend-1");
  EXPECT_EQ(e2.status, 200) << e2.body;
  EXPECT_EQ(e2.body, e1.body);
  EXPECT_TRUE(replayed(e2));
  EXPECT_EQ(balance(alice_.account_id()), before - 2'500) << "the retry held nothing more";
  // The same key for another amount is refused and moves nothing.
  const HttpResponse e3 = post(alice_, target, Json{{"amount_micros", 9'000}}, "extend-1");
  EXPECT_EQ(e3.status, 422) << e3.body;
  EXPECT_EQ(balance(alice_.account_id()), before - 2'500);
  expect_balanced();
}

TEST_F(CorpIdempotency, APayoutMovesMoneyOutAndTheLedgerProvesInEqualsOutPlusInside) {
  const std::string po = create_po(alice_, srv_, 30'000);  // alice: 70,000 available, 30,000 held
  ASSERT_FALSE(po.empty());
  // Above the available balance (though not above balance + holds): 402, nothing moves.
  auto over = call(admin_, "POST", "/v1/payouts", payout_body(alice_, 70'001));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kPaymentRequired);
  EXPECT_NE(over.error().message.find("70000"), std::string::npos) << over.error().message;
  auto ok = call(admin_, "POST", "/v1/payouts", payout_body(alice_, 20'000));
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ((*ok)["balance_micros"], 50'000);
  EXPECT_EQ((*ok)["transaction"].get<std::string>().substr(0, 2), "tx");
  EXPECT_EQ(balance(alice_.account_id()), 50'000);
  EXPECT_EQ(held(alice_.account_id()), 30'000);
  // Who asked and why are in the ledger, and alice's statement shows the payout.
  EXPECT_EQ(count("SELECT COUNT(*) FROM transactions WHERE kind = 'payout' AND memo = "
                  "'to alice''s bank, invoice 7 (paid out by " +
                  admin_.account_id() + ")'"),
            1);
  auto st = call(alice_, "GET", "/v1/statements/" + alice_.account_id());
  ASSERT_TRUE(st) << st.error().to_string();
  bool seen = false;
  for (const auto& t : (*st)["transactions"]) seen = seen || (t["kind"] == "payout" && t["amount_micros"] == -20'000);
  EXPECT_TRUE(seen) << st->dump();
  const LedgerCheck c = check();
  EXPECT_TRUE(c.balanced) << to_json(c).dump();
  EXPECT_EQ(c.deposited, 100'000);
  EXPECT_EQ(c.paid_out, 20'000);
  EXPECT_EQ(c.available, 50'000);
  EXPECT_EQ(c.held, 30'000);
  // The figures reach the admin over HTTP, not anyone else.
  auto admin_view = call(admin_, "GET", "/v1/ledger/check");
  ASSERT_TRUE(admin_view) << admin_view.error().to_string();
  EXPECT_EQ((*admin_view)["paid_out_micros"], 20'000);
  EXPECT_EQ((*admin_view)["deposited_micros"], 100'000);
  auto anon = call(std::nullopt, "GET", "/v1/ledger/check");
  ASSERT_TRUE(anon) << anon.error().to_string();
  EXPECT_FALSE(anon->contains("paid_out_micros"));
}

TEST_F(CorpIdempotency, PayoutsNeedTheAdminKeyAMemoAndAWellFormedBody) {
  auto by_alice = call(alice_, "POST", "/v1/payouts", payout_body(alice_, 10));
  ASSERT_FALSE(by_alice);
  EXPECT_EQ(by_alice.error().code, ErrorCode::kPermissionDenied);
  const std::string id = alice_.account_id();
  const std::vector<Json> hostile = {
      Json{{"account_id", id}, {"amount_micros", 10}},                                   // no memo
      Json{{"account_id", id}, {"amount_micros", 10}, {"memo", ""}},                     // empty memo
      Json{{"account_id", id}, {"amount_micros", 10}, {"memo", std::string(257, 'm')}},  // too long
      Json{{"account_id", id}, {"amount_micros", 10}, {"memo", "line\nbreak"}},          // control char
      Json{{"account_id", id}, {"amount_micros", 0}, {"memo", "m"}},
      Json{{"account_id", id}, {"amount_micros", -5}, {"memo", "m"}},
      Json{{"account_id", id}, {"amount_micros", "10"}, {"memo", "m"}},
      Json{{"account_id", id}, {"amount_micros", 1.5}, {"memo", "m"}},
      Json{{"account_id", id}, {"amount_micros", 10}, {"memo", "m"}, {"extra", true}},
      Json{{"account_id", "../etc"}, {"amount_micros", 10}, {"memo", "m"}},
      Json{{"amount_micros", 10}, {"memo", "m"}},
      Json::array({1, 2}),
      Json("payout"),
  };
  for (const auto& body : hostile) {
    auto r = call(admin_, "POST", "/v1/payouts", body);
    ASSERT_FALSE(r) << body.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << body.dump() << ": " << r.error().to_string();
  }
  auto big = raw(admin_, "POST", "/v1/payouts", std::string(size_t{65} * 1024, '['));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  auto not_json = raw(admin_, "POST", "/v1/payouts", "{\"account_id\":");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  auto unknown = call(admin_, "POST", "/v1/payouts", payout_body(KeyPair::generate(), 10));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(balance(id), 100'000);
  EXPECT_EQ(check().paid_out, 0);
  expect_balanced();
}

// A row changed behind the corp's back in the real SQLite file: the check names the figures.
TEST_F(CorpIdempotency, ACorruptedBalanceRowIsReportedWithTheFigures) {
  ASSERT_TRUE(call(admin_, "POST", "/v1/payouts", payout_body(alice_, 1'000)));
  expect_balanced();
  exec_sql("UPDATE ledger_accounts SET balance = balance + 2500 WHERE name = 'user:" + alice_.account_id() + "'");
  const LedgerCheck c = check();
  EXPECT_FALSE(c.balanced);
  EXPECT_EQ(c.deposited, 100'000);
  EXPECT_EQ(c.paid_out, 1'000);
  EXPECT_EQ(c.available, 101'500);
  EXPECT_EQ(c.held, 0);
  bool named = false;
  for (const auto& p : c.problems) {
    named = named || p == "money in 100000 (deposits) != money out 1000 (payouts) + balances 101500 + holds 0 = "
                          "102500: 2500 created";
  }
  EXPECT_TRUE(named) << to_json(c).dump();
}

TEST_F(CorpIdempotency, ACorruptedPayoutEntryIsReportedWithTheFigures) {
  ASSERT_TRUE(call(admin_, "POST", "/v1/payouts", payout_body(alice_, 1'000)));
  exec_sql("UPDATE entries SET amount = 400 WHERE account = 'external:payouts'");
  const LedgerCheck c = check();
  EXPECT_FALSE(c.balanced);
  EXPECT_EQ(c.paid_out, 400);
  std::string all;
  for (const auto& p : c.problems) all += p + "\n";
  EXPECT_NE(all.find("money in 100000 (deposits) != money out 400 (payouts) + balances 99000 + holds 0 = 99400: "
                     "600 missing"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("external:payouts holds 1000 but payouts paid out 400"), std::string::npos) << all;
}

}  // namespace
}  // namespace xop::testing
