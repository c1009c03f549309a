// The pure ledger core (corp/ledger.h) with no I/O: what every money movement costs before
// storage. One "operation" is one ledger transaction validated and applied to the balances:
// opening a purchase order's hold (user -> hold), drawing it down for a usage record
// (hold -> owner), and releasing the rest (hold -> user), over a ledger of many accounts, in the
// proportions of a real session (one hold, `draws` settlements, one release). Issue 12's target:
// >= 1,000,000 operations a second on one core (counter ops_per_second).
//
//   scripts/bench ledger_bench
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "corp/ledger.h"

namespace xop {
namespace {

std::string account(int i) { return fmt::format("a{:040x}", i); }
std::string po(int i) { return fmt::format("po{:032x}", i); }

// Users and owners funded from deposits; `pos` purchase orders cycled through.
struct Ledger {
  std::map<std::string, int64_t> balances;
  std::vector<std::string> users;
  std::vector<std::string> owners;
  std::vector<std::string> holds;
  explicit Ledger(int n_users, int n_owners, int n_pos) {
    for (int i = 0; i < n_users; ++i) users.push_back(user_ledger_account(account(i)));
    for (int i = 0; i < n_owners; ++i) owners.push_back(user_ledger_account(account(1'000'000 + i)));
    for (int i = 0; i < n_pos; ++i) holds.push_back(hold_ledger_account(po(i)));
    for (const auto& u : users) {
      LedgerTransaction d{"tx", TxKind::kDeposit, "", "", 0, transfer(kExternalDeposits, u, int64_t{1} << 40)};
      if (!apply_transaction(d, balances)) std::abort();
    }
  }
};

void BM_LedgerSessionCycle(benchmark::State& state) {
  const int draws = static_cast<int>(state.range(0));
  const int n_users = static_cast<int>(state.range(1));
  Ledger l(n_users, n_users / 10 + 1, n_users);
  int64_t ops = 0;
  size_t i = 0;
  LedgerTransaction tx;
  tx.id = "tx00000000000000000000000000000000";
  for (auto _ : state) {
    const std::string& user = l.users[i % l.users.size()];
    const std::string& hold = l.holds[i % l.holds.size()];
    const std::string& owner = l.owners[i % l.owners.size()];
    ++i;
    const int64_t max = 1'000'000;
    tx.kind = TxKind::kHold;
    tx.entries = transfer(user, hold, max);
    if (!apply_transaction(tx, l.balances)) state.SkipWithError("hold refused");
    tx.kind = TxKind::kSettlement;
    for (int d = 0; d < draws; ++d) {
      tx.entries = transfer(hold, owner, 1'000);
      if (!apply_transaction(tx, l.balances)) state.SkipWithError("draw refused");
    }
    tx.kind = TxKind::kRelease;
    tx.entries = transfer(hold, user, max - 1'000 * draws);
    if (!apply_transaction(tx, l.balances)) state.SkipWithError("release refused");
    ops += 2 + draws;
  }
  state.counters["ops_per_second"] = benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate);
  state.counters["accounts"] = static_cast<double>(l.balances.size());
}
// draws per session, users (and as many POs; a tenth as many owners).
BENCHMARK(BM_LedgerSessionCycle)->Args({10, 1'000})->Args({10, 100'000})->Args({100, 100'000});

// validate_transaction alone (the shape check every movement gets), for the per-stage cost.
void BM_ValidateTransfer(benchmark::State& state) {
  LedgerTransaction tx{"tx", TxKind::kSettlement,
                       "",   "",
                       0,    transfer(hold_ledger_account(po(1)), user_ledger_account(account(2)), 1'000)};
  for (auto _ : state) {
    auto s = validate_transaction(tx);
    benchmark::DoNotOptimize(s);
  }
  state.counters["ops_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ValidateTransfer);

}  // namespace
}  // namespace xop
