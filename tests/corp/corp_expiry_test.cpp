// End-to-end tests of the expiry of unused purchase orders: a real XenoCorp over HTTP and SQLite,
// with the SimulatedClock moved across expires_at + the grace (CorpOptions::unused_po_grace_ms).
// A hold is released only once the PO's server has checked in past that time (its heartbeat, an
// empty usage batch, is the checkpoint: expiry.h).
// The TTL and grace are short because ApiClient keeps its signing timestamps increasing across the
// whole process: a clock jumped by more than the replay window would break the tests that follow.
#include "corp/expiry.h"
#include "corp_fixture.h"

namespace xop::testing {
namespace {

constexpr int64_t kGrace = 2'000;
constexpr int64_t kTtl = 1'000;
constexpr int64_t kBackstop = 30 * kGrace;

class CorpExpiry : public CorpFixture {
 protected:
  void customize(CorpOptions& o) override {
    o.unused_po_grace_ms = kGrace;
    o.unreported_po_backstop_ms = kBackstop;
  }
  Result<Json> create_short_po(const KeyPair& server, int64_t max_amount) {
    return call(alice_, "POST", "/v1/purchase-orders",
                Json{{"server", server.account_id()},
                     {"price_sheet", price_sheet(server).to_json()},
                     {"max_amount_micros", max_amount},
                     {"ttl_ms", kTtl}});
  }
  void SetUp() override {
    CorpFixture::SetUp();
    if (HasFatalFailure()) return;
    register_parties();
    auto r = create_short_po(srv_, 10'000);
    ASSERT_TRUE(r) << r.error().to_string();
    po_ = (*r)["purchase_order"]["body"]["po_id"].get<std::string>();
    expires_at_ = (*r)["purchase_order"]["body"]["expires_at"].get<TimeMs>();
  }
  // The fixture ticks the clock 1 ms before each request: the next request runs at `t`.
  void next_request_at(TimeMs t) { clock_->set_ms(t - 1); }
  // The server's heartbeat (an empty batch, a checkpoint).
  // Its checkpoint is `t` (the batch's sent_at); the request itself runs at t + 1.
  void heartbeat_at(TimeMs t) {
    clock_->set_ms(t);
    auto r = send_usage(srv_, {});
    ASSERT_TRUE(r) << r.error().to_string();
  }
  int64_t transactions() {
    auto c = corp_->check_ledger();  // reads without sweeping
    EXPECT_TRUE(c) << c.error().to_string();
    return c ? c->transactions : -1;
  }

  std::string po_;
  TimeMs expires_at_ = 0;
  std::string s_ = session_id('a');
};

TEST_F(CorpExpiry, UnusedHoldReturnsOnlyAfterExpiryPlusGrace) {
  EXPECT_EQ(balance(alice_.account_id()), 90'000);
  heartbeat_at(expires_at_ + kGrace);  // expired, but the checkpoint is not past the grace
  EXPECT_EQ(held(alice_.account_id()), 10'000);
  auto open = call(alice_, "GET", "/v1/purchase-orders/" + po_);
  ASSERT_TRUE(open) << open.error().to_string();
  EXPECT_EQ((*open)["state"], "open");

  heartbeat_at(expires_at_ + kGrace + 1);
  EXPECT_EQ(balance(alice_.account_id()), 100'000);
  EXPECT_EQ(held(alice_.account_id()), 0);
  auto st = call(alice_, "GET", "/v1/purchase-orders/" + po_);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ((*st)["state"], "closed");
  EXPECT_EQ((*st)["remaining_micros"], 0);
  EXPECT_EQ((*st)["charged_micros"], 0);
  EXPECT_EQ((*st)["exhausted"], true);

  auto s = call(alice_, "GET", "/v1/statements/" + alice_.account_id());
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ((*s)["balance_micros"], 100'000);
  EXPECT_EQ((*s)["held_micros"], 0);
  ASSERT_EQ((*s)["purchase_orders"].size(), 1u);
  EXPECT_EQ((*s)["purchase_orders"][0]["state"], "closed");
  EXPECT_EQ((*s)["purchase_orders"][0]["remaining_micros"], 0);
  // deposit, hold, expire: the release is one transaction of the whole hold.
  ASSERT_EQ((*s)["transactions"].size(), 3u);
  EXPECT_EQ((*s)["transactions"][2]["kind"], kExpireTxKind);
  EXPECT_EQ((*s)["transactions"][2]["amount_micros"], 10'000);

  // Already closed: the user's close is refused and nothing moves twice.
  auto close = call(alice_, "POST", "/v1/purchase-orders/" + po_ + "/close");
  ASSERT_FALSE(close);
  EXPECT_EQ(close.error().code, ErrorCode::kConflict);
  EXPECT_EQ(balance(alice_.account_id()), 100'000);
  EXPECT_EQ(transactions(), 3);  // deposit, hold, expire
  expect_balanced();
}

TEST_F(CorpExpiry, AnyMutatingRequestSweeps) {
  KeyPair bob = register_user("bob");
  heartbeat_at(expires_at_ + kGrace + 1);  // sweeps first (nothing due), then checkpoints
  EXPECT_EQ(transactions(), 2);            // nothing has asked since: deposit, hold
  deposit(bob, 5);                         // an unrelated request
  EXPECT_EQ(transactions(), 4);            // + expire, deposit
  expect_balanced();
}

TEST_F(CorpExpiry, PurchaseOrderWithASettledRecordIsNotExpired) {
  auto r1 = record(po_, s_, 1, 1000, 1000);
  ASSERT_TRUE(send_usage(srv_, {r1}));
  next_request_at(expires_at_ + 5 * kGrace);
  EXPECT_EQ(held(alice_.account_id()), 10'000 - r1.amount.micros());
  auto st = call(alice_, "GET", "/v1/purchase-orders/" + po_);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ((*st)["state"], "open");
  // The session's final record releases it, as always.
  auto r2 = record(po_, s_, 2, 1000, 1000, true);
  auto fin = send_usage(srv_, {r2});
  ASSERT_TRUE(fin) << fin.error().to_string();
  EXPECT_EQ((*fin)["results"][0]["charged_micros"], r2.amount.micros());
  EXPECT_EQ(balance(alice_.account_id()), 100'000 - r1.amount.micros() - r2.amount.micros());
  EXPECT_EQ(held(alice_.account_id()), 0);
  EXPECT_EQ(balance(owner_.account_id()), r1.amount.micros() + r2.amount.micros());
  expect_balanced();
}

TEST_F(CorpExpiry, FirstRecordInsideTheGraceIsCharged) {
  next_request_at(expires_at_ + kGrace / 2);
  auto r1 = record(po_, s_, 1, 1000, 1000);
  auto r = send_usage(srv_, {r1});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["results"][0]["charged_micros"], r1.amount.micros());
  next_request_at(expires_at_ + 5 * kGrace);
  EXPECT_EQ(held(alice_.account_id()), 10'000 - r1.amount.micros());
  EXPECT_EQ(balance(owner_.account_id()), r1.amount.micros());
  expect_balanced();
}

// Issue 14, attack 6: a corp outage longer than the grace left 73 s of real work unpaid -- the
// first request after the outage swept the PO on the clock alone and the server's delayed records
// were charged 0. Now the hold waits for the server's checkpoint: its pending records, delivered
// long after expires_at + grace, are paid.
TEST_F(CorpExpiry, CorpOutageLongerThanTheGraceStillPaysTheServersPendingUsage) {
  // The session was admitted just before expiry; the corp is unreachable for 20 graces while the
  // user keeps asking (each request would sweep).
  for (int i = 1; i <= 20; ++i) {
    next_request_at(expires_at_ + i * kGrace);
    EXPECT_EQ(held(alice_.account_id()), 10'000);
  }
  // The server delivers its backlog, then its final record.
  auto r1 = record(po_, s_, 1, 1000, 1000);
  auto r2 = record(po_, s_, 2, 1000, 1000);
  auto late = send_usage(srv_, {r1, r2});
  ASSERT_TRUE(late) << late.error().to_string();
  EXPECT_EQ((*late)["results"][0]["charged_micros"], r1.amount.micros());
  EXPECT_EQ((*late)["results"][1]["charged_micros"], r2.amount.micros());
  auto fin = send_usage(srv_, {record(po_, s_, 3, 1000, 1000, true)});
  ASSERT_TRUE(fin) << fin.error().to_string();
  const int64_t paid = r1.amount.micros() + r2.amount.micros() + record(po_, s_, 3, 1000, 1000, true).amount.micros();
  EXPECT_EQ(balance(owner_.account_id()), paid);
  EXPECT_EQ(balance(alice_.account_id()), 100'000 - paid);
  EXPECT_EQ(held(alice_.account_id()), 0);
  expect_balanced();
}

TEST_F(CorpExpiry, RecordArrivingAfterTheServersOwnCheckpointIsChargedNothing) {
  heartbeat_at(expires_at_ + kGrace + 1);  // the server says it has nothing pending
  auto r1 = record(po_, s_, 1, 1000, 1000);
  auto late = send_usage(srv_, {r1});  // the sweep runs first, in this very request
  ASSERT_TRUE(late) << late.error().to_string();
  EXPECT_EQ((*late)["results"][0]["status"], "charged");
  EXPECT_EQ((*late)["results"][0]["charged_micros"], 0);
  EXPECT_EQ((*late)["purchase_orders"][0]["remaining_micros"], 0);
  EXPECT_EQ((*late)["purchase_orders"][0]["exhausted"], true);
  EXPECT_EQ((*late)["purchase_orders"][0]["closed"], true);
  auto fin = send_usage(srv_, {record(po_, s_, 2, 1000, 1000, true)});
  ASSERT_TRUE(fin) << fin.error().to_string();
  EXPECT_EQ((*fin)["results"][0]["charged_micros"], 0);
  EXPECT_EQ(balance(alice_.account_id()), 100'000);
  EXPECT_EQ(balance(owner_.account_id()), 0);
  // The statement lists the records with what was claimed and what was charged (nothing).
  auto s = call(alice_, "GET", "/v1/statements/" + alice_.account_id());
  ASSERT_TRUE(s) << s.error().to_string();
  const auto& recs = (*s)["purchase_orders"][0]["records"];
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["amount_micros"], r1.amount.micros());
  EXPECT_EQ(recs[0]["charged_micros"], 0);
  auto c = call(std::nullopt, "GET", "/v1/ledger/check");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ((*c)["balanced"], true);
  expect_balanced();
}

TEST_F(CorpExpiry, ASilentServerForfeitsAfterTheBackstop) {
  next_request_at(expires_at_ + kBackstop);
  EXPECT_EQ(held(alice_.account_id()), 10'000);
  next_request_at(expires_at_ + kBackstop + 1);
  EXPECT_EQ(held(alice_.account_id()), 0);
  EXPECT_EQ(balance(alice_.account_id()), 100'000);
  expect_balanced();
}

TEST_F(CorpExpiry, OnlyTheExpiredOnesAmongManyAreReleased) {
  auto longer = call(alice_, "POST", "/v1/purchase-orders",
                     Json{{"server", srv_.account_id()},
                          {"price_sheet", price_sheet(srv_).to_json()},
                          {"max_amount_micros", 7'000},
                          {"ttl_ms", 3'600'000}});
  ASSERT_TRUE(longer) << longer.error().to_string();
  auto short_closed = create_short_po(srv_, 1'000);
  ASSERT_TRUE(short_closed) << short_closed.error().to_string();
  const std::string closed_by_user = (*short_closed)["purchase_order"]["body"]["po_id"].get<std::string>();
  ASSERT_TRUE(call(alice_, "POST", "/v1/purchase-orders/" + closed_by_user + "/close"));
  EXPECT_EQ(held(alice_.account_id()), 18'000);  // closing: released with the others below
  heartbeat_at(expires_at_ + kGrace + 1);
  EXPECT_EQ(held(alice_.account_id()), 7'000);
  EXPECT_EQ(balance(alice_.account_id()), 93'000);
  auto s = call(alice_, "GET", "/v1/statements/" + alice_.account_id());
  ASSERT_TRUE(s) << s.error().to_string();
  int expires = 0;
  for (const auto& t : (*s)["transactions"]) expires += t["kind"] == kExpireTxKind ? 1 : 0;
  EXPECT_EQ(expires, 2);  // the expired one and the user-closed one, each released once
  expect_balanced();
}

}  // namespace
}  // namespace xop::testing
