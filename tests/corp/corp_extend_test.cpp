// Credit control at the clearing house, driven directly (no HTTP, `now` passed in): extending an
// open purchase order, paying its arrears first, low-funds and closing flags in the settlement
// answer, and every refusal changing nothing. The ledger is checked after every step, and every
// amount is worked out by hand from rates() (1 micro per reserved core-millisecond).
#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "corp/clearing_house.h"
#include "corp/corp_store.h"
#include "proto/charge.h"
#include "proto/owner_consent.h"
#include "proto/price_sheet.h"
#include "proto/usage_record.h"
#include "support/builders.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

constexpr TimeMs kT0 = 1'700'000'000'000;

class CorpExtendTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    house_.reset();
    CorpOptions o;
    o.db_path = dir_.file("corp.db");
    o.admin_key = admin_.public_key();
    o.low_funds_intervals = 3;
    auto h = ClearingHouse::open(o, corp_key_);
    ASSERT_TRUE(h) << h.error().to_string();
    house_ = std::move(*h);
  }

  Caller as(const KeyPair& k) { return Caller{k.public_key(), "nonce-" + std::to_string(++nonces_)}; }

  void register_parties(int64_t funds = 100'000) {
    for (auto* k : {&alice_, &bob_, &owner_}) {
      auto a = house_->register_account(as(*k), RegisterAccount{AccountKind::kUser, "u", std::nullopt}, now_);
      ASSERT_TRUE(a) << a.error().to_string();
    }
    auto s = house_->register_account(as(srv_),
                                      RegisterAccount{AccountKind::kServer, "srv", owner_.account_id(),
                                                      *sign_owner_consent(owner_, srv_.account_id(), now_)},
                                      now_);
    ASSERT_TRUE(s) << s.error().to_string();
    auto d = house_->deposit(as(admin_), Deposit{alice_.account_id(), funds, "funds"}, now_);
    ASSERT_TRUE(d) << d.error().to_string();
  }
  static Rates rates() {
    Rates r;
    r.cpu_reserve_per_core_hour = 3'600'000;  // 1 micro per core-ms
    return r;
  }
  std::string create_po(int64_t max_amount) {
    auto po = house_->create_po(
        as(alice_),
        NewPurchaseOrder{srv_.account_id(), testing::signed_price_sheet(srv_, now_, rates()), max_amount, std::nullopt},
        now_);
    EXPECT_TRUE(po) << po.error().to_string();
    return po ? po->body["po_id"].get<std::string>() : "";
  }
  // Record `seq` of 1 s at 1000 cpu_millis: 1000 micros, following the previous one.
  UsageRecord next_record(const std::string& po_id, bool final = false) {
    UsageRecord r;
    r.session = "s" + std::string(32, 'a');
    r.po_id = po_id;
    r.seq = ++seq_;
    r.period_start = kT0 + 100 + (seq_ - 1) * 1000;
    r.period_end = r.period_start + 1000;
    r.reserved.cpu_millis = 1000;
    auto c = compute_charge(rates(), r.reserved, r.used, 1000);
    EXPECT_TRUE(c);
    r.amount = c->total;
    r.final = final;
    return r;
  }
  Result<UsageSettlement> settle(const UsageRecord& r) {
    now_ = std::max(now_, r.period_end);
    auto d = SignedDoc::sign(kUsageBatchType, to_json(UsageBatch{srv_.account_id(), now_, {r}}), srv_);
    EXPECT_TRUE(d);
    return house_->settle_usage(as(srv_), *d, now_);
  }
  int64_t balance(const KeyPair& k) {
    auto s = house_->account(as(admin_), k.account_id(), now_);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? s->balance : -1;
  }
  PoRow po(const std::string& id) {
    auto p = house_->purchase_order(as(alice_), id, now_);
    EXPECT_TRUE(p) << p.error().to_string();
    return p ? *p : PoRow{};
  }
  void expect_balanced() {
    auto c = house_->check_ledger(now_);
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_TRUE(c->balanced) << ::testing::PrintToString(c->problems);
    EXPECT_EQ(c->total, 0);
  }
  // Money is conserved: what alice was given is in her balance, the holds, or the owner's.
  void expect_conserved(int64_t funds, int64_t holds) { EXPECT_EQ(balance(alice_) + holds + balance(owner_), funds); }

  TempDir dir_;
  KeyPair corp_key_ = KeyPair::generate();
  KeyPair admin_ = KeyPair::generate();
  KeyPair alice_ = KeyPair::generate();
  KeyPair bob_ = KeyPair::generate();
  KeyPair owner_ = KeyPair::generate();
  KeyPair srv_ = KeyPair::generate();
  std::unique_ptr<ClearingHouse> house_;
  TimeMs now_ = kT0;
  int nonces_ = 0;
  int64_t seq_ = 0;
};

TEST_F(CorpExtendTest, LowFundsThenExhaustionThenAnExtensionPaysTheArrearsFirst) {
  register_parties();
  const std::string id = create_po(4'500);  // four and a half 1000-micro intervals
  ASSERT_FALSE(id.empty());
  expect_balanced();

  // 1: 3500 left >= 3 * 1000: not low.
  auto s1 = settle(next_record(id));
  ASSERT_TRUE(s1) << s1.error().to_string();
  EXPECT_EQ(s1->purchase_orders[0].remaining, 3'500);
  EXPECT_FALSE(low_funds(s1->purchase_orders[0], 3));
  EXPECT_FALSE(s1->purchase_orders[0].exhausted());
  expect_balanced();
  // 2: 2500 left < 3000: low funds, not exhausted.
  auto s2 = settle(next_record(id));
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->purchase_orders[0].remaining, 2'500);
  EXPECT_TRUE(low_funds(s2->purchase_orders[0], 3));
  EXPECT_FALSE(s2->purchase_orders[0].exhausted());
  EXPECT_TRUE(house_->purchase_order(as(alice_), id, now_)->last_amount == 1'000);
  // 3, 4: 1500 then 500 left, still running; 5: capped at 500 (500 arrears): exhausted, and no
  // longer "low" (it is out).
  ASSERT_TRUE(settle(next_record(id)));
  auto s4 = settle(next_record(id));
  ASSERT_TRUE(s4);
  EXPECT_EQ(s4->purchase_orders[0].remaining, 500);
  EXPECT_TRUE(low_funds(s4->purchase_orders[0], 3));
  auto s5 = settle(next_record(id));
  ASSERT_TRUE(s5);
  EXPECT_EQ(s5->outcomes[0].charged, 500);
  EXPECT_EQ(s5->purchase_orders[0].remaining, 0);
  EXPECT_TRUE(s5->purchase_orders[0].exhausted());
  EXPECT_FALSE(s5->purchase_orders[0].closing());
  EXPECT_FALSE(low_funds(s5->purchase_orders[0], 3));
  EXPECT_EQ(s5->purchase_orders[0].unpaid, 500);
  // 6, 7 while frozen: charged 0 each, the arrears grow to 2500.
  ASSERT_TRUE(settle(next_record(id)));
  auto s7 = settle(next_record(id));
  ASSERT_TRUE(s7);
  EXPECT_EQ(s7->outcomes[0].charged, 0);
  EXPECT_EQ(s7->purchase_orders[0].unpaid, 2'500);
  EXPECT_EQ(balance(owner_), 4'500);
  EXPECT_EQ(po(id).unpaid, 2'500);
  expect_balanced();
  expect_conserved(100'000, 0);

  // An extension of 2000 goes entirely to arrears: record 5 (500), 6 (1000), then 500 of 7.
  auto e1 = house_->extend_po(as(alice_), ExtendPo{id, 2'000}, now_);
  ASSERT_TRUE(e1) << e1.error().to_string();
  EXPECT_EQ(e1->arrears_paid, 2'000);
  EXPECT_EQ(e1->balance, 100'000 - 4'500 - 2'000);
  EXPECT_EQ(e1->po.max_amount, 6'500);
  EXPECT_EQ(e1->po.charged, 6'500);
  EXPECT_EQ(e1->po.remaining(), 0);
  EXPECT_EQ(e1->po.unpaid, 500);
  EXPECT_EQ(balance(owner_), 6'500);
  expect_balanced();
  expect_conserved(100'000, 0);
  // The records now show what they were finally charged, oldest first.
  auto st = house_->statement(as(alice_), alice_.account_id(), now_);
  ASSERT_TRUE(st);
  const auto& recs = st->purchase_orders.at(0).records;
  ASSERT_EQ(recs.size(), 7u);
  const std::vector<int64_t> charged_by_seq = {1'000, 1'000, 1'000, 1'000, 1'000, 1'000, 500};
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].charged, charged_by_seq[i]) << "seq " << i + 1;
  // The ledger shows the extension and the arrears settlements.
  int extends = 0;
  for (const auto& t : st->transactions) extends += t.kind == TxKind::kExtend ? 1 : 0;
  EXPECT_EQ(extends, 1);

  // 3000 more: 500 arrears, 2500 stay held; the PO is no longer exhausted (but low: 2500 < 3000).
  auto e2 = house_->extend_po(as(alice_), ExtendPo{id, 3'000}, now_);
  ASSERT_TRUE(e2) << e2.error().to_string();
  EXPECT_EQ(e2->arrears_paid, 500);
  EXPECT_EQ(e2->po.remaining(), 2'500);
  EXPECT_EQ(e2->po.unpaid, 0);
  expect_balanced();
  expect_conserved(100'000, 2'500);
  auto s8 = settle(next_record(id));
  ASSERT_TRUE(s8);
  EXPECT_EQ(s8->outcomes[0].charged, 1'000);
  EXPECT_FALSE(s8->purchase_orders[0].exhausted());
  EXPECT_TRUE(low_funds(s8->purchase_orders[0], 3));
  // The final record (1000) releases the other 500.
  auto s9 = settle(next_record(id, /*final=*/true));
  ASSERT_TRUE(s9);
  EXPECT_TRUE(s9->purchase_orders[0].closed);
  EXPECT_EQ(balance(owner_), 6'500 + 500 + 2'000);
  EXPECT_EQ(balance(alice_), 100'000 - 9'000);
  expect_balanced();
  expect_conserved(100'000, 0);

  // Closed now: 409, nothing moves.
  auto closed = house_->extend_po(as(alice_), ExtendPo{id, 1'000}, now_);
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code, ErrorCode::kConflict);
  EXPECT_EQ(balance(alice_), 100'000 - 9'000);
  expect_balanced();
}

TEST_F(CorpExtendTest, RefusalsChangeNothing) {
  register_parties(10'000);
  const std::string id = create_po(5'000);
  const auto before = po(id);
  auto expect_unchanged = [&] {
    const auto now = po(id);
    EXPECT_EQ(now.max_amount, before.max_amount);
    EXPECT_EQ(now.charged, before.charged);
    EXPECT_EQ(balance(alice_), 5'000);
    expect_balanced();
  };
  struct Case {
    const char* what;
    KeyPair* who;
    std::string po_id;
    int64_t amount;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"zero", &alice_, id, 0, ErrorCode::kInvalidArgument},
      {"negative", &alice_, id, -5, ErrorCode::kInvalidArgument},
      {"min", &alice_, id, std::numeric_limits<int64_t>::min(), ErrorCode::kInvalidArgument},
      {"above the balance", &alice_, id, 5'001, ErrorCode::kPaymentRequired},
      {"overflowing max_amount", &alice_, id, std::numeric_limits<int64_t>::max(), ErrorCode::kInvalidArgument},
      {"another user", &bob_, id, 100, ErrorCode::kPermissionDenied},
      {"the server", &srv_, id, 100, ErrorCode::kPermissionDenied},
      {"the admin", &admin_, id, 100, ErrorCode::kPermissionDenied},
      {"unknown PO", &alice_, "po" + std::string(32, 'f'), 100, ErrorCode::kNotFound},
  };
  for (const auto& c : cases) {
    auto r = house_->extend_po(as(*c.who), ExtendPo{c.po_id, c.amount}, now_);
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().code, c.code) << c.what << ": " << r.error().message;
    expect_unchanged();
  }
  // The whole available balance is fine.
  auto all = house_->extend_po(as(alice_), ExtendPo{id, 5'000}, now_);
  ASSERT_TRUE(all) << all.error().to_string();
  EXPECT_EQ(all->balance, 0);
  EXPECT_EQ(all->po.max_amount, 10'000);
  EXPECT_EQ(all->arrears_paid, 0);
  expect_balanced();
  // A replayed nonce is refused.
  const Caller once = as(alice_);
  ASSERT_TRUE(house_->deposit(as(admin_), Deposit{alice_.account_id(), 100, "more"}, now_));
  ASSERT_TRUE(house_->extend_po(once, ExtendPo{id, 50}, now_));
  auto again = house_->extend_po(once, ExtendPo{id, 50}, now_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(balance(alice_), 50);
  expect_balanced();
}

TEST_F(CorpExtendTest, AClosingPurchaseOrderIsNotExtendedAndIsFlaggedClosing) {
  register_parties();
  const std::string id = create_po(5'000);
  ASSERT_TRUE(settle(next_record(id)));
  ASSERT_TRUE(house_->close_po(as(alice_), id, now_));
  auto r = house_->extend_po(as(alice_), ExtendPo{id, 1'000}, now_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  auto s = settle(next_record(id));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->purchase_orders[0].exhausted());
  EXPECT_TRUE(s->purchase_orders[0].closing()) << "a closing PO's server stops the session, it does not freeze it";
  expect_balanced();
}

TEST_F(CorpExtendTest, ArrearsAndExtensionsSurviveAReopen) {
  register_parties();
  const std::string id = create_po(1'500);
  ASSERT_TRUE(settle(next_record(id)));
  ASSERT_TRUE(settle(next_record(id)));  // capped at 500: 500 arrears
  open();
  EXPECT_EQ(po(id).unpaid, 500);
  EXPECT_EQ(po(id).last_amount, 1'000);
  auto e = house_->extend_po(as(alice_), ExtendPo{id, 700}, now_);
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->arrears_paid, 500);
  EXPECT_EQ(e->po.remaining(), 200);
  open();
  EXPECT_EQ(po(id).max_amount, 2'200);
  EXPECT_EQ(po(id).unpaid, 0);
  expect_balanced();
}

TEST(LowFunds, IsJudgedByTheLastChargeWithoutOverflow) {
  EXPECT_FALSE(low_funds(0, 0, 3)) << "no record yet";
  EXPECT_TRUE(low_funds(2'999, 1'000, 3));
  EXPECT_FALSE(low_funds(3'000, 1'000, 3));
  EXPECT_FALSE(low_funds(5, 1'000, 0));
  EXPECT_TRUE(low_funds(std::numeric_limits<int64_t>::max() - 1, std::numeric_limits<int64_t>::max(), 1000));
  EXPECT_FALSE(low_funds(std::numeric_limits<int64_t>::max(), 1, 1000));
}

TEST(PlanArrears, PaysOldestFirstUntilTheAmountRunsOut) {
  const std::vector<ArrearsClaim> claims = {{4, 500}, {5, 1'000}, {6, 1'000}};
  auto p = plan_arrears(claims, 2'000);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].seq, 4);
  EXPECT_EQ(p[0].paid, 500);
  EXPECT_EQ(p[1].paid, 1'000);
  EXPECT_EQ(p[2].paid, 500);
  EXPECT_TRUE(plan_arrears(claims, 0).empty());
  EXPECT_EQ(plan_arrears(claims, 10'000).size(), 3u);
  EXPECT_TRUE(plan_arrears({}, 10).empty());
}

}  // namespace
}  // namespace xop::testing
