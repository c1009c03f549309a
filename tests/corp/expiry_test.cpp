// Unit tests of the pure rule that releases the holds of purchase orders no usage can claim.
#include "corp/expiry.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>

#include "corp/corp_service.h"
#include "crypto/keys.h"
#include "support/test_support.h"

namespace xop {
namespace {

const std::string kUser = KeyPair::generate().account_id();
constexpr TimeMs kExpires = 1'700'000'000'000;
constexpr int64_t kGrace = 60'000;
constexpr int64_t kBackstop = 3'600'000;

// An unused PO whose server has checked in (reported_through) at `through`.
PoExpiryView unused(const std::string& id, int64_t hold = 500, TimeMs expires_at = kExpires, TimeMs through = 0) {
  return PoExpiryView{id, kUser, true, "", 0, expires_at, hold, 0, through};
}

std::string po_id(char c) { return "po" + std::string(32, c); }

// The server checked in when the corp's clock says `now`.
bool due_with_checkin(PoExpiryView po, TimeMs now, int64_t grace = kGrace) {
  po.reported_through = now;
  return release_due(po, now, grace, kBackstop);
}

TEST(Expiry, ExpiresOnlyStrictlyAfterExpiryPlusGraceOnceTheServerCheckedIn) {
  const auto po = unused(po_id('1'));
  EXPECT_FALSE(due_with_checkin(po, kExpires - 1));
  EXPECT_FALSE(due_with_checkin(po, kExpires + 1));  // inside the grace
  EXPECT_FALSE(due_with_checkin(po, kExpires + kGrace));
  EXPECT_TRUE(due_with_checkin(po, kExpires + kGrace + 1));
  EXPECT_FALSE(due_with_checkin(po, kExpires, 0));
  EXPECT_TRUE(due_with_checkin(po, kExpires + 1, 0));
}

// Issue 14, attack 6: a corp outage (or partition) longer than the grace left real work unpaid,
// because the hold was released on the clock alone while the server's records could not arrive.
TEST(Expiry, WithoutACheckpointPastTheGraceTheHoldStaysUntilTheBackstop) {
  auto po = unused(po_id('1'));
  const TimeMs late = kExpires + 10 * kGrace;
  EXPECT_FALSE(release_due(po, late, kGrace, kBackstop));  // server silent: nothing released
  po.reported_through = kExpires + kGrace;                 // checked in, but not past the grace
  EXPECT_FALSE(release_due(po, late, kGrace, kBackstop));
  po.reported_through = kExpires + kGrace + 1;
  EXPECT_TRUE(release_due(po, late, kGrace, kBackstop));
  // A checkpoint later than the corp's clock counts only up to the clock.
  po.reported_through = kExpires + 100 * kGrace;
  EXPECT_FALSE(release_due(po, kExpires + kGrace, kGrace, kBackstop));
  // The backstop: a server silent that long forfeits its claims.
  po.reported_through = 0;
  EXPECT_FALSE(release_due(po, kExpires + kBackstop, kGrace, kBackstop));
  EXPECT_TRUE(release_due(po, kExpires + kBackstop + 1, kGrace, kBackstop));
}

TEST(Expiry, AClosingPurchaseOrderIsReleasedFromItsCloseTime) {
  auto po = unused(po_id('1'));
  po.session = "s" + std::string(32, 'a');
  po.last_seq = 4;  // in use: no release time of its own
  EXPECT_EQ(release_time(po), 0);
  EXPECT_FALSE(due_with_checkin(po, kExpires + kBackstop * 2));
  const TimeMs closed_at = kExpires - 5'000;
  po.close_requested_at = closed_at;
  EXPECT_EQ(release_time(po), closed_at);
  EXPECT_FALSE(due_with_checkin(po, closed_at + kGrace));  // usage may still be on its way
  EXPECT_TRUE(due_with_checkin(po, closed_at + kGrace + 1));
  EXPECT_FALSE(release_due(po, closed_at + kBackstop, kGrace, kBackstop));
  EXPECT_TRUE(release_due(po, closed_at + kBackstop + 1, kGrace, kBackstop));
  // An unused PO closed after its expiry is released from its expiry.
  auto idle = unused(po_id('2'));
  idle.close_requested_at = kExpires + 50;
  EXPECT_EQ(release_time(idle), kExpires);
}

TEST(Expiry, ClosedPurchaseOrdersAndBadArgumentsNeverRelease) {
  const TimeMs late = kExpires + 100 * kGrace;
  auto closed = unused(po_id('1'));
  closed.open = false;
  EXPECT_FALSE(due_with_checkin(closed, late));
  auto bound = unused(po_id('2'));
  bound.session = "s" + std::string(32, 'a');
  EXPECT_FALSE(due_with_checkin(bound, late));
  auto recorded = unused(po_id('3'));
  recorded.last_seq = 1;
  EXPECT_FALSE(due_with_checkin(recorded, late));
  EXPECT_FALSE(due_with_checkin(unused(po_id('4')), late, -1));  // a negative grace is refused, never "early"
  EXPECT_FALSE(release_due(unused(po_id('4'), 500, kExpires, late), late, kGrace, -1));
}

TEST(Expiry, CutoffSaturatesInsteadOfOverflowing) {
  constexpr TimeMs kMin = std::numeric_limits<TimeMs>::min();
  constexpr TimeMs kMax = std::numeric_limits<TimeMs>::max();
  EXPECT_EQ(expiry_cutoff(kExpires, kGrace), kExpires - kGrace);
  EXPECT_EQ(expiry_cutoff(kMin + 5, kGrace), kMin);
  EXPECT_EQ(expiry_cutoff(kMax, 0), kMax);
  EXPECT_FALSE(due_with_checkin(unused(po_id('1'), 500, kMax), kMax));
  EXPECT_FALSE(due_with_checkin(unused(po_id('1'), 500, kMin + 1), kMin + 5));
  EXPECT_TRUE(due_with_checkin(unused(po_id('1'), 500, kMin + 1), kMax));
}

TEST(Expiry, PlanReleasesEachWholeHoldToItsUserInOneBalancedTransaction) {
  const TimeMs now = kExpires + kGrace + 1;
  auto used = unused(po_id('2'), 700, kExpires, now);
  used.last_seq = 3;
  used.session = "s" + std::string(32, 'b');
  auto later = unused(po_id('3'), 900, kExpires + 10, now);
  auto empty = unused(po_id('4'), 0, kExpires, now);
  const auto plan = plan_expiry({unused(po_id('1'), 500, kExpires, now), used, later, empty}, now, kGrace, kBackstop);
  ASSERT_EQ(plan.expired.size(), 2u);
  EXPECT_EQ(plan.expired[0].po_id, po_id('1'));
  EXPECT_EQ(plan.expired[1].po_id, po_id('4'));  // closes, but has nothing to move
  ASSERT_EQ(plan.transactions.size(), 1u);
  const auto& tx = plan.transactions[0];
  EXPECT_EQ(tx.kind, TxKind::kExpire);
  EXPECT_EQ(tx.po_id, po_id('1'));
  ASSERT_TRUE(validate_transaction(tx)) << validate_transaction(tx).error().to_string();

  std::map<std::string, int64_t> balances{{hold_ledger_account(po_id('1')), 500}, {user_ledger_account(kUser), 42}};
  ASSERT_TRUE(apply_transaction(tx, balances));
  EXPECT_EQ(balances[hold_ledger_account(po_id('1'))], 0);
  EXPECT_EQ(balances[user_ledger_account(kUser)], 542);
}

TEST(Expiry, NothingDuePlansNothing) {
  const auto plan = plan_expiry({unused(po_id('1')), unused(po_id('2'))}, kExpires, kGrace, kBackstop);
  EXPECT_TRUE(plan.expired.empty());
  EXPECT_TRUE(plan.transactions.empty());
  EXPECT_TRUE(plan_expiry({}, kExpires + 10 * kGrace, kGrace, kBackstop).expired.empty());
}

TEST(Expiry, DefaultGraceIsAMinuteAndBadOptionsAreRefused) {
  EXPECT_EQ(CorpOptions{}.unused_po_grace_ms, 60'000);
  EXPECT_EQ(CorpOptions{}.unreported_po_backstop_ms, 24LL * 3'600'000);
  testing::TempDir dir;
  CorpOptions o;
  o.db_path = dir.file("corp.db");
  o.unused_po_grace_ms = -1;
  auto svc = CorpService::open(o, KeyPair::generate(), SystemClock::instance());
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().code, ErrorCode::kInvalidArgument);
  o.unused_po_grace_ms = 10'000;
  o.unreported_po_backstop_ms = 9'999;
  ASSERT_FALSE(CorpService::open(o, KeyPair::generate(), SystemClock::instance()));
}

}  // namespace
}  // namespace xop
