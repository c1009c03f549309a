// Unit tests of the pure settlement planner.
#include "corp/settlement.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "proto/charge.h"

namespace xop {
namespace {

const std::string kServer = KeyPair::generate().account_id();
const std::string kOwner = KeyPair::generate().account_id();
const std::string kUser = KeyPair::generate().account_id();
const std::string kPo = "po" + std::string(32, '1');
const std::string kSession = "s" + std::string(32, 'c');

Rates rates() {
  Rates r;
  r.cpu_reserve_per_core_hour = 3'600'000;
  return r;
}

PoState po(int64_t max = 1000) {
  PoState s;
  s.po_id = kPo;
  s.user = kUser;
  s.server = kServer;
  s.owner = kOwner;
  s.rates = rates();
  s.max_amount = max;
  s.remaining = max;
  return s;
}

UsageRecord rec(int64_t seq, int64_t ms, bool final = false) {
  UsageRecord r;
  r.session = kSession;
  r.po_id = kPo;
  r.seq = seq;
  r.period_start = 1000 * seq;
  r.period_end = r.period_start + ms;
  r.reserved.cpu_millis = 1000;
  r.amount = compute_charge(rates(), r.reserved, r.used, ms)->total;  // = ms micro-credits
  r.final = final;
  return r;
}

const StoredRecordLookup kNone = [](const std::string&, int64_t) { return std::optional<UsageRecord>(); };

// The corp's clock when the batch arrives: after every period the tests use.
const UsageClaimLimits kLimits{/*now=*/1'000'000, /*clock_skew_ms=*/0};

Result<SettlementPlan> raw_plan(std::vector<UsageRecord> recs, PoState s = po(),
                                const StoredRecordLookup& lookup = kNone, const UsageClaimLimits& limits = kLimits) {
  return plan_settlement(kServer, recs, {{s.po_id, s}}, lookup, limits);
}

// The plan, or its first refused record's error: the rule tests ask which rule refused (and with
// what code); the per-record semantics are tested on raw_plan().
Result<SettlementPlan> plan(std::vector<UsageRecord> recs, PoState s = po(), const StoredRecordLookup& lookup = kNone,
                            const UsageClaimLimits& limits = kLimits) {
  auto p = raw_plan(std::move(recs), std::move(s), lookup, limits);
  if (!p) return p;
  for (const auto& o : p->outcomes) {
    if (o.refused) return tl::make_unexpected(*o.refused);
  }
  return p;
}

TEST(Settlement, ChargesEachNewRecordAsOneTransfer) {
  auto p = plan({rec(1, 100), rec(2, 200)});
  ASSERT_TRUE(p) << p.error().to_string();
  ASSERT_EQ(p->outcomes.size(), 2u);
  EXPECT_EQ(p->outcomes[0].charged, 100);
  EXPECT_EQ(p->outcomes[1].charged, 200);
  ASSERT_EQ(p->transactions.size(), 2u);
  EXPECT_EQ(p->transactions[0].kind, TxKind::kSettlement);
  EXPECT_EQ(p->transactions[0].entries, transfer(hold_ledger_account(kPo), user_ledger_account(kOwner), 100));
  ASSERT_EQ(p->purchase_orders.size(), 1u);
  EXPECT_EQ(p->purchase_orders[0].remaining, 700);
  EXPECT_EQ(p->purchase_orders[0].charged, 300);
  EXPECT_EQ(p->purchase_orders[0].last_seq, 2);
  EXPECT_EQ(p->purchase_orders[0].session, kSession);
  EXPECT_FALSE(p->purchase_orders[0].exhausted());
}

TEST(Settlement, CapsAtRemainingAndReportsExhaustion) {
  auto p = plan({rec(1, 700), rec(2, 700), rec(3, 5)});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->outcomes[0].charged, 700);
  EXPECT_EQ(p->outcomes[1].charged, 300);
  EXPECT_EQ(p->outcomes[2].charged, 0);
  EXPECT_EQ(p->transactions.size(), 2u);  // no zero transfers
  EXPECT_EQ(p->purchase_orders[0].remaining, 0);
  EXPECT_TRUE(p->purchase_orders[0].exhausted());
}

TEST(Settlement, FinalReleasesTheRestAndCloses) {
  auto p = plan({rec(1, 100), rec(2, 50, true)});
  ASSERT_TRUE(p);
  ASSERT_EQ(p->transactions.size(), 3u);
  EXPECT_EQ(p->transactions[2].kind, TxKind::kRelease);
  EXPECT_EQ(p->transactions[2].entries, transfer(hold_ledger_account(kPo), user_ledger_account(kUser), 850));
  const auto& s = p->purchase_orders[0];
  EXPECT_TRUE(s.closed);
  EXPECT_TRUE(s.final_seen);
  EXPECT_EQ(s.released, 850);
  EXPECT_EQ(s.remaining, 0);
  EXPECT_EQ(s.charged + s.released, s.max_amount);
  auto after = plan({rec(3, 1)}, s);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::kConflict);
}

TEST(Settlement, DuplicatesAreNotChargedAgain) {
  auto first = plan({rec(1, 100), rec(2, 100)});
  ASSERT_TRUE(first);
  auto stored = [](const std::string&, int64_t seq) { return std::optional<UsageRecord>(rec(seq, 100)); };
  auto again = plan({rec(1, 100), rec(2, 100), rec(3, 100)}, first->purchase_orders[0], stored);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_TRUE(again->outcomes[0].duplicate);
  EXPECT_TRUE(again->outcomes[1].duplicate);
  EXPECT_FALSE(again->outcomes[2].duplicate);
  EXPECT_EQ(again->outcomes[2].charged, 100);
  EXPECT_EQ(again->transactions.size(), 1u);
  // A duplicate inside one batch.
  auto inner = plan({rec(1, 100), rec(1, 100)});
  ASSERT_TRUE(inner);
  EXPECT_TRUE(inner->outcomes[1].duplicate);
  EXPECT_EQ(inner->transactions.size(), 1u);
  // A "duplicate" with different contents is a conflict.
  auto diff = plan({rec(1, 100), rec(1, 101)});
  ASSERT_FALSE(diff);
  EXPECT_EQ(diff.error().code, ErrorCode::kConflict);
}

TEST(Settlement, EachRuleRefusesTheRecordWithItsCode) {
  auto wrong_amount = rec(2, 100);
  wrong_amount.amount = Money::micros(101);
  auto r = plan({rec(1, 100), wrong_amount});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find(kSession), std::string::npos);
  EXPECT_NE(r.error().message.find("seq 2"), std::string::npos);

  auto gap = plan({rec(1, 100), rec(3, 100)});
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code, ErrorCode::kConflict);

  auto other_session = rec(2, 100);
  other_session.session = "s" + std::string(32, 'd');
  auto os = plan({rec(1, 100), other_session});
  ASSERT_FALSE(os);
  EXPECT_EQ(os.error().code, ErrorCode::kConflict);

  auto unknown = rec(1, 100);
  unknown.po_id = "po" + std::string(32, '2');
  auto u = plan({unknown});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, ErrorCode::kNotFound);

  auto foreign = po();
  foreign.server = KeyPair::generate().account_id();
  auto f = plan({rec(1, 100)}, foreign);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kPermissionDenied);
}

TEST(Settlement, ClosedPoAcceptsButChargesNothing) {
  auto s = po();
  s.closed = true;
  s.released = s.remaining;
  s.remaining = 0;
  auto p = plan({rec(1, 100), rec(2, 100, true)}, s);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->outcomes[0].charged, 0);
  EXPECT_EQ(p->outcomes[1].charged, 0);
  EXPECT_TRUE(p->transactions.empty());
  EXPECT_TRUE(p->purchase_orders[0].exhausted());
  EXPECT_TRUE(p->purchase_orders[0].final_seen);
}

// The time and physics rules (issue 14, attack 5): each refusal refuses the whole batch.
void expect_refused(const Result<SettlementPlan>& p, const std::string& why) {
  ASSERT_FALSE(p) << why;
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(p.error().message.find(why), std::string::npos) << p.error().message;
}

TEST(SettlementTime, RecordDatedBeforeThePurchaseOrderIsRefused) {
  PoState s = po();
  s.issued_at = 1000;
  ASSERT_TRUE(plan({rec(1, 100)}, s));  // starts exactly at issuance
  s.issued_at = 1001;
  expect_refused(plan({rec(1, 100)}, s), "before purchase order");
  // The clock skew tolerance allows a server clock slightly behind the corp's.
  EXPECT_TRUE(plan({rec(1, 100)}, s, kNone, UsageClaimLimits{1'000'000, 1}));
  expect_refused(plan({rec(1, 100)}, s, kNone, UsageClaimLimits{1'000'000, 0}), "before purchase order");
}

TEST(SettlementTime, FuturePeriodIsRefused) {
  // rec(2, 100) ends at 2100.
  EXPECT_TRUE(plan({rec(1, 100), rec(2, 100)}, po(), kNone, UsageClaimLimits{2100, 0}));
  expect_refused(plan({rec(1, 100), rec(2, 100)}, po(), kNone, UsageClaimLimits{2099, 0}), "in the future");
  EXPECT_TRUE(plan({rec(1, 100), rec(2, 100)}, po(), kNone, UsageClaimLimits{2099, 1}));
}

TEST(SettlementTime, OverlappingPeriodsAreRefusedWithinABatchAndAcrossBatches) {
  UsageRecord r2 = rec(2, 100);
  r2.period_start = 1099;  // the first ends at 1100
  r2.amount = compute_charge(rates(), r2.reserved, r2.used, r2.period_end - r2.period_start)->total;
  expect_refused(plan({rec(1, 100), r2}), "overlapping the previous record");
  r2.period_start = 1100;  // chained exactly
  r2.amount = compute_charge(rates(), r2.reserved, r2.used, r2.period_end - r2.period_start)->total;
  EXPECT_TRUE(plan({rec(1, 100), r2}));

  // Across batches the previous record's end comes from the stored state.
  auto first = plan({rec(1, 100)});
  ASSERT_TRUE(first);
  PoState after = first->purchase_orders[0];
  EXPECT_EQ(after.last_period_end, 1100);
  UsageRecord back = rec(2, 100);
  back.period_start = 1050;
  back.amount = compute_charge(rates(), back.reserved, back.used, back.period_end - back.period_start)->total;
  expect_refused(plan({back}, after), "overlapping the previous record");
  EXPECT_TRUE(plan({rec(2, 100)}, after));  // a gap (1100 .. 2000) is allowed
}

UsageRecord with_cpu(int64_t seq, int64_t ms, int64_t cpu_millis, int64_t cpu_ns) {
  UsageRecord r = rec(seq, ms);
  r.reserved.cpu_millis = cpu_millis;
  r.used.cpu_ns = cpu_ns;
  r.amount = compute_charge(rates(), r.reserved, r.used, ms)->total;
  return r;
}

TEST(SettlementTime, CpuBeyondTheReservationIsRefused) {
  // 500 milli-cores over 1000 ms: 500 ms of CPU, plus two CFS periods (200 ms) of the quota.
  const int64_t limit_ns = 500 * (1000 + kCfsToleranceMs) * 1000;
  EXPECT_TRUE(plan({with_cpu(1, 1000, 500, limit_ns)}));
  expect_refused(plan({with_cpu(1, 1000, 500, limit_ns + 1)}), "ns of CPU, more than 500 cpu_millis");
  // A whole core for a 1000 ms period at 500 milli-cores: refused.
  expect_refused(plan({with_cpu(1, 1000, 500, 1'000'000'000)}), "ns of CPU");
  // The kernel's minimum quota (1 ms per 100 ms period = 10 milli-cores) bounds tiny reservations.
  EXPECT_TRUE(plan({with_cpu(1, 1000, 1, 10 * (1000 + kCfsToleranceMs) * 1000)}));
  expect_refused(plan({with_cpu(1, 1000, 1, 10 * (1000 + kCfsToleranceMs) * 1000 + 1)}), "ns of CPU");
  // Huge claims do not overflow the bound.
  expect_refused(plan({with_cpu(1, 1000, 1, kMaxUsage)}), "ns of CPU");
}

TEST(SettlementTime, MemoryBeyondTheReservationIsRefused) {
  UsageRecord r = rec(1, 1000);
  r.reserved.memory_bytes = 16 << 20;
  const int64_t limit = (int64_t{16 << 20} + (1 << 20)) * (1000 + kCfsToleranceMs) / 1000;  // byte-seconds
  r.used.memory_byte_seconds = limit;
  r.amount = compute_charge(rates(), r.reserved, r.used, 1000)->total;
  EXPECT_TRUE(plan({r}));
  r.used.memory_byte_seconds = limit + 1;
  r.amount = compute_charge(rates(), r.reserved, r.used, 1000)->total;
  expect_refused(plan({r}), "memory byte-seconds");
}

TEST(SettlementTime, ARefusalInALaterRecordNamesItsSeq) {
  auto p = plan({rec(1, 100), with_cpu(2, 100, 1000, 10'000'000'000)});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("seq 2"), std::string::npos) << p.error().message;
}

// One bad record never blocks the rest of a batch: it is refused alone (not charged, no state
// change), the other POs' records settle, and its own PO's later records find the chain broken.
TEST(Settlement, ABadRecordIsRefusedAloneAndTheBatchsOtherRecordsSettle) {
  PoState a = po();
  PoState b = po();
  b.po_id = "po" + std::string(32, '7');
  auto on_b = [&](int64_t seq, int64_t ms) {
    UsageRecord r = rec(seq, ms);
    r.po_id = b.po_id;
    r.session = "s" + std::string(32, 'b');
    return r;
  };
  UsageRecord bad = on_b(1, 100);
  bad.amount = Money::micros(101);  // not what the price sheet gives
  UsageRecord unknown = rec(1, 100);
  unknown.po_id = "po" + std::string(32, '2');
  auto p = plan_settlement(kServer, {rec(1, 100), bad, unknown, on_b(2, 100), rec(2, 50)}, {{a.po_id, a}, {b.po_id, b}},
                           kNone, kLimits);
  ASSERT_TRUE(p) << p.error().to_string();
  ASSERT_EQ(p->outcomes.size(), 5u);
  EXPECT_FALSE(p->outcomes[0].refused);
  EXPECT_EQ(p->outcomes[0].charged, 100);
  ASSERT_TRUE(p->outcomes[1].refused);
  EXPECT_EQ(p->outcomes[1].refused->code, ErrorCode::kInvalidArgument);
  EXPECT_NE(p->outcomes[1].refused->message.find("seq 1"), std::string::npos) << p->outcomes[1].refused->message;
  EXPECT_EQ(p->outcomes[1].charged, 0);
  ASSERT_TRUE(p->outcomes[2].refused);
  EXPECT_EQ(p->outcomes[2].refused->code, ErrorCode::kNotFound);
  ASSERT_TRUE(p->outcomes[3].refused) << "b's chain is broken at its first record";
  EXPECT_EQ(p->outcomes[3].refused->code, ErrorCode::kConflict);
  EXPECT_NE(p->outcomes[3].refused->message.find("seq gap"), std::string::npos);
  EXPECT_FALSE(p->outcomes[4].refused);
  EXPECT_EQ(p->outcomes[4].charged, 50);
  // Only a's two records move money; b is untouched.
  ASSERT_EQ(p->transactions.size(), 2u);
  for (const auto& tx : p->transactions) EXPECT_EQ(tx.po_id, a.po_id);
  ASSERT_EQ(p->purchase_orders.size(), 2u);
  EXPECT_EQ(p->purchase_orders[0].last_seq, 2);
  EXPECT_EQ(p->purchase_orders[0].charged, 150);
  EXPECT_EQ(p->purchase_orders[1].last_seq, 0);
  EXPECT_EQ(p->purchase_orders[1].charged, 0);
  EXPECT_EQ(p->purchase_orders[1].remaining, b.remaining);
  EXPECT_TRUE(p->purchase_orders[1].session.empty()) << "a refused record binds no session";
}

}  // namespace
}  // namespace xop
