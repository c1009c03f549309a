// Replay protection that survives a corp restart (issue 14, attack 1): the exact bytes of a
// mutating request, replayed to a corp reopened on the same database with its clock still inside
// the replay window, are refused and change nothing. Before the fix the replay cache was only in
// memory: a replayed deposit was credited twice and the ledger check still said balanced.
#include <sqlite3.h>

#include "corp_fixture.h"

namespace xop::testing {
namespace {

class CorpReplay : public CorpFixture {
 protected:
  void SetUp() override {
    CorpFixture::SetUp();
    if (HasFatalFailure()) return;
    register_parties();
  }

  // Replays `q` and checks that it is refused as a replay.
  void expect_replay_refused(const HttpRequest& q) {
    const HttpResponse r = replay(q);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_NE(r.body.find("replayed"), std::string::npos) << r.body;
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

TEST_F(CorpReplay, DepositReplayedAfterRestartIsRefused) {
  deposit(alice_, 5'000);
  const HttpRequest sent = recorded("POST /v1/deposits");
  ASSERT_EQ(balance(alice_.account_id()), 105'000);
  restart_corp();
  ASSERT_FALSE(HasFatalFailure());
  expect_replay_refused(sent);
  EXPECT_EQ(balance(alice_.account_id()), 105'000);
  expect_balanced();
}

TEST_F(CorpReplay, PurchaseOrderReplayedAfterRestartIsRefused) {
  const std::string po = create_po(alice_, srv_, 10'000);
  ASSERT_FALSE(po.empty());
  const HttpRequest sent = recorded("POST /v1/purchase-orders");
  restart_corp();
  ASSERT_FALSE(HasFatalFailure());
  expect_replay_refused(sent);
  EXPECT_EQ(balance(alice_.account_id()), 90'000);
  EXPECT_EQ(held(alice_.account_id()), 10'000);
  EXPECT_EQ(count("SELECT COUNT(*) FROM purchase_orders"), 1);
  expect_balanced();
}

TEST_F(CorpReplay, UsageBatchReplayedAfterRestartIsRefused) {
  const std::string po = create_po(alice_, srv_, 10'000);
  const std::string s = session_id('a');
  auto r1 = record(po, s, 1, 1000, 1000);
  ASSERT_TRUE(send_usage(srv_, {r1}));
  const HttpRequest sent = recorded("POST /v1/usage");
  const int64_t earned = balance(owner_.account_id());
  ASSERT_EQ(earned, r1.amount.micros());
  const int64_t records = count("SELECT COUNT(*) FROM usage_records");
  restart_corp();
  ASSERT_FALSE(HasFatalFailure());
  expect_replay_refused(sent);
  EXPECT_EQ(balance(owner_.account_id()), earned);
  EXPECT_EQ(count("SELECT COUNT(*) FROM usage_records"), records);
  expect_balanced();
}

TEST_F(CorpReplay, CloseAndRegistrationReplayedAfterRestartAreRefused) {
  const std::string po = create_po(alice_, srv_, 10'000);
  ASSERT_TRUE(call(alice_, "POST", "/v1/purchase-orders/" + po + "/close"));
  const HttpRequest close = recorded("POST /v1/purchase-orders/{po_id}/close");
  const HttpRequest reg = recorded("POST /v1/accounts");
  restart_corp();
  ASSERT_FALSE(HasFatalFailure());
  expect_replay_refused(close);
  expect_replay_refused(reg);
  expect_balanced();
}

TEST_F(CorpReplay, RefusedRequestLeavesNoNonceAndNoncesArePruned) {
  // A request whose effect fails (402) commits nothing, not even its nonce.
  const int64_t before = count("SELECT COUNT(*) FROM request_nonces");
  auto poor = create_po_raw(alice_, srv_, 1'000'000);
  ASSERT_FALSE(poor);
  EXPECT_EQ(poor.error().code, ErrorCode::kPaymentRequired);
  EXPECT_EQ(count("SELECT COUNT(*) FROM request_nonces"), before);
  ASSERT_GT(before, 0);
  // Once no request of the window can still be replayed, the next mutating request prunes them.
  clock_->advance_ms(2 * CorpOptions{}.replay_window_ms + 10);
  deposit(alice_, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM request_nonces"), 1);
}

}  // namespace
}  // namespace xop::testing
