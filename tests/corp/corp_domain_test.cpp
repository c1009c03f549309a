// The clearing house driven directly, without HTTP or a clock: every call gets its `now`, the
// caller is a key, and money is checked to be conserved after every step.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "corp/clearing_house.h"
#include "corp/expiry.h"
#include "proto/charge.h"
#include "proto/owner_consent.h"
#include "proto/price_sheet.h"
#include "proto/usage_record.h"
#include "support/builders.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

constexpr TimeMs kT0 = 1'700'000'000'000;
constexpr int64_t kGrace = 1'000;
constexpr int64_t kBackstop = 20'000;

class ClearingHouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CorpOptions o;
    o.db_path = dir_.file("corp.db");
    o.admin_key = admin_.public_key();
    o.unused_po_grace_ms = kGrace;
    o.unreported_po_backstop_ms = kBackstop;
    auto h = ClearingHouse::open(o, KeyPair::generate());
    ASSERT_TRUE(h) << h.error().to_string();
    house_ = std::move(*h);
  }

  // A caller with a fresh nonce, as a signed request would be.
  Caller as(const KeyPair& k) { return Caller{k.public_key(), "nonce-" + std::to_string(++nonces_)}; }

  void register_user(const KeyPair& k, const std::string& name) {
    auto a = house_->register_account(as(k), RegisterAccount{AccountKind::kUser, name, std::nullopt}, now_);
    ASSERT_TRUE(a) << a.error().to_string();
  }
  // A server account naming `owner`, with the owner's consent.
  static RegisterAccount server_account(const std::string& name, const KeyPair& owner, const KeyPair& server) {
    return RegisterAccount{AccountKind::kServer, name, owner.account_id(),
                           *sign_owner_consent(owner, server.account_id(), 1'700'000'000'000)};
  }
  void register_parties() {
    register_user(alice_, "alice");
    register_user(owner_, "owner");
    auto s = house_->register_account(as(srv_), server_account("srv", owner_, srv_), now_);
    ASSERT_TRUE(s) << s.error().to_string();
    auto d = house_->deposit(as(admin_), Deposit{alice_.account_id(), 100'000, "funds"}, now_);
    ASSERT_TRUE(d) << d.error().to_string();
  }

  static Rates rates() {
    Rates r;
    r.cpu_reserve_per_core_hour = 3'600'000;  // 1 micro per core-ms
    return r;
  }
  SignedDoc price_sheet() { return testing::signed_price_sheet(srv_, now_, rates()); }
  std::string create_po(int64_t max_amount, std::optional<int64_t> ttl_ms = std::nullopt) {
    auto po =
        house_->create_po(as(alice_), NewPurchaseOrder{srv_.account_id(), price_sheet(), max_amount, ttl_ms}, now_);
    EXPECT_TRUE(po) << po.error().to_string();
    return po ? po->body["po_id"].get<std::string>() : "";
  }
  // A record of `ms` from `start` reserving `cpu_millis`, priced by rates().
  static UsageRecord record(const std::string& po_id, int64_t seq, TimeMs start, int64_t cpu_millis, int64_t ms,
                            bool final = false) {
    UsageRecord r;
    r.session = "s" + std::string(32, 'a');
    r.po_id = po_id;
    r.seq = seq;
    r.period_start = start;
    r.period_end = start + ms;
    r.reserved.cpu_millis = cpu_millis;
    auto c = compute_charge(rates(), r.reserved, r.used, ms);
    EXPECT_TRUE(c);
    r.amount = c->total;
    r.final = final;
    return r;
  }
  SignedDoc batch(const std::vector<UsageRecord>& recs) {
    auto d = SignedDoc::sign(kUsageBatchType, to_json(UsageBatch{srv_.account_id(), now_, recs}), srv_);
    EXPECT_TRUE(d);
    return *d;
  }

  int64_t balance(const KeyPair& k) {
    auto s = house_->account(as(admin_), k.account_id(), now_);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? s->balance : -1;
  }
  int64_t held(const KeyPair& k) {
    auto s = house_->account(as(admin_), k.account_id(), now_);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? s->held : -1;
  }
  PoStatus status(const std::string& po_id) {
    auto po = house_->purchase_order(as(alice_), po_id, now_);
    EXPECT_TRUE(po) << po.error().to_string();
    return po ? po->status : PoStatus::kOpen;
  }
  void expect_balanced() {
    auto c = house_->check_ledger(now_);
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_TRUE(c->balanced) << ::testing::PrintToString(c->problems);
    EXPECT_EQ(c->total, 0);
    EXPECT_EQ(c->checked_at, now_);
  }

  TempDir dir_;
  KeyPair admin_ = KeyPair::generate();
  KeyPair alice_ = KeyPair::generate();
  KeyPair owner_ = KeyPair::generate();
  KeyPair srv_ = KeyPair::generate();
  std::unique_ptr<ClearingHouse> house_;
  TimeMs now_ = kT0;
  int nonces_ = 0;
};

TEST_F(ClearingHouseTest, AccountsAreRegisteredOnceWithAUserAsOwner) {
  auto a = house_->register_account(as(alice_), RegisterAccount{AccountKind::kUser, "alice", std::nullopt}, now_);
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->id, alice_.account_id());
  EXPECT_EQ(a->kind, AccountKind::kUser);
  EXPECT_EQ(a->public_key, alice_.public_key().base64());
  EXPECT_EQ(a->created_at, now_);
  auto again = house_->register_account(as(alice_), RegisterAccount{AccountKind::kUser, "alice", std::nullopt}, now_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);

  KeyPair srv2 = KeyPair::generate();
  auto unknown_owner = house_->register_account(
      as(srv_), RegisterAccount{AccountKind::kServer, "s", KeyPair::generate().account_id()}, now_);
  ASSERT_FALSE(unknown_owner);
  EXPECT_EQ(unknown_owner.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(house_->register_account(as(srv_), server_account("s", alice_, srv_), now_));
  auto server_owner =
      house_->register_account(as(srv2), RegisterAccount{AccountKind::kServer, "s2", srv_.account_id()}, now_);
  ASSERT_FALSE(server_owner);
  EXPECT_EQ(server_owner.error().code, ErrorCode::kInvalidArgument);

  // Server lookup is public and hides users.
  auto s = house_->server(srv_.account_id());
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->owner, alice_.account_id());
  auto user = house_->server(alice_.account_id());
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(house_->server("nope").error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ClearingHouseTest, OnlyTheAdminDepositsAndOnlyTheAllowedReadAccounts) {
  register_user(alice_, "alice");
  register_user(owner_, "bob");
  auto self = house_->deposit(as(alice_), Deposit{alice_.account_id(), 5, ""}, now_);
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().code, ErrorCode::kPermissionDenied);
  auto unknown = house_->deposit(as(admin_), Deposit{KeyPair::generate().account_id(), 5, ""}, now_);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto d = house_->deposit(as(admin_), Deposit{alice_.account_id(), 5'000, "hi"}, now_);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->balance, 5'000);
  EXPECT_EQ(d->transaction.substr(0, 2), "tx");

  auto mine = house_->account(as(alice_), alice_.account_id(), now_);
  ASSERT_TRUE(mine) << mine.error().to_string();
  EXPECT_EQ(mine->balance, 5'000);
  EXPECT_EQ(mine->held, 0);
  auto peek = house_->account(as(owner_), alice_.account_id(), now_);
  ASSERT_FALSE(peek);
  EXPECT_EQ(peek.error().code, ErrorCode::kPermissionDenied);
  expect_balanced();
}

TEST_F(ClearingHouseTest, AReplayedNonceChangesNothing) {
  register_user(alice_, "alice");
  const Caller c = as(admin_);
  ASSERT_TRUE(house_->deposit(c, Deposit{alice_.account_id(), 10, ""}, now_));
  auto again = house_->deposit(c, Deposit{alice_.account_id(), 10, ""}, now_ + 1);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(balance(alice_), 10);
  expect_balanced();
}

TEST_F(ClearingHouseTest, APurchaseOrderHoldsItsMaximumAndSettlesUsage) {
  register_parties();
  // Only users buy, only from registered servers, at prices the server signed.
  auto by_server =
      house_->create_po(as(srv_), NewPurchaseOrder{srv_.account_id(), price_sheet(), 1'000, std::nullopt}, now_);
  ASSERT_FALSE(by_server);
  EXPECT_EQ(by_server.error().code, ErrorCode::kPermissionDenied);
  auto too_much =
      house_->create_po(as(alice_), NewPurchaseOrder{srv_.account_id(), price_sheet(), 200'000, std::nullopt}, now_);
  ASSERT_FALSE(too_much);
  EXPECT_EQ(too_much.error().code, ErrorCode::kPaymentRequired);
  EXPECT_EQ(balance(alice_), 100'000);

  const std::string po = create_po(10'000);
  ASSERT_FALSE(po.empty());
  EXPECT_EQ(balance(alice_), 90'000);
  EXPECT_EQ(held(alice_), 10'000);
  EXPECT_EQ(status(po), PoStatus::kOpen);
  expect_balanced();

  now_ += 5'000;
  const auto r1 = record(po, 1, kT0 + 100, 1'000, 1'000);  // 1000 micros
  auto s1 = house_->settle_usage(as(srv_), batch({r1}), now_);
  ASSERT_TRUE(s1) << s1.error().to_string();
  ASSERT_EQ(s1->outcomes.size(), 1u);
  EXPECT_FALSE(s1->outcomes[0].duplicate);
  EXPECT_EQ(s1->outcomes[0].charged, 1'000);
  ASSERT_EQ(s1->purchase_orders.size(), 1u);
  EXPECT_EQ(s1->purchase_orders[0].remaining, 9'000);
  EXPECT_EQ(balance(owner_), 1'000);

  // The same record again is a duplicate, charged nothing.
  auto dup = house_->settle_usage(as(srv_), batch({r1}), now_);
  ASSERT_TRUE(dup) << dup.error().to_string();
  EXPECT_TRUE(dup->outcomes[0].duplicate);
  EXPECT_EQ(balance(owner_), 1'000);

  // A wrong amount refuses the record (named with its reason) and changes nothing.
  auto r2 = record(po, 2, r1.period_end, 1'000, 1'000);
  auto bad = r2;
  bad.amount = Money::micros(bad.amount.micros() + 1);
  auto refused = house_->settle_usage(as(srv_), batch({bad}), now_);
  ASSERT_TRUE(refused) << refused.error().to_string();
  ASSERT_EQ(refused->outcomes.size(), 1u);
  ASSERT_TRUE(refused->outcomes[0].refused);
  EXPECT_EQ(refused->outcomes[0].refused->code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused->outcomes[0].charged, 0);
  EXPECT_EQ(balance(owner_), 1'000);

  // Only the signing server may report, and only a server.
  auto foreign = house_->settle_usage(as(alice_), batch({r2}), now_);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::kPermissionDenied);

  // The final record releases the rest of the hold to the user and closes the PO.
  r2.final = true;
  auto s2 = house_->settle_usage(as(srv_), batch({r2}), now_);
  ASSERT_TRUE(s2) << s2.error().to_string();
  EXPECT_TRUE(s2->purchase_orders[0].closed);
  EXPECT_EQ(balance(owner_), 2'000);
  EXPECT_EQ(balance(alice_), 98'000);
  EXPECT_EQ(held(alice_), 0);
  EXPECT_EQ(status(po), PoStatus::kClosed);
  expect_balanced();
}

TEST_F(ClearingHouseTest, AClosedPurchaseOrderIsReleasedAfterItsServersCheckpoint) {
  register_parties();
  const std::string po = create_po(10'000);
  now_ += 10;
  auto other = house_->close_po(as(owner_), po, now_);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kPermissionDenied);
  ASSERT_TRUE(house_->close_po(as(alice_), po, now_));
  const TimeMs closed_at = now_;
  EXPECT_EQ(status(po), PoStatus::kClosing);
  auto twice = house_->close_po(as(alice_), po, now_);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);
  EXPECT_EQ(held(alice_), 10'000);  // not yet: the server may still deliver usage

  // A heartbeat dated within the grace does not release it; one past it does.
  now_ = closed_at + kGrace;
  ASSERT_TRUE(house_->settle_usage(as(srv_), batch({}), now_));
  EXPECT_EQ(status(po), PoStatus::kClosing);
  now_ = closed_at + kGrace + 1;
  ASSERT_TRUE(house_->settle_usage(as(srv_), batch({}), now_));
  auto released = house_->release_unclaimed_holds(now_);
  ASSERT_TRUE(released) << released.error().to_string();
  EXPECT_EQ(*released, 1u);
  EXPECT_EQ(status(po), PoStatus::kClosed);
  EXPECT_EQ(balance(alice_), 100'000);
  EXPECT_EQ(held(alice_), 0);
  auto again = house_->close_po(as(alice_), po, now_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  expect_balanced();
}

TEST_F(ClearingHouseTest, AnUnusedPurchaseOrderExpiresAfterTheBackstopAndTheStatementShowsIt) {
  register_parties();
  const std::string po = create_po(4'000, 5'000);
  const TimeMs expires_at = now_ + 5'000;
  // The server never reports: the hold stays until the backstop has passed.
  auto early = house_->release_unclaimed_holds(expires_at + kBackstop);
  ASSERT_TRUE(early) << early.error().to_string();
  EXPECT_EQ(*early, 0u);
  now_ = expires_at + kBackstop + 1;
  // Any read releases it first.
  EXPECT_EQ(held(alice_), 0);
  EXPECT_EQ(balance(alice_), 100'000);
  auto none = house_->release_unclaimed_holds(now_);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0u);

  auto st = house_->statement(as(alice_), alice_.account_id(), now_);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->balance, 100'000);
  EXPECT_EQ(st->held, 0);
  EXPECT_FALSE(st->earnings);
  ASSERT_EQ(st->purchase_orders.size(), 1u);
  EXPECT_EQ(st->purchase_orders[0].po.po_id, po);
  EXPECT_EQ(st->purchase_orders[0].po.status, PoStatus::kClosed);
  EXPECT_TRUE(st->purchase_orders[0].records.empty());
  ASSERT_EQ(st->transactions.size(), 3u);
  EXPECT_EQ(st->transactions[0].kind, TxKind::kDeposit);
  EXPECT_EQ(st->transactions[1].kind, TxKind::kHold);
  EXPECT_EQ(st->transactions[1].amount, -4'000);
  EXPECT_EQ(st->transactions[2].kind, TxKind::kExpire);
  EXPECT_EQ(st->transactions[2].amount, 4'000);

  // A statement is private, even from the admin; an owner's shows its earnings.
  auto admin = house_->statement(as(admin_), alice_.account_id(), now_);
  ASSERT_FALSE(admin);
  EXPECT_EQ(admin.error().code, ErrorCode::kPermissionDenied);
  auto owner = house_->statement(as(owner_), owner_.account_id(), now_);
  ASSERT_TRUE(owner) << owner.error().to_string();
  EXPECT_EQ(owner->earnings, 0);
  expect_balanced();
}

TEST_F(ClearingHouseTest, OpenRefusesOptionsOutOfRange) {
  CorpOptions o;
  EXPECT_EQ(ClearingHouse::open(o, KeyPair::generate()).error().code, ErrorCode::kInvalidArgument);
  o.db_path = dir_.file("other.db");
  o.unreported_po_backstop_ms = o.unused_po_grace_ms - 1;
  EXPECT_EQ(ClearingHouse::open(o, KeyPair::generate()).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ClearingHouseTest, EarningsArePerServerTodayAndInTotalAndPrivateToTheOwner) {
  register_parties();
  KeyPair idle = KeyPair::generate();  // a second server of owner_ that earns nothing
  ASSERT_TRUE(house_->register_account(as(idle), server_account("idle", owner_, idle), now_));
  const TimeMs day = utc_day_start(kT0);
  ASSERT_LE(day, kT0);
  ASSERT_GT(day + 86'400'000, kT0);

  // Yesterday: 1000 micros on one purchase order.
  const std::string po1 = create_po(10'000);
  now_ += 5'000;
  ASSERT_TRUE(house_->settle_usage(as(srv_), batch({record(po1, 1, kT0 + 100, 1'000, 1'000)}), now_));
  // Today (the next UTC day): 2000 micros on another.
  now_ = day + 86'400'000 + 1'000;
  const std::string po2 = create_po(10'000);
  now_ += 5'000;
  ASSERT_TRUE(house_->settle_usage(as(srv_), batch({record(po2, 1, now_ - 4'000, 1'000, 2'000)}), now_));

  auto mine = house_->earnings(as(owner_), owner_.account_id(), now_);
  ASSERT_TRUE(mine) << mine.error().to_string();
  EXPECT_EQ(mine->owner, owner_.account_id());
  EXPECT_EQ(mine->day_start, day + 86'400'000);
  EXPECT_EQ(mine->total, 3'000);
  EXPECT_EQ(mine->today, 2'000);
  ASSERT_EQ(mine->servers.size(), 2u);  // by name: "idle", "srv"
  EXPECT_EQ(mine->servers[0].server, idle.account_id());
  EXPECT_EQ(mine->servers[0].total, 0);
  EXPECT_EQ(mine->servers[1].server, srv_.account_id());
  EXPECT_EQ(mine->servers[1].total, 3'000);
  EXPECT_EQ(mine->servers[1].since, 2'000);
  EXPECT_EQ(mine->servers[1].settlements, 2);
  EXPECT_EQ(balance(owner_), 3'000) << "earnings are what the ledger credited";

  // The server itself and its owner see that server only; the admin may look too.
  for (const KeyPair* k : {&srv_, &owner_, &admin_}) {
    auto one = house_->earnings(as(*k), srv_.account_id(), now_);
    ASSERT_TRUE(one) << one.error().to_string();
    ASSERT_EQ(one->servers.size(), 1u);
    EXPECT_EQ(one->total, 3'000);
    EXPECT_EQ(one->today, 2'000);
  }
  // Strangers learn nothing, not even whether the account exists: the user alice_, another server
  // of the same owner, and anyone asking about an unknown id.
  const std::string unknown = KeyPair::generate().account_id();
  for (const auto& [who, id] : std::vector<std::pair<const KeyPair*, std::string>>{{&alice_, owner_.account_id()},
                                                                                   {&alice_, srv_.account_id()},
                                                                                   {&idle, srv_.account_id()},
                                                                                   {&srv_, owner_.account_id()},
                                                                                   {&alice_, unknown}}) {
    auto denied = house_->earnings(as(*who), id, now_);
    ASSERT_FALSE(denied) << id;
    EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied) << id;
  }
  auto none = house_->earnings(as(admin_), unknown, now_);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  expect_balanced();
}

TEST(CorpStates, EachHasOneStringForm) {
  for (PoStatus s : {PoStatus::kOpen, PoStatus::kClosing, PoStatus::kClosed}) {
    auto back = parse_po_status(to_string(s), "state");
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(parse_po_status("Open", "state"));
  for (AccountKind k : {AccountKind::kUser, AccountKind::kServer}) {
    auto back = parse_account_kind(to_string(k), "kind");
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, k);
  }
  EXPECT_FALSE(parse_account_kind("admin", "kind"));
  for (TxKind k : {TxKind::kDeposit, TxKind::kHold, TxKind::kSettlement, TxKind::kRelease, TxKind::kExpire}) {
    EXPECT_EQ(parse_tx_kind(to_string(k)), k);
  }
  EXPECT_FALSE(parse_tx_kind("refund"));
  EXPECT_STREQ(kExpireTxKind, "expire");
}

}  // namespace
}  // namespace xop::testing
