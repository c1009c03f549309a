// Unit tests of the deterministic double-entry core.
#include "corp/ledger.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"

namespace xop {
namespace {

const std::string kAlice = user_ledger_account(KeyPair::generate().account_id());
const std::string kBob = user_ledger_account(KeyPair::generate().account_id());
const std::string kHold = hold_ledger_account("po" + std::string(32, 'a'));

LedgerTransaction tx(std::vector<LedgerEntry> e) {
  LedgerTransaction t;
  t.kind = TxKind::kDeposit;
  t.entries = std::move(e);
  return t;
}

TEST(Ledger, AccountNames) {
  EXPECT_TRUE(is_ledger_account(kExternalDeposits));
  EXPECT_TRUE(is_ledger_account(kAlice));
  EXPECT_TRUE(is_ledger_account(kHold));
  EXPECT_FALSE(is_ledger_account("user:"));
  EXPECT_FALSE(is_ledger_account("user:nobody"));
  EXPECT_FALSE(is_ledger_account("hold:po123"));
  EXPECT_FALSE(is_ledger_account("external:other"));
  EXPECT_FALSE(is_ledger_account(""));
  EXPECT_TRUE(may_go_negative(kExternalDeposits));
  EXPECT_FALSE(may_go_negative(kAlice));
  EXPECT_FALSE(may_go_negative(kHold));
}

TEST(Ledger, TransferIsBalanced) {
  auto e = transfer(kAlice, kBob, 7);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], (LedgerEntry{kAlice, -7}));
  EXPECT_EQ(e[1], (LedgerEntry{kBob, 7}));
  EXPECT_TRUE(validate_transaction(tx(e)));
}

TEST(Ledger, ValidateRefusesBadShapes) {
  EXPECT_FALSE(validate_transaction(tx({})));
  EXPECT_FALSE(validate_transaction(tx({{kAlice, 0}})));
  EXPECT_FALSE(validate_transaction(tx({{kAlice, -1}, {kBob, 2}})));         // does not sum to zero
  EXPECT_FALSE(validate_transaction(tx({{kAlice, 0}, {kBob, 0}})));          // zero entries
  EXPECT_FALSE(validate_transaction(tx({{kAlice, -1}, {kAlice, 1}})));       // same account twice
  EXPECT_FALSE(validate_transaction(tx({{"user:x", -1}, {kBob, 1}})));       // malformed account
  EXPECT_FALSE(validate_transaction(tx({{kAlice, INT64_MIN}, {kBob, 1}})));  // out of range
  // Sums that would overflow int64 are computed exactly, not wrapped.
  EXPECT_FALSE(validate_transaction(tx({{kAlice, INT64_MAX}, {kBob, INT64_MAX}, {kHold, 2}})));
  EXPECT_TRUE(validate_transaction(tx({{kAlice, INT64_MAX}, {kBob, -INT64_MAX}})));
  EXPECT_TRUE(validate_transaction(tx({{kAlice, -3}, {kBob, 1}, {kHold, 2}})));
}

TEST(Ledger, ApplyMovesMoneyAndRefusesOverdraft) {
  std::map<std::string, int64_t> b;
  ASSERT_TRUE(apply_transaction(tx(transfer(kExternalDeposits, kAlice, 100)), b));
  EXPECT_EQ(b[kExternalDeposits], -100);
  EXPECT_EQ(b[kAlice], 100);
  ASSERT_TRUE(apply_transaction(tx(transfer(kAlice, kHold, 60)), b));
  auto over = apply_transaction(tx(transfer(kAlice, kHold, 41)), b);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kPaymentRequired);
  EXPECT_EQ(b[kAlice], 40);  // untouched by the failed apply
  EXPECT_EQ(b[kHold], 60);
  ASSERT_TRUE(apply_transaction(tx(transfer(kAlice, kHold, 40)), b));
  EXPECT_EQ(b[kAlice], 0);
}

TEST(Ledger, ApplyRefusesOverflow) {
  std::map<std::string, int64_t> b{{kAlice, INT64_MAX - 1}, {kExternalDeposits, -(INT64_MAX - 1)}};
  auto r = apply_transaction(tx(transfer(kExternalDeposits, kAlice, 2)), b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(b[kAlice], INT64_MAX - 1);
  // The external account cannot wrap below INT64_MIN either.
  std::map<std::string, int64_t> c{{kExternalDeposits, INT64_MIN + 1}};
  EXPECT_FALSE(apply_transaction(tx(transfer(kExternalDeposits, kBob, 2)), c));
  EXPECT_EQ(c[kExternalDeposits], INT64_MIN + 1);
}

TEST(Ledger, ProveBalancedLedger) {
  std::vector<StoredEntry> e{
      {"t1", kExternalDeposits, -100}, {"t1", kAlice, 100}, {"t2", kAlice, -30}, {"t2", kHold, 30}};
  std::map<std::string, int64_t> b{{kExternalDeposits, -100}, {kAlice, 70}, {kHold, 30}};
  LedgerCheck c = prove_ledger({"t1", "t2"}, e, b);
  EXPECT_TRUE(c.balanced);
  EXPECT_EQ(c.transactions, 2);
  EXPECT_EQ(c.entries, 4);
  EXPECT_EQ(c.total, 0);
  EXPECT_TRUE(c.problems.empty());
}

TEST(Ledger, ProveFindsEveryKindOfProblem) {
  std::vector<StoredEntry> e{
      {"t1", kExternalDeposits, -100}, {"t1", kAlice, 100}, {"t2", kAlice, -30}, {"t2", kHold, 30}};
  std::map<std::string, int64_t> good{{kExternalDeposits, -100}, {kAlice, 70}, {kHold, 30}};
  {  // a stored balance that differs from its entries
    auto b = good;
    b[kAlice] = 71;
    LedgerCheck c = prove_ledger({"t1", "t2"}, e, b);
    EXPECT_FALSE(c.balanced);
    EXPECT_EQ(c.total, 1);
    ASSERT_FALSE(c.problems.empty());
    EXPECT_NE(c.problems[0].find(kAlice), std::string::npos);
  }
  {  // an unbalanced transaction
    auto e2 = e;
    e2[3].amount = 31;
    auto b = good;
    b[kHold] = 31;
    LedgerCheck c = prove_ledger({"t1", "t2"}, e2, b);
    EXPECT_FALSE(c.balanced);
  }
  {  // a stored balance with no entries, a missing balance row, an empty transaction
    auto b = good;
    b[kBob] = 5;
    b.erase(kHold);
    LedgerCheck c = prove_ledger({"t1", "t2", "t3"}, e, b);
    EXPECT_FALSE(c.balanced);
    EXPECT_GE(c.problems.size(), 3u);
  }
  {  // a negative user account that the entries agree with
    std::vector<StoredEntry> neg{{"t1", kAlice, -5}, {"t1", kBob, 5}};
    LedgerCheck c = prove_ledger({"t1"}, neg, {{kAlice, -5}, {kBob, 5}});
    EXPECT_FALSE(c.balanced);
    EXPECT_EQ(c.total, 0);
  }
  {  // an entry of a transaction that does not exist
    auto e2 = e;
    e2.push_back({"ghost", kBob, 0});
    LedgerCheck c = prove_ledger({"t1", "t2"}, e2, good);
    EXPECT_FALSE(c.balanced);
  }
}

}  // namespace
}  // namespace xop
