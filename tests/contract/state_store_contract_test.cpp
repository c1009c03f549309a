// The server's state store contract (server/state_store.h): sessions and the usage WAL are durable
// once a call returned success; a refused write changes nothing; under every injected fault a
// write is all or nothing, in the process and after reopening from disk. Over every backend.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "contract/store_contract.h"
#include "server/state_store.h"
#include "support/fault_vfs.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::FaultVfs;
using testing::TempDir;

// A backend: opens the store kept in `dir`. Another backend (PostgreSQL) is one more entry.
struct StateStoreBackend {
  std::string name;
  std::function<Result<std::unique_ptr<StateStore>>(const std::string& dir)> open;
  bool injects_faults;  // through FaultVfs
};

const std::vector<StateStoreBackend>& backends() {
  static const std::vector<StateStoreBackend> all = {
      {"sqlite", [](const std::string& dir) { return StateStore::open(dir + "/state.db"); }, true},
  };
  return all;
}

// Well-formed ids: "s" / "po" + 32 hex digits ending in `n`.
std::string sid(int n) { return "s" + std::string(31, '0') + std::to_string(n); }
std::string poid(int n) { return "po" + std::string(31, '0') + std::to_string(n); }

SessionRow session_row(const std::string& id, const std::string& po) {
  SessionRow s;
  s.id = id;
  s.user = "u-alice";
  s.po_id = po;
  s.spec = Json{{"image", "sha256:abc"}};
  s.purchase_order = Json{{"po_id", po}};
  s.state = "running";
  s.created_at = 1000;
  s.started_at = 1001;
  return s;
}

UsageRecord record(const std::string& session, int64_t seq) {
  UsageRecord r;
  r.session = session;
  r.po_id = poid(1);
  r.seq = seq;
  r.period_start = seq * 1000;
  r.period_end = seq * 1000 + 1000;
  r.used.cpu_ns = seq * 7;
  r.amount = Money::micros(seq * 11);
  return r;
}

// Everything the store holds, canonically.
Result<std::string> describe(StateStore& s) {
  std::string out;
  XOP_ASSIGN_OR_RETURN(auto sessions, s.sessions());
  XOP_ASSIGN_OR_RETURN(auto unacked, s.unacked_records(100000));
  std::set<std::pair<std::string, int64_t>> open;
  for (const auto& r : unacked) open.insert({r.session, r.seq});
  for (const auto& row : sessions) {
    out += row.id + " " + row.po_id + " " + row.state + " seq=" + std::to_string(row.last_seq) +
           " end=" + std::to_string(row.last_period_end) +
           " exit=" + (row.exit_code ? std::to_string(*row.exit_code) : "-") + " reason=" + row.exit_reason +
           " totals=" + row.totals.dump() + "\n";
    XOP_ASSIGN_OR_RETURN(auto recs, s.records(row.id));
    if (static_cast<int64_t>(recs.size()) != row.last_seq) {
      return make_error(ErrorCode::kInternal, "session " + row.id + ": last_seq " + std::to_string(row.last_seq) +
                                                  " but " + std::to_string(recs.size()) + " records");
    }
    for (const auto& r : recs) {
      out += "  #" + std::to_string(r.seq) + (open.contains({r.session, r.seq}) ? " unacked " : " acked ") +
             to_json(r).dump() + "\n";
    }
  }
  return out;
}

class StateStoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    for (const auto& b : backends()) {
      if (b.name == GetParam()) backend_ = &b;
    }
    ASSERT_NE(backend_, nullptr);
  }
  std::unique_ptr<StateStore> open(const std::string& dir) {
    auto s = backend_->open(dir);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  const StateStoreBackend* backend_ = nullptr;
  TempDir t_;
};

TEST_P(StateStoreContractTest, WhatReturnedSuccessIsThereAfterReopen) {
  std::string want;
  {
    auto s = open(t_.path());
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->insert_session(session_row(sid(1), poid(1))));
    ASSERT_TRUE(s->insert_session(session_row(sid(2), poid(2))));
    for (int64_t seq = 1; seq <= 3; ++seq) ASSERT_TRUE(s->append_record(record(sid(1), seq)));
    ASSERT_TRUE(s->ack_records({{sid(1), 1}, {sid(1), 2}}));
    SessionRow row = session_row(sid(2), poid(2));
    row.state = "stopped";
    row.exit_code = 137;
    row.exit_reason = "oom-killed";
    ASSERT_TRUE(s->update_session(row));
    want = describe(*s).value();
  }
  auto s = open(t_.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(describe(*s).value(), want);
  EXPECT_EQ(s->session(sid(2)).value()->exit_reason, "oom-killed");
  ASSERT_EQ(s->unacked_records(10)->size(), 1u);
  EXPECT_EQ(s->unacked_records(10)->front(), record(sid(1), 3));
}

TEST_P(StateStoreContractTest, RefusedWritesChangeNothing) {
  auto s = open(t_.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->insert_session(session_row(sid(1), poid(1))));
  ASSERT_TRUE(s->append_record(record(sid(1), 1)));
  const std::string before = describe(*s).value();
  EXPECT_EQ(s->insert_session(session_row(sid(9), poid(1))).error().code, ErrorCode::kConflict);  // PO reused
  EXPECT_EQ(s->insert_session(session_row(sid(1), poid(7))).error().code, ErrorCode::kConflict);  // id reused
  EXPECT_EQ(s->append_record(record(sid(1), 3)).error().code, ErrorCode::kConflict);              // a gap
  EXPECT_FALSE(s->append_record(record(sid(1), 1)));                                              // a duplicate
  EXPECT_FALSE(s->append_record(record(sid(8), 1)));                                              // no session
  EXPECT_EQ(describe(*s).value(), before);
  s.reset();
  s = open(t_.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(describe(*s).value(), before);
}

// One write of the usage WAL (record 2 of a session, with its last_seq) under every fault.
TEST_P(StateStoreContractTest, EveryWriteIsAllOrNothingUnderEveryFault) {
  if (!backend_->injects_faults) GTEST_SKIP() << backend_->name << " has no fault injector";
  FaultVfs vfs(t_.path());
  const testing::NamedWrites<StateStore> writes = {
      {"append_record", [](StateStore& s) { return s.append_record(record(sid(1), 3)); }},
      {"ack_records",
       [](StateStore& s) {
         return s.ack_records({{sid(1), 1}, {sid(1), 2}});
       }},
      {"insert_session", [](StateStore& s) { return s.insert_session(session_row(sid(2), poid(2))); }},
      {"update_session",
       [](StateStore& s) {
         SessionRow row = session_row(sid(1), poid(1));
         row.last_seq = 2;
         row.last_period_end = 3000;
         row.state = "stopped";
         row.exit_code = 0;
         row.exit_reason = "exited";
         return s.update_session(row);
       }},
  };
  const testing::StoreSteps<StateStore> steps = {
      backend_->open,
      [](StateStore& s) -> Status {
        XOP_RETURN_IF_ERROR(s.insert_session(session_row(sid(1), poid(1))));
        XOP_RETURN_IF_ERROR(s.append_record(record(sid(1), 1)));
        return s.append_record(record(sid(1), 2));
      },
      [](StateStore& s) { return describe(s); },
  };
  testing::run_writes_under_faults(steps, writes, vfs, t_.path(), "state store", 4);
}

TEST_P(StateStoreContractTest, AFullDiskIsAClearErrorAndLosesNothingCommitted) {
  if (!backend_->injects_faults) GTEST_SKIP() << backend_->name << " has no fault injector";
  FaultVfs vfs(t_.path());
  auto s = open(t_.path());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->insert_session(session_row(sid(1), poid(1))));
  ASSERT_TRUE(s->append_record(record(sid(1), 1)));
  const std::string committed = describe(*s).value();
  vfs.arm_write_failure(0, 13 /* SQLITE_FULL */);
  auto st = s->append_record(record(sid(1), 2));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("full"), std::string::npos) << st.error().message;
  EXPECT_EQ(describe(*s).value(), committed) << "reads still work and show what was committed";
  vfs.reset();  // space freed
  ASSERT_TRUE(s->append_record(record(sid(1), 2))) << "the refused write left nothing in the way";
  const std::string after = describe(*s).value();
  s.reset();
  s = open(t_.path());
  ASSERT_TRUE(s);
  EXPECT_EQ(describe(*s).value(), after);
}

INSTANTIATE_TEST_SUITE_P(Backends, StateStoreContractTest, ::testing::Values("sqlite"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace xop
