// The result of proving XenoCorp's ledger (CorpStore::check, prove_ledger in ledger.h): every
// transaction sums to zero, every stored balance equals the sum of its entries, no user or hold
// account is negative, the whole ledger sums to zero, and every purchase order agrees with its
// hold. A plain value: no clock, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"

namespace xop {

struct LedgerCheck {
  bool balanced = false;
  TimeMs checked_at = 0;  // the corp's time when the check ran
  int64_t transactions = 0;
  int64_t entries = 0;
  int64_t total = 0;  // sum over all accounts: 0 when balanced
  // Money in and out, from the journal (the entries of deposit and payout transactions), and
  // where the rest is, from the stored balances. Balanced: deposited = paid_out + available + held.
  int64_t deposited = 0;  // credited to accounts by deposits
  int64_t paid_out = 0;   // credited to external:payouts by payouts
  int64_t available = 0;  // sum of the user: balances
  int64_t held = 0;       // sum of the hold: balances
  std::vector<std::string> problems;
};

}  // namespace xop
