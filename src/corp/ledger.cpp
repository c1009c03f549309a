#include "corp/ledger.h"

#include <set>

#include "crypto/keys.h"
#include "proto/purchase_order.h"

namespace xop {
namespace {

__extension__ using i128 = __int128;
__extension__ using u128 = unsigned __int128;

constexpr std::string_view kUserPrefix = "user:";
constexpr std::string_view kHoldPrefix = "hold:";

std::string i128_to_string(i128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  u128 u = neg ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
  std::string s;
  while (u > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}

bool fits_i64(i128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

}  // namespace

std::string user_ledger_account(const std::string& account_id) { return std::string(kUserPrefix) + account_id; }
std::string hold_ledger_account(const std::string& po_id) { return std::string(kHoldPrefix) + po_id; }

bool is_ledger_account(const std::string& name) {
  if (name == kExternalDeposits || name == kExternalPayouts) return true;
  std::string_view v(name);
  if (v.starts_with(kUserPrefix)) return is_account_id(v.substr(kUserPrefix.size()));
  if (v.starts_with(kHoldPrefix)) return is_po_id(v.substr(kHoldPrefix.size()));
  return false;
}

bool may_go_negative(const std::string& name) { return name == kExternalDeposits; }

std::vector<LedgerEntry> transfer(const std::string& from, const std::string& to, int64_t amount) {
  return {LedgerEntry{from, -amount}, LedgerEntry{to, amount}};
}

Status validate_transaction(const LedgerTransaction& tx) {
  if (tx.entries.size() < 2) return invalid("ledger transaction needs at least two entries");
  std::set<std::string> seen;
  i128 sum = 0;
  for (const auto& e : tx.entries) {
    if (!is_ledger_account(e.account)) return invalid("ledger transaction names a malformed account: " + e.account);
    if (!seen.insert(e.account).second) return invalid("ledger transaction names an account twice: " + e.account);
    if (e.amount == 0) return invalid("ledger transaction has a zero entry for " + e.account);
    if (e.amount == INT64_MIN) return invalid("ledger entry amount out of range");
    sum += e.amount;
  }
  if (sum != 0) return invalid("ledger transaction does not balance: entries sum to " + i128_to_string(sum));
  return {};
}

Status apply_transaction(const LedgerTransaction& tx, std::map<std::string, int64_t>& balances) {
  XOP_RETURN_IF_ERROR(validate_transaction(tx));
  std::vector<std::pair<std::string, int64_t>> updated;
  updated.reserve(tx.entries.size());
  for (const auto& e : tx.entries) {
    auto it = balances.find(e.account);
    const int64_t old = it == balances.end() ? 0 : it->second;
    const i128 next = static_cast<i128>(old) + e.amount;
    if (!fits_i64(next)) return invalid("balance of " + e.account + " would overflow");
    if (next < 0 && !may_go_negative(e.account)) {
      return make_error(ErrorCode::kPaymentRequired, "insufficient funds in " + e.account + ": balance " +
                                                         std::to_string(old) + ", debit " + std::to_string(-e.amount));
    }
    updated.emplace_back(e.account, static_cast<int64_t>(next));
  }
  for (auto& [account, value] : updated) balances[account] = value;
  return {};
}

LedgerCheck prove_ledger(const std::vector<std::string>& transaction_ids, const std::vector<StoredEntry>& entries,
                         const std::map<std::string, int64_t>& stored_balances) {
  LedgerCheck c;
  c.transactions = static_cast<int64_t>(transaction_ids.size());
  c.entries = static_cast<int64_t>(entries.size());

  std::map<std::string, i128> tx_sums;
  std::map<std::string, int64_t> tx_counts;
  for (const auto& id : transaction_ids) tx_sums[id] = 0;
  std::map<std::string, i128> derived;
  i128 total = 0;
  for (const auto& e : entries) {
    auto it = tx_sums.find(e.tx_id);
    if (it == tx_sums.end()) {
      c.problems.push_back("entry for " + e.account + " belongs to unknown transaction " + e.tx_id);
      tx_sums[e.tx_id] = e.amount;
    } else {
      it->second += e.amount;
    }
    ++tx_counts[e.tx_id];
    derived[e.account] += e.amount;
    total += e.amount;
  }
  for (const auto& [id, sum] : tx_sums) {
    if (sum != 0) c.problems.push_back("transaction " + id + " does not balance: sums to " + i128_to_string(sum));
    if (tx_counts[id] < 2) c.problems.push_back("transaction " + id + " has fewer than two entries");
  }
  for (const auto& [account, value] : derived) {
    auto it = stored_balances.find(account);
    if (it == stored_balances.end()) {
      c.problems.push_back("account " + account + " has entries but no stored balance (entries sum to " +
                           i128_to_string(value) + ")");
    } else if (static_cast<i128>(it->second) != value) {
      c.problems.push_back("account " + account + ": stored balance " + std::to_string(it->second) +
                           " but entries sum to " + i128_to_string(value));
    }
    if (value < 0 && !may_go_negative(account)) {
      c.problems.push_back("account " + account + " is negative: " + i128_to_string(value));
    }
  }
  i128 stored_total = 0;
  for (const auto& [account, value] : stored_balances) {
    stored_total += value;
    if (!derived.contains(account) && value != 0) {
      c.problems.push_back("account " + account + ": stored balance " + std::to_string(value) +
                           " but it has no entries");
    }
    if (value < 0 && !may_go_negative(account) && !derived.contains(account)) {
      c.problems.push_back("account " + account + " is negative: " + std::to_string(value));
    }
  }
  if (total != 0) c.problems.push_back("ledger entries sum to " + i128_to_string(total) + ", not 0");
  if (stored_total != 0) c.problems.push_back("stored balances sum to " + i128_to_string(stored_total) + ", not 0");
  c.total = fits_i64(stored_total) ? static_cast<int64_t>(stored_total) : (stored_total > 0 ? INT64_MAX : INT64_MIN);
  c.balanced = c.problems.empty();
  return c;
}

namespace {
int64_t clamp_i64(i128 v) {
  if (fits_i64(v)) return static_cast<int64_t>(v);
  return v > 0 ? INT64_MAX : INT64_MIN;
}
}  // namespace

void prove_money_conservation(const MoneyFigures& f, LedgerCheck& c) {
  i128 deposited = 0;
  for (const auto& e : f.deposit_entries) {
    if (e.account != kExternalDeposits) deposited += e.amount;
  }
  i128 paid_out = 0;
  for (const auto& e : f.payout_entries) {
    if (e.account == kExternalPayouts) paid_out += e.amount;
  }
  i128 available = 0;
  i128 held = 0;
  i128 deposits_account = 0;
  i128 payouts_account = 0;
  for (const auto& [account, value] : f.stored_balances) {
    const std::string_view a(account);
    if (a.starts_with(kUserPrefix)) {
      available += value;
    } else if (a.starts_with(kHoldPrefix)) {
      held += value;
    } else if (account == kExternalDeposits) {
      deposits_account = value;
    } else if (account == kExternalPayouts) {
      payouts_account = value;
    } else if (value != 0) {
      c.problems.push_back("account " + account + " holds " + std::to_string(value) +
                           " outside money in, money out, balances and holds");
    }
  }
  c.deposited = clamp_i64(deposited);
  c.paid_out = clamp_i64(paid_out);
  c.available = clamp_i64(available);
  c.held = clamp_i64(held);
  const i128 inside = paid_out + available + held;
  if (deposited != inside) {
    const i128 diff = inside - deposited;
    c.problems.push_back("money in " + i128_to_string(deposited) + " (deposits) != money out " +
                         i128_to_string(paid_out) + " (payouts) + balances " + i128_to_string(available) + " + holds " +
                         i128_to_string(held) + " = " + i128_to_string(inside) + ": " +
                         i128_to_string(diff < 0 ? -diff : diff) + (diff > 0 ? " created" : " missing"));
  }
  if (deposits_account != -deposited) {
    c.problems.push_back(std::string(kExternalDeposits) + " holds " + i128_to_string(deposits_account) +
                         " but deposits credited " + i128_to_string(deposited));
  }
  if (payouts_account != paid_out) {
    c.problems.push_back(std::string(kExternalPayouts) + " holds " + i128_to_string(payouts_account) +
                         " but payouts paid out " + i128_to_string(paid_out));
  }
  c.balanced = c.problems.empty();
}

}  // namespace xop
