// The session manager's durable writes under injected faults where a whole-platform test cannot
// reach (tests/sim/sim_fault_test.cpp has the rest): a restart of the server while a final usage
// record is pending. The state store runs over FaultVfs (support/fault_vfs.h), the workloads in
// MockSandbox on a simulated clock.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "server/session_fixture.h"
#include "support/fault_vfs.h"
#include "support/log_capture.h"

namespace xop {
namespace {

using testing::FaultVfs;
using testing::LogCapture;
using testing::SessionEnv;

UsageSample cpu_sample(int64_t cpu_ns) {
  UsageSample s;
  s.cpu_ns = cpu_ns;
  s.memory_bytes = 8 << 20;
  return s;
}

// The final record of a workload that exited could not be written, but the stopped row could
// (a transient fault), and the server restarted before retrying: the pending record lived only
// in memory. recover() writes it from what the row kept -- ending at the stop, carrying the usage
// metered since the previous record -- so nothing is lost and the PO gets its final record.
TEST(SessionFaultTest, AFinalRecordPendingAcrossARestartIsWrittenByRecovery) {
  SessionEnv env;
  FaultVfs vfs(env.dir.file("state.db"));
  // The store closes before the VFS it was opened through goes.
  struct CloseFirst {
    SessionEnv& env;
    ~CloseFirst() {
      env.manager.reset();
      env.store.reset();
    }
  } close_first{env};
  env.open_store();  // through the fault VFS from now on
  env.make_manager();
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(v) << v.error().message;
  const std::string id = v->row.id;
  env.sandbox.set_usage(id, cpu_sample(30'000'000));
  env.clock.advance_ms(30'000);
  env.manager->sample_all();
  env.manager->write_records();
  ASSERT_EQ(env.store->records(id)->size(), 1u);

  // Ten more seconds of work, then the workload exits; the final record's one write fails.
  env.sandbox.set_usage(id, cpu_sample(40'000'000));
  env.clock.advance_ms(10'000);
  env.sandbox.exit(id, 0);
  const TimeMs stopped_at = env.clock.now_ms();
  LogCapture log("server");
  vfs.arm_write_failure(0, SQLITE_IOERR_WRITE, /*count=*/1);
  env.manager->sample_all();
  EXPECT_EQ(vfs.faults(), 1);
  EXPECT_EQ(log.count("error", "cannot write final usage record (will retry)"), 1);
  auto row = env.store->session(id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, "stopped") << "the row was saved";
  EXPECT_EQ(env.store->records(id)->size(), 1u) << "the final record was not";

  // The server goes down before its next round, and comes back a minute later.
  env.manager.reset();
  env.open_store();
  env.clock.advance_ms(60'000);
  env.make_manager();
  ASSERT_TRUE(env.manager->recover());
  auto recs = env.store->records(id);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 2u);
  const UsageRecord& last = recs->back();
  EXPECT_TRUE(last.final);
  EXPECT_EQ(last.seq, 2);
  EXPECT_EQ(last.period_start, (*recs)[0].period_end);
  EXPECT_EQ(last.period_end, stopped_at) << "charged up to the stop, not the restart";
  EXPECT_EQ(last.used.cpu_ns, 10'000'000) << "the usage since the previous record is not lost";
  EXPECT_EQ((*recs)[0].used.cpu_ns + last.used.cpu_ns, 40'000'000);
  EXPECT_EQ(last.used.memory_byte_seconds, 10 * (8 << 20));
  auto charge = compute_charge(testing::test_rates(), last.reserved, last.used, last.period_end - last.period_start);
  ASSERT_TRUE(charge);
  EXPECT_EQ(last.amount, charge->total);
  row = env.store->session(id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, "stopped");
  EXPECT_EQ((*row)->last_seq, 2);
  EXPECT_EQ((*row)->stopped_at, stopped_at);

  // A second restart writes nothing more.
  env.manager.reset();
  env.open_store();
  env.make_manager();
  ASSERT_TRUE(env.manager->recover());
  EXPECT_EQ(env.store->records(id)->size(), 2u);
}

}  // namespace
}  // namespace xop
