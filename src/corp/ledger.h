// The deterministic double-entry core of XenoCorp. A ledger transaction is a list of entries
// {ledger account, signed amount in micro-credits} that sums to exactly zero, so money is only
// ever moved, never created or destroyed. Ledger accounts:
//   "external:deposits"  where deposited money comes from (goes negative as money enters)
//   "external:payouts"   where paid-out money goes (only grows, never negative)
//   "user:<account id>"  the available balance of a registered account (never negative)
//   "hold:<po id>"       money held for a purchase order (never negative)
// Everything here is pure: no clock, no I/O. Storage applies a validated transaction's deltas
// in one SQLite transaction (ledger_store.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "corp/ledger_check.h"
#include "corp/tx_kind.h"

namespace xop {

inline constexpr const char* kExternalDeposits = "external:deposits";
inline constexpr const char* kExternalPayouts = "external:payouts";

std::string user_ledger_account(const std::string& account_id);
std::string hold_ledger_account(const std::string& po_id);
// True for the well-formed kinds above.
bool is_ledger_account(const std::string& name);
// Only external:deposits may go below zero.
bool may_go_negative(const std::string& name);

struct LedgerEntry {
  std::string account;
  int64_t amount = 0;  // positive = credit to `account`, negative = debit

  friend bool operator==(const LedgerEntry&, const LedgerEntry&) = default;
};

struct LedgerTransaction {
  std::string id;  // "tx" + 32 hex
  TxKind kind = TxKind::kDeposit;
  std::string po_id;  // empty when not about a purchase order
  std::string memo;
  TimeMs at = 0;
  std::vector<LedgerEntry> entries;
};

// A transfer of `amount` (> 0) from one ledger account to another, as two entries.
std::vector<LedgerEntry> transfer(const std::string& from, const std::string& to, int64_t amount);

// Checks the shape: at least two entries, every amount non-zero, every account well-formed and
// named once, and the entries sum to exactly zero (computed without overflow).
Status validate_transaction(const LedgerTransaction& tx);

// Applies a validated transaction to `balances` (missing accounts are zero). Fails, leaving
// `balances` untouched, when a balance would overflow (kInvalidArgument) or a user/hold account
// would go negative (kPaymentRequired).
Status apply_transaction(const LedgerTransaction& tx, std::map<std::string, int64_t>& balances);

struct StoredEntry {
  std::string tx_id;
  std::string account;
  int64_t amount = 0;
};

// Recomputes every balance from `entries` and compares with `stored_balances`: every
// transaction sums to zero, every stored balance equals the sum of its entries (and every
// account with entries has a stored balance), no user/hold account is negative, the whole
// ledger sums to zero. `transaction_ids` lists every transaction (so empty ones are reported).
LedgerCheck prove_ledger(const std::vector<std::string>& transaction_ids, const std::vector<StoredEntry>& entries,
                         const std::map<std::string, int64_t>& stored_balances);

// The figures of money conservation (LedgerCheck has their meaning). The journal figures sum
// the entries of deposit and payout transactions; the others the stored balances.
struct MoneyFigures {
  std::vector<StoredEntry> deposit_entries;  // the entries of every deposit transaction
  std::vector<StoredEntry> payout_entries;   // the entries of every payout transaction
  std::map<std::string, int64_t> stored_balances;
};

// Proves money in = money out + what is inside: the deposits' credits equal the payouts' credits
// to external:payouts plus every user: and hold: balance; also that external:deposits holds minus
// the deposits and external:payouts the payouts, and that no other account exists. Fills the
// four figures of `c` and appends a problem naming the figures for each equation that fails
// (computed without overflow); sets c.balanced from c.problems.
void prove_money_conservation(const MoneyFigures& f, LedgerCheck& c);

}  // namespace xop
