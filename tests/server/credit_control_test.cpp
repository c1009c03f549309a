// Credit control in the session manager (real SQLite state store, mock sandbox, simulated clock):
// a session whose purchase order ran dry is frozen (not killed), keeps writing its reservation's
// records, thaws when the PO is extended, and is stopped "funds-exhausted" once freeze_grace_ms
// passed -- also across a server restart while frozen.
#include <gtest/gtest.h>

#include "server/session_fixture.h"

namespace xop::testing {
namespace {

constexpr int64_t kGrace = 60'000;

PoBalanceView dry(const std::string& po) { return PoBalanceView{po, 0, true, false, false, false, 1'000}; }
PoBalanceView funded(const std::string& po, bool low = false) {
  return PoBalanceView{po, 5'000, false, false, false, low, 0};
}

struct CreditEnv : SessionEnv {
  CreditEnv() {
    opts.freeze_grace_ms = kGrace;
    make_manager();
  }
};

std::string state_of(SessionEnv& env, const std::string& id) {
  auto v = env.manager->get("", id);
  return v ? v->row.state : "?";
}

TEST(CreditControlTest, ADryPurchaseOrderFreezesTheSessionAndAnExtensionThawsIt) {
  CreditEnv env;
  auto s = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(s) << s.error().message;
  const std::string id = s->row.id;
  env.clock.advance_ms(1000);

  env.manager->on_credit({funded(s->row.po_id, /*low=*/true)});
  EXPECT_EQ(state_of(env, id), "running");
  EXPECT_TRUE(env.manager->get("", id)->low_funds);

  const TimeMs froze_at = env.clock.now_ms();
  EXPECT_EQ(env.manager->on_credit({dry(s->row.po_id)}), 0u) << "frozen, not stopped";
  EXPECT_EQ(state_of(env, id), "frozen");
  EXPECT_EQ(env.sandbox.status(id)->state, SandboxState::kPaused);
  EXPECT_EQ(env.manager->get("", id)->row.frozen_until, froze_at + kGrace);
  // Persisted.
  EXPECT_EQ((*env.store->session(id))->state, "frozen");
  EXPECT_EQ((*env.store->session(id))->frozen_until, froze_at + kGrace);
  // Another dry answer later does not move the deadline.
  env.clock.advance_ms(10'000);
  env.manager->on_credit({dry(s->row.po_id)});
  EXPECT_EQ(env.manager->get("", id)->row.frozen_until, froze_at + kGrace);

  // While frozen it still writes records of its reservation (the corp charges what it can).
  const size_t before = env.store->records(id)->size();
  env.manager->sample_all();
  env.manager->write_records();
  auto recs = env.store->records(id);
  ASSERT_EQ(recs->size(), before + 1);
  EXPECT_GT(recs->back().amount.micros(), 0) << "the reservation is charged while frozen";
  EXPECT_EQ(recs->back().reserved, env.spec().resources);
  EXPECT_EQ(env.manager->stop_expired_frozen(), 0u) << "inside the grace";

  // The PO was extended: thawed, running, no deadline.
  env.manager->on_credit({funded(s->row.po_id)});
  EXPECT_EQ(state_of(env, id), "running");
  EXPECT_EQ(env.sandbox.status(id)->state, SandboxState::kRunning);
  EXPECT_EQ(env.manager->get("", id)->row.frozen_until, 0);
  EXPECT_FALSE(env.manager->get("", id)->low_funds);
  EXPECT_EQ((*env.store->session(id))->state, "running");
}

TEST(CreditControlTest, AFrozenSessionIsStoppedOnceTheGracePassesWithoutAnswer) {
  CreditEnv env;
  auto s = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(s);
  env.manager->on_credit({dry(s->row.po_id)});
  ASSERT_EQ(state_of(env, s->row.id), "frozen");
  env.clock.advance_ms(kGrace - 1);
  EXPECT_EQ(env.manager->stop_expired_frozen(), 0u);
  env.clock.advance_ms(1);
  EXPECT_EQ(env.manager->stop_expired_frozen(), 1u);
  auto v = env.manager->get("", s->row.id);
  EXPECT_EQ(v->row.state, "stopped");
  EXPECT_EQ(v->row.reason, kFundsExhaustedReason);
  auto recs = env.store->records(s->row.id);
  ASSERT_FALSE(recs->empty());
  EXPECT_TRUE(recs->back().final);
  EXPECT_EQ(env.manager->free(), env.opts.capacity) << "its reservation is free again";
}

TEST(CreditControlTest, AZeroGraceStopsAtOnceAsBefore) {
  SessionEnv env;
  env.opts.freeze_grace_ms = 0;
  env.make_manager();
  auto s = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(s);
  EXPECT_EQ(env.manager->on_credit({dry(s->row.po_id)}), 1u);
  EXPECT_EQ(state_of(env, s->row.id), "stopped");
  EXPECT_EQ(env.manager->get("", s->row.id)->row.reason, kFundsExhaustedReason);
}

TEST(CreditControlTest, AServerRestartedWhileFrozenKeepsItFrozenAndItsDeadline) {
  CreditEnv env;
  auto s = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(s);
  const std::string id = s->row.id;
  const TimeMs froze_at = env.clock.now_ms();
  env.manager->on_credit({dry(s->row.po_id)});
  ASSERT_EQ(state_of(env, id), "frozen");

  // The server goes down (no stop) and comes back; the container is still frozen.
  env.manager.reset();
  env.open_store();
  env.clock.advance_ms(5'000);
  env.make_manager();
  ASSERT_TRUE(env.manager->recover());
  EXPECT_EQ(state_of(env, id), "frozen");
  EXPECT_EQ(env.manager->get("", id)->row.frozen_until, froze_at + kGrace);
  EXPECT_EQ(env.sandbox.status(id)->state, SandboxState::kPaused);
  EXPECT_EQ(env.manager->reserved(), env.spec().resources);

  // Restarted again, past the deadline: the first check stops it.
  env.manager.reset();
  env.open_store();
  env.clock.advance_ms(kGrace);
  env.make_manager();
  ASSERT_TRUE(env.manager->recover());
  EXPECT_EQ(state_of(env, id), "frozen");
  EXPECT_EQ(env.manager->stop_expired_frozen(), 1u);
  EXPECT_EQ(state_of(env, id), "stopped");
  EXPECT_EQ(env.manager->get("", id)->row.reason, kFundsExhaustedReason);
  auto recs = env.store->records(id);
  ASSERT_FALSE(recs->empty());
  EXPECT_TRUE(recs->back().final);
  int finals = 0;
  for (const auto& r : *recs) finals += r.final ? 1 : 0;
  EXPECT_EQ(finals, 1);
}

TEST(CreditControlTest, AnExtensionAfterARestartThawsTheReadoptedSession) {
  CreditEnv env;
  auto s = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(s);
  env.manager->on_credit({dry(s->row.po_id)});
  env.manager.reset();
  env.open_store();
  env.make_manager();
  ASSERT_TRUE(env.manager->recover());
  env.manager->on_credit({funded(s->row.po_id)});
  EXPECT_EQ(state_of(env, s->row.id), "running");
  EXPECT_EQ(env.sandbox.status(s->row.id)->state, SandboxState::kRunning);
  EXPECT_EQ((*env.store->session(s->row.id))->frozen_until, 0);
}

TEST(CreditControlTest, AUserMayStopAFrozenSession) {
  CreditEnv env;
  auto s = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(s);
  env.manager->on_credit({dry(s->row.po_id)});
  auto st = env.manager->stop(env.alice.account_id(), s->row.id, "stopped by user");
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->row.state, "stopped");
  EXPECT_EQ(env.manager->stop_expired_frozen(), 0u);
}

}  // namespace
}  // namespace xop::testing
