// The corp store contract (corp/corp_store.h), through CorpStore's public methods only: a write
// committed in a SqliteTxn is durable; under every injected fault each write of money is all or
// nothing, and the ledger balances (CorpStore::check) in the process and after reopening. Over
// every backend (SQLite today; another backend is one more entry in backends()).
#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "contract/store_contract.h"
#include "corp/corp_store.h"
#include "support/fault_vfs.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::FaultVfs;
using testing::TempDir;

struct CorpStoreBackend {
  std::string name;
  std::function<Result<CorpStore>(const std::string& dir)> open;
  bool injects_faults;  // through FaultVfs
};

const std::vector<CorpStoreBackend>& backends() {
  static const std::vector<CorpStoreBackend> all = {
      {"sqlite", [](const std::string& dir) { return CorpStore::open(dir + "/corp.db"); }, true},
  };
  return all;
}

const std::string kAlice = "a" + std::string(39, '0') + "1";
const std::string kServer = "a" + std::string(39, '0') + "2";
const std::string kPo = "po" + std::string(31, '0') + "1";
const std::string kSession = "s" + std::string(31, '0') + "1";

// The PO's settlement fields after `charged` and `released` (the ledger check ties them to the hold).
PoState po_state(int64_t charged, int64_t released, int64_t last_seq) {
  PoState p;
  p.po_id = kPo;
  p.user = kAlice;
  p.server = kServer;
  p.max_amount = 3000;
  p.charged = charged;
  p.released = released;
  p.remaining = 3000 - charged - released;
  p.closed = released > 0;
  p.session = last_seq > 0 ? kSession : "";
  p.last_seq = last_seq;
  p.issued_at = 2000;
  return p;
}

// Runs `body` in one transaction, committing when it succeeds.
Status in_txn(CorpStore& s, const std::function<Status()>& body) {
  SqliteTxn txn(s.db());
  XOP_RETURN_IF_ERROR(txn.begin());
  XOP_RETURN_IF_ERROR(body());
  return txn.commit();
}

Status post(CorpStore& s, TxKind kind, const std::string& from, const std::string& to, int64_t amount,
            const std::string& po = "") {
  LedgerTransaction tx;
  tx.kind = kind;
  tx.po_id = po;
  tx.memo = to_string(kind);
  tx.entries = transfer(from, to, amount);
  XOP_ASSIGN_OR_RETURN(auto id, s.post(std::move(tx), 5000));
  (void)id;
  return ok_status();
}

// Accounts, a deposit, and an open PO with its hold.
Status build_books(CorpStore& s) {
  return in_txn(s, [&]() -> Status {
    XOP_RETURN_IF_ERROR(s.insert_account(AccountRow{kAlice, AccountKind::kUser, "alice", std::nullopt, "a2V5", 1000}));
    XOP_RETURN_IF_ERROR(s.insert_account(AccountRow{kServer, AccountKind::kServer, "srv", kAlice, "c2Vy", 1000}));
    XOP_RETURN_IF_ERROR(post(s, TxKind::kDeposit, kExternalDeposits, user_ledger_account(kAlice), 10'000));
    PoRow po;
    po.po_id = kPo;
    po.user = kAlice;
    po.server = kServer;
    po.max_amount = 3000;
    po.status = PoStatus::kOpen;
    po.issued_at = 2000;
    po.expires_at = 90'000;
    po.rates_json = "{}";
    po.document = "{}";
    XOP_RETURN_IF_ERROR(s.insert_po(po));
    return post(s, TxKind::kHold, user_ledger_account(kAlice), hold_ledger_account(kPo), 3000, kPo);
  });
}

// The books, canonically (no transaction ids or check times: they differ between runs); fails
// when the ledger does not balance.
Result<std::string> describe(CorpStore& s) {
  XOP_ASSIGN_OR_RETURN(LedgerCheck check, s.check());
  if (!check.balanced || check.total != 0) {
    std::string why;
    for (const auto& p : check.problems) why += p + "; ";
    return make_error(ErrorCode::kInternal, "the ledger does not balance: " + why);
  }
  std::string out =
      "transactions=" + std::to_string(check.transactions) + " entries=" + std::to_string(check.entries) + "\n";
  for (const auto& acct : {std::string(kExternalDeposits), user_ledger_account(kAlice), user_ledger_account(kServer),
                           hold_ledger_account(kPo)}) {
    XOP_ASSIGN_OR_RETURN(int64_t b, s.balance(acct));
    out += acct + "=" + std::to_string(b) + "\n";
    XOP_ASSIGN_OR_RETURN(auto txs, s.transactions_of(acct));
    for (const auto& t : txs)
      out += std::string("  ") + to_string(t.kind) + " " + std::to_string(t.amount) + " " + t.memo + "\n";
  }
  XOP_ASSIGN_OR_RETURN(auto pos, s.pos_of(kAlice));
  for (const auto& p : pos) {
    out += p.po_id + " " + to_string(p.status) + " charged=" + std::to_string(p.charged) +
           " released=" + std::to_string(p.released) + " last_seq=" + std::to_string(p.last_seq) + "\n";
  }
  XOP_ASSIGN_OR_RETURN(auto recs, s.records_of(kPo));
  for (const auto& r : recs)
    out += "  record " + std::to_string(r.record.seq) + " charged=" + std::to_string(r.charged) + "\n";
  return out;
}

UsageRecord record(int64_t seq) {
  UsageRecord r;
  r.session = kSession;
  r.po_id = kPo;
  r.seq = seq;
  r.period_start = 1000 * seq;
  r.period_end = 1000 * seq + 1000;
  r.amount = Money::micros(400);
  return r;
}

class CorpStoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    for (const auto& b : backends()) {
      if (b.name == GetParam()) backend_ = &b;
    }
    ASSERT_NE(backend_, nullptr);
  }
  const CorpStoreBackend* backend_ = nullptr;
  TempDir t_;
};

TEST_P(CorpStoreContractTest, CommittedBooksAreThereAfterReopenAndRolledBackOnesAreNot) {
  std::string want;
  {
    auto s = backend_->open(t_.path());
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_TRUE(build_books(*s));
    want = describe(*s).value();
    // A transaction that is not committed (its caller failed half-way) leaves nothing.
    {
      SqliteTxn txn(s->db());
      ASSERT_TRUE(txn.begin());
      ASSERT_TRUE(post(*s, TxKind::kDeposit, kExternalDeposits, user_ledger_account(kAlice), 777));
      ASSERT_TRUE(s->insert_record(record(1), 400, 6000));
    }
    EXPECT_EQ(describe(*s).value(), want);
    // Money is never created: an overdraft is refused and changes nothing.
    EXPECT_FALSE(in_txn(*s, [&] {
      return post(*s, TxKind::kHold, user_ledger_account(kAlice),
                  hold_ledger_account("po" + std::string(31, '0') + "2"), 1 << 30);
    }));
    EXPECT_EQ(describe(*s).value(), want);
  }
  auto s = backend_->open(t_.path());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(describe(*s).value(), want);
  EXPECT_EQ(s->balance(user_ledger_account(kAlice)).value(), 7000);
  EXPECT_EQ(s->balance(hold_ledger_account(kPo)).value(), 3000);
}

TEST_P(CorpStoreContractTest, TheLedgerBalancesAfterEveryInjectedFault) {
  if (!backend_->injects_faults) GTEST_SKIP() << backend_->name << " has no fault injector";
  FaultVfs vfs(t_.path());
  const testing::NamedWrites<CorpStore> writes = {
      {"deposit",
       [](CorpStore& s) {
         return in_txn(s, [&]() -> Status {
           XOP_RETURN_IF_ERROR(s.consume_nonce("nonce-1", 6000, 0));
           return post(s, TxKind::kDeposit, kExternalDeposits, user_ledger_account(kAlice), 500);
         });
       }},
      {"settlement",
       [](CorpStore& s) {
         return in_txn(s, [&]() -> Status {
           XOP_RETURN_IF_ERROR(s.insert_record(record(1), 400, 6000));
           XOP_RETURN_IF_ERROR(s.update_po(po_state(400, 0, 1)));
           return post(s, TxKind::kSettlement, hold_ledger_account(kPo), user_ledger_account(kServer), 400, kPo);
         });
       }},
      {"release",
       [](CorpStore& s) {
         return in_txn(s, [&]() -> Status {
           XOP_RETURN_IF_ERROR(s.update_po(po_state(0, 3000, 0)));
           return post(s, TxKind::kRelease, hold_ledger_account(kPo), user_ledger_account(kAlice), 3000, kPo);
         });
       }},
  };
  const testing::StoreSteps<CorpStore> steps = {
      [this](const std::string& dir) -> Result<std::unique_ptr<CorpStore>> {
        XOP_ASSIGN_OR_RETURN(auto s, backend_->open(dir));
        return std::make_unique<CorpStore>(std::move(s));
      },
      [](CorpStore& s) { return build_books(s); },
      [](CorpStore& s) { return describe(s); },
  };
  testing::run_writes_under_faults(steps, writes, vfs, t_.path(), "corp store", 4);
}

INSTANTIATE_TEST_SUITE_P(Backends, CorpStoreContractTest, ::testing::Values("sqlite"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace xop
