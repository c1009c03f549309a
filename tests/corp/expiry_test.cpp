// Unit tests of the pure rule that expires purchase orders nobody used.
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

PoExpiryView unused(const std::string& id, int64_t hold = 500, TimeMs expires_at = kExpires) {
  return PoExpiryView{id, kUser, true, "", 0, expires_at, hold};
}

std::string po_id(char c) { return "po" + std::string(32, c); }

TEST(Expiry, ExpiresOnlyStrictlyAfterExpiryPlusGrace) {
  const auto po = unused(po_id('1'));
  EXPECT_FALSE(expired_unused(po, kExpires - 1, kGrace));
  EXPECT_FALSE(expired_unused(po, kExpires + 1, kGrace));  // inside the grace
  EXPECT_FALSE(expired_unused(po, kExpires + kGrace, kGrace));
  EXPECT_TRUE(expired_unused(po, kExpires + kGrace + 1, kGrace));
  EXPECT_FALSE(expired_unused(po, kExpires, 0));
  EXPECT_TRUE(expired_unused(po, kExpires + 1, 0));
}

TEST(Expiry, UsedOrClosedPurchaseOrdersNeverExpireThisWay) {
  const TimeMs late = kExpires + 100 * kGrace;
  auto closed = unused(po_id('1'));
  closed.open = false;
  EXPECT_FALSE(expired_unused(closed, late, kGrace));
  auto bound = unused(po_id('2'));
  bound.session = "s" + std::string(32, 'a');
  EXPECT_FALSE(expired_unused(bound, late, kGrace));
  auto recorded = unused(po_id('3'));
  recorded.last_seq = 1;
  EXPECT_FALSE(expired_unused(recorded, late, kGrace));
  EXPECT_FALSE(expired_unused(unused(po_id('4')), late, -1));  // a negative grace is refused, never "early"
}

TEST(Expiry, CutoffSaturatesInsteadOfOverflowing) {
  constexpr TimeMs kMin = std::numeric_limits<TimeMs>::min();
  constexpr TimeMs kMax = std::numeric_limits<TimeMs>::max();
  EXPECT_EQ(expiry_cutoff(kExpires, kGrace), kExpires - kGrace);
  EXPECT_EQ(expiry_cutoff(kMin + 5, kGrace), kMin);
  EXPECT_EQ(expiry_cutoff(kMax, 0), kMax);
  EXPECT_FALSE(expired_unused(unused(po_id('1'), 500, kMax), kMax, kGrace));
  EXPECT_FALSE(expired_unused(unused(po_id('1'), 500, kMin), kMin + 5, kGrace));
  EXPECT_TRUE(expired_unused(unused(po_id('1'), 500, kMin), kMax, kGrace));
}

TEST(Expiry, PlanReleasesEachWholeHoldToItsUserInOneBalancedTransaction) {
  const TimeMs now = kExpires + kGrace + 1;
  auto used = unused(po_id('2'), 700);
  used.last_seq = 3;
  used.session = "s" + std::string(32, 'b');
  auto later = unused(po_id('3'), 900, kExpires + 10);
  auto empty = unused(po_id('4'), 0);
  const auto plan = plan_expiry({unused(po_id('1'), 500), used, later, empty}, now, kGrace);
  ASSERT_EQ(plan.expired.size(), 2u);
  EXPECT_EQ(plan.expired[0].po_id, po_id('1'));
  EXPECT_EQ(plan.expired[1].po_id, po_id('4'));  // closes, but has nothing to move
  ASSERT_EQ(plan.transactions.size(), 1u);
  const auto& tx = plan.transactions[0];
  EXPECT_EQ(tx.kind, kExpireTxKind);
  EXPECT_EQ(tx.po_id, po_id('1'));
  ASSERT_TRUE(validate_transaction(tx)) << validate_transaction(tx).error().to_string();

  std::map<std::string, int64_t> balances{{hold_ledger_account(po_id('1')), 500}, {user_ledger_account(kUser), 42}};
  ASSERT_TRUE(apply_transaction(tx, balances));
  EXPECT_EQ(balances[hold_ledger_account(po_id('1'))], 0);
  EXPECT_EQ(balances[user_ledger_account(kUser)], 542);
}

TEST(Expiry, NothingExpiredPlansNothing) {
  const auto plan = plan_expiry({unused(po_id('1')), unused(po_id('2'))}, kExpires, kGrace);
  EXPECT_TRUE(plan.expired.empty());
  EXPECT_TRUE(plan.transactions.empty());
  EXPECT_TRUE(plan_expiry({}, kExpires + 10 * kGrace, kGrace).expired.empty());
}

TEST(Expiry, DefaultGraceIsAMinuteAndANegativeOneIsRefused) {
  EXPECT_EQ(CorpOptions{}.unused_po_grace_ms, 60'000);
  testing::TempDir dir;
  CorpOptions o;
  o.db_path = dir.file("corp.db");
  o.unused_po_grace_ms = -1;
  auto svc = CorpService::open(o, KeyPair::generate(), SystemClock::instance());
  ASSERT_FALSE(svc);
  EXPECT_EQ(svc.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace xop
