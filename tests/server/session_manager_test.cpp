#include "server/session_manager.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "proto/usage_bounds.h"
#include "server/session_fixture.h"

namespace xop {
namespace {

using testing::SessionEnv;

UsageSample sample(int64_t cpu, int64_t mem, int64_t disk, int64_t net) {
  UsageSample s;
  s.cpu_ns = cpu;
  s.memory_bytes = mem;
  s.disk_bytes = disk;
  s.net_bytes = net;
  return s;
}

void expect_refused(SessionEnv& env, const std::string& user, const CreateSessionRequest& req, ErrorCode code,
                    const std::string& words) {
  const size_t before = env.sandbox.count();
  auto r = env.manager->create(user, req);
  ASSERT_FALSE(r) << "admitted but should be refused: " << words;
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
  EXPECT_EQ(env.sandbox.count(), before);
}

// Checks the invariants of a session's WAL: seq 1.., periods chained without gaps, amounts equal
// to the charge function, only the last record final.
void expect_wal_consistent(SessionEnv& env, const std::string& id, const Resources& reserved) {
  auto recs = env.store->records(id);
  ASSERT_TRUE(recs);
  for (size_t i = 0; i < recs->size(); ++i) {
    const auto& r = (*recs)[i];
    EXPECT_EQ(r.seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(r.reserved, reserved);
    if (i > 0) {
      EXPECT_EQ(r.period_start, (*recs)[i - 1].period_end) << "gap before seq " << r.seq;
    }
    EXPECT_LE(r.period_start, r.period_end);
    auto c = compute_charge(testing::test_rates(), r.reserved, r.used, r.period_end - r.period_start);
    ASSERT_TRUE(c);
    EXPECT_EQ(r.amount, c->total) << "seq " << r.seq;
    EXPECT_EQ(r.final, i + 1 == recs->size() && r.final) << "only the last record may be final";
  }
}

TEST(SessionManagerTest, AdmissionRefusalsCarryTheRightCode) {
  SessionEnv env;
  const std::string alice = env.alice.account_id();
  const auto spec = env.spec();

  // PO signed by some key other than the corp's.
  KeyPair mallory = KeyPair::generate();
  expect_refused(env, alice, {spec, env.po(env.alice, 10'000'000, &mallory)}, ErrorCode::kUnauthenticated,
                 "not signed by the corp");
  // PO signed by the corp, then altered (more money).
  {
    auto po = env.po(env.alice);
    po.body["max_amount_micros"] = 999'000'000'000;
    expect_refused(env, alice, {spec, po}, ErrorCode::kUnauthenticated, "signature");
  }
  // PO for another server (with that server's own price sheet).
  {
    KeyPair other = KeyPair::generate();
    const std::string other_id = other.account_id();
    const auto sheet = testing::signed_price_sheet(other, env.clock.now_ms(), testing::test_rates());
    expect_refused(env, alice, {spec, env.po(env.alice, 10'000'000, nullptr, &other_id, &sheet)},
                   ErrorCode::kPermissionDenied, "another server");
  }
  // PO of another user.
  expect_refused(env, alice, {spec, env.po(env.bob)}, ErrorCode::kPermissionDenied, "another user");
  // Expired PO (valid when issued).
  {
    auto po = env.po(env.alice, 10'000'000, nullptr, nullptr, nullptr, 5000);
    env.clock.advance_ms(5000);
    expect_refused(env, alice, {spec, po}, ErrorCode::kGone, "expired");
  }
  // PO binding a different (older) price sheet of this very server.
  {
    auto rates = testing::test_rates();
    rates.cpu_use_per_core_hour = 1;
    const auto old_sheet = testing::signed_price_sheet(env.server_key, env.clock.now_ms() - 100'000, rates);
    expect_refused(env, alice, {spec, env.po(env.alice, 10'000'000, nullptr, nullptr, &old_sheet)},
                   ErrorCode::kConflict, "price sheet");
  }
  // Unknown image.
  {
    auto s = spec;
    s.image = oci_digest("no such image");
    expect_refused(env, alice, {s, env.po(env.alice)}, ErrorCode::kNotFound, "");
  }
  // Too many pids for this server.
  {
    auto s = spec;
    s.pids = env.opts.max_pids_per_session + 1;
    expect_refused(env, alice, {s, env.po(env.alice)}, ErrorCode::kInvalidArgument, "pids");
  }
  // More than the capacity.
  expect_refused(env, alice, {env.spec(env.opts.capacity.cpu_millis + 1), env.po(env.alice)},
                 ErrorCode::kResourceExhausted, "capacity");

  // Nothing was stored for any of them.
  auto rows = env.store->sessions();
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows->empty());
  EXPECT_EQ(env.manager->reserved(), Resources{});
}

TEST(SessionManagerTest, PurchaseOrderCannotBeUsedTwice) {
  SessionEnv env;
  const auto req = env.request(env.alice);
  auto first = env.manager->create(env.alice.account_id(), req);
  ASSERT_TRUE(first) << first.error().message;
  expect_refused(env, env.alice.account_id(), req, ErrorCode::kConflict, "already used");
  // Still refused after the first session stopped.
  ASSERT_TRUE(env.manager->stop(env.alice.account_id(), first->row.id, "done"));
  expect_refused(env, env.alice.account_id(), req, ErrorCode::kConflict, "already used");
}

// A HOME in the spec's env (or the image's Env) is the workload's: none is added.
TEST(SessionManagerTest, AHomeInTheEnvIsKept) {
  SessionEnv env;
  auto spec = env.spec();
  spec.env["HOME"] = "/mine";
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice, spec));
  ASSERT_TRUE(v) << v.error().message;
  auto sb = env.sandbox.spec(v->row.id);
  ASSERT_TRUE(sb);
  EXPECT_EQ(sb->env, (std::vector<std::string>{"IMG=1", "HOME=/mine"}));
}

TEST(SessionManagerTest, CreateRunsTheSandboxWithTheImageAndSpec) {
  SessionEnv env;
  auto spec = env.spec(750, 128LL << 20);
  spec.env["FOO"] = "bar";
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice, spec));
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->row.state, "running");
  EXPECT_EQ(v->row.user, env.alice.account_id());
  EXPECT_EQ(v->row.started_at, env.clock.now_ms());
  auto sb = env.sandbox.spec(v->row.id);
  ASSERT_TRUE(sb);
  EXPECT_EQ(sb->args, (std::vector<std::string>{"/bin/x", "run"}));  // the image's Cmd
  EXPECT_EQ(sb->cwd, "/w");
  // HOME as runc sets it: the image has no /etc/passwd, so "/".
  EXPECT_EQ(sb->env, (std::vector<std::string>{"IMG=1", "FOO=bar", "HOME=/"}));
  EXPECT_EQ(sb->reserved, spec.resources);
  EXPECT_EQ(sb->pids_limit, spec.pids);
  EXPECT_TRUE(std::filesystem::exists(sb->rootfs + "/bin/x")) << sb->rootfs;

  // The command in the spec overrides the image's.
  auto spec2 = env.spec();
  spec2.command = {"/bin/x", "other"};
  auto v2 = env.manager->create(env.alice.account_id(), env.request(env.alice, spec2));
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_EQ(env.sandbox.spec(v2->row.id)->args, spec2.command);

  auto stored = env.store->session(v->row.id);
  ASSERT_TRUE(stored && stored->has_value());
  EXPECT_EQ((*stored)->state, "running");
}

// Stores a one-layer image whose config sets `user`, with "worker" 1000:1001 (and in group
// staff, 50) in its /etc/passwd and /etc/group, owned by `owner`; returns its manifest digest.
std::string put_user_image(ImageStore& s, const std::string& owner, const std::string& user) {
  const std::string layer = testing::TarBuilder()
                                .dir("bin")
                                .file("bin/x", "#!/bin/sh\n", 0755)
                                .dir("etc")
                                .file("etc/passwd", "root:x:0:0::/:/bin/sh\nworker:x:1000:1001::/:/bin/sh\n")
                                .file("etc/group", "root:x:0:\nstaff:x:50:worker\n")
                                .build();
  const std::string config = R"({"os":"linux","config":{"Cmd":["/bin/x"],"User":")" + user +
                             R"("},"rootfs":{"type":"layers","diff_ids":[")" + oci_digest(layer) + R"("]}})";
  const std::string m =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      oci_digest(config) + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + oci_digest(layer) +
      R"(","size":)" + std::to_string(layer.size()) + "}]}";
  EXPECT_TRUE(s.put_blob(owner, oci_digest(layer), layer));
  EXPECT_TRUE(s.put_blob(owner, oci_digest(config), config));
  EXPECT_TRUE(s.put_blob(owner, oci_digest(m), m));
  return oci_digest(m);
}

TEST(SessionManagerTest, TheSandboxRunsAsTheImagesUser) {
  SessionEnv env;
  // The test image has no User: root.
  auto root = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_EQ(env.sandbox.spec(root->row.id)->uid, 0u);
  EXPECT_EQ(env.sandbox.spec(root->row.id)->gid, 0u);

  auto spec = env.spec();
  spec.image = put_user_image(*env.images, env.alice.account_id(), "worker");
  auto named = env.manager->create(env.alice.account_id(), env.request(env.alice, spec));
  ASSERT_TRUE(named) << named.error().message;
  auto sb = env.sandbox.spec(named->row.id);
  ASSERT_TRUE(sb);
  EXPECT_EQ(sb->uid, 1000u);
  EXPECT_EQ(sb->gid, 1001u);
  EXPECT_EQ(sb->additional_gids, (std::vector<uint32_t>{50}));

  spec.image = put_user_image(*env.images, env.alice.account_id(), "4242:7");
  auto numeric = env.manager->create(env.alice.account_id(), env.request(env.alice, spec));
  ASSERT_TRUE(numeric) << numeric.error().message;
  EXPECT_EQ(env.sandbox.spec(numeric->row.id)->uid, 4242u);
  EXPECT_EQ(env.sandbox.spec(numeric->row.id)->gid, 7u);

  // A user the image does not know: creation fails, clearly, and holds no capacity.
  spec.image = put_user_image(*env.images, env.alice.account_id(), "ghost");
  const Resources free_before = env.manager->free();
  auto ghost = env.manager->create(env.alice.account_id(), env.request(env.alice, spec));
  ASSERT_FALSE(ghost);
  EXPECT_EQ(ghost.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(ghost.error().message.find("no user \"ghost\""), std::string::npos) << ghost.error().message;
  EXPECT_EQ(env.manager->free(), free_before);
}

TEST(SessionManagerTest, SandboxStartFailureIsReportedAndFreesCapacity) {
  SessionEnv env;
  env.sandbox.fail_next_start(Error{ErrorCode::kInternal, "runc exploded"});
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("runc exploded"), std::string::npos);
  auto list = env.manager->list(env.alice.account_id());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].row.state, "failed");
  EXPECT_EQ(env.manager->free(), env.opts.capacity);
  expect_wal_consistent(env, (*list)[0].row.id, env.spec().resources);
}

TEST(SessionManagerTest, CapacityAccountingAndFreeAfterStop) {
  SessionEnv env(Resources{1000, 1LL << 30, 0, 0});
  auto a = env.manager->create(env.alice.account_id(), env.request(env.alice, env.spec(600, 256LL << 20)));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(env.manager->free().cpu_millis, 400);
  EXPECT_EQ(env.manager->free().memory_bytes, (1LL << 30) - (256LL << 20));
  expect_refused(env, env.bob.account_id(), env.request(env.bob, env.spec(500)), ErrorCode::kResourceExhausted,
                 "400 cpu_millis");
  auto b = env.manager->create(env.bob.account_id(), env.request(env.bob, env.spec(400)));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(env.manager->free().cpu_millis, 0);
  ASSERT_TRUE(env.manager->stop(env.alice.account_id(), a->row.id, "bye"));
  EXPECT_EQ(env.manager->free().cpu_millis, 600);
  EXPECT_EQ(env.manager->reserved().cpu_millis, 400);
  auto c = env.manager->create(env.alice.account_id(), env.request(env.alice, env.spec(600)));
  EXPECT_TRUE(c) << c.error().message;
}

// Reserved bandwidth is admitted like CPU and memory: a session reserving more than what is left
// of capacity.net_bps is refused, naming what is free; it fits again once the other one stopped.
TEST(SessionManagerTest, ReservedBandwidthIsPartOfAdmission) {
  SessionEnv env(Resources{4000, 4LL << 30, 10LL << 30, 10'000'000});
  auto with_bps = [&](int64_t bps) {
    auto s = env.spec(100);
    s.resources.net_bps = bps;
    return s;
  };
  auto a = env.manager->create(env.alice.account_id(), env.request(env.alice, with_bps(8'000'000)));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(env.manager->free().net_bps, 2'000'000);
  expect_refused(env, env.bob.account_id(), env.request(env.bob, with_bps(4'000'000)), ErrorCode::kResourceExhausted,
                 "2000000 net_bps");
  auto fits = env.manager->create(env.bob.account_id(), env.request(env.bob, with_bps(2'000'000)));
  ASSERT_TRUE(fits) << fits.error().message;
  EXPECT_EQ(env.manager->free().net_bps, 0);
  ASSERT_TRUE(env.manager->stop(env.alice.account_id(), a->row.id, "bye"));
  auto b = env.manager->create(env.bob.account_id(), env.request(env.bob, with_bps(4'000'000)));
  EXPECT_TRUE(b) << b.error().message;
}

// CPU metered beyond what the reservation allows (the runtime's set-up inside the session's cgroup,
// before the quota is written) is not claimed: a record above the corp's bound would be refused,
// and every later batch of the server with it.
TEST(SessionManagerTest, ARecordNeverClaimsMoreThanTheReservationsBound) {
  SessionEnv env;
  const auto spec = env.spec(100, 64LL << 20);  // a tenth of a core
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice, spec));
  ASSERT_TRUE(v) << v.error().message;
  const std::string id = v->row.id;
  env.sandbox.set_usage(id, sample(400'000'000, 1 << 20, 0, 0));  // 0.4 s of CPU in 1 s: 4x the quota
  env.clock.advance_ms(1000);
  env.manager->sample_all();
  env.manager->write_records();
  auto recs = env.store->records(id);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 1u);
  const UsageRecord& r = (*recs)[0];
  const int64_t period = r.period_end - r.period_start;
  EXPECT_EQ(r.used.cpu_ns, max_claimable_cpu_ns(100, period));
  EXPECT_LT(r.used.cpu_ns, 400'000'000);
  auto expected = compute_charge(testing::test_rates(), r.reserved, r.used, period);
  ASSERT_TRUE(expected);
  EXPECT_EQ(r.amount, expected->total) << "the amount is that of the claimed usage";
  // (The corp's check_usage_claim refuses above this same bound: tests/corp/settlement_test.cpp.)
  // Within the bound, what was metered is claimed as it is.
  env.sandbox.set_usage(id, sample(450'000'000, 1 << 20, 0, 0));
  env.clock.advance_ms(1000);
  env.manager->sample_all();
  env.manager->write_records();
  recs = env.store->records(id);
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[1].used.cpu_ns, 50'000'000);
}

TEST(SessionManagerTest, RecordsFollowTheMeterAndTheChargeFunction) {
  SessionEnv env;
  const auto spec = env.spec(500, 64LL << 20);
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice, spec));
  ASSERT_TRUE(v) << v.error().message;
  const std::string id = v->row.id;
  const TimeMs t0 = env.clock.now_ms();

  // One second at 100 MiB, then 1.5 s at 50 MiB; cpu 0.3 s, some disk and net.
  env.sandbox.set_usage(id, sample(100'000'000, 100 << 20, 4096, 1000));
  env.clock.advance_ms(1000);
  env.manager->sample_all();
  env.sandbox.set_usage(id, sample(300'000'000, 50 << 20, 8192, 3000));
  env.clock.advance_ms(1000);
  env.manager->sample_all();
  env.manager->write_records();

  auto recs = env.store->records(id);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 1u);
  const auto& r1 = (*recs)[0];
  EXPECT_EQ(r1.seq, 1);
  EXPECT_EQ(r1.period_start, t0);
  EXPECT_EQ(r1.period_end, t0 + 2000);
  EXPECT_EQ(r1.used.cpu_ns, 300'000'000);
  EXPECT_EQ(r1.used.disk_bytes, 8192);
  EXPECT_EQ(r1.used.net_bytes, 3000);
  // The memory level at t0 was 0 (start), 100 MiB held over [t0+1s, t0+2s).
  EXPECT_EQ(r1.used.memory_byte_seconds, 100 << 20);
  EXPECT_FALSE(r1.final);
  EXPECT_EQ(r1.amount, compute_charge(testing::test_rates(), spec.resources, r1.used, 2000)->total);
  EXPECT_GT(r1.amount.micros(), 0);

  // A second interval, then a user stop: the final record covers up to the stop.
  env.sandbox.set_usage(id, sample(900'000'000, 50 << 20, 8192, 3000));
  env.clock.advance_ms(3000);
  env.manager->sample_all();
  env.manager->write_records();
  env.clock.advance_ms(700);
  auto stopped = env.manager->stop(env.alice.account_id(), id, "stopped by the user");
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(stopped->row.state, "stopped");
  EXPECT_EQ(stopped->row.reason, "stopped by the user");
  EXPECT_EQ(env.sandbox.count(), 0u);  // removed

  recs = env.store->records(id);
  ASSERT_EQ(recs->size(), 3u);
  EXPECT_EQ((*recs)[1].used.cpu_ns, 600'000'000);
  EXPECT_EQ((*recs)[1].used.memory_byte_seconds, 3 * (50 << 20));
  EXPECT_TRUE((*recs)[2].final);
  EXPECT_EQ((*recs)[2].period_end, env.clock.now_ms());
  EXPECT_EQ((*recs)[2].period_end - (*recs)[2].period_start, 700);
  EXPECT_EQ((*recs)[2].used.memory_byte_seconds, (50 << 20) * 7 / 10);
  expect_wal_consistent(env, id, spec.resources);

  Money sum;
  for (const auto& r : *recs) sum = *sum.plus(r.amount);
  EXPECT_EQ(stopped->claimed, sum);
  EXPECT_EQ(stopped->row.last_seq, 3);

  // Stopping again changes nothing and writes no record.
  ASSERT_TRUE(env.manager->stop(env.alice.account_id(), id, "again"));
  EXPECT_EQ(env.store->records(id)->size(), 3u);
  // A stopped session gets no more records.
  env.clock.advance_ms(1000);
  env.manager->sample_all();
  env.manager->write_records();
  EXPECT_EQ(env.store->records(id)->size(), 3u);
}

TEST(SessionManagerTest, WorkloadExitingOnItsOwnIsFinishedBySampleAll) {
  SessionEnv env;
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(v);
  const std::string id = v->row.id;
  env.clock.advance_ms(1500);
  env.sandbox.set_usage(id, sample(5'000'000, 1 << 20, 0, 0));
  env.sandbox.exit(id, 7);
  env.manager->sample_all();
  auto g = env.manager->get(env.alice.account_id(), id);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->row.state, "stopped");
  EXPECT_EQ(g->row.exit_code, 7);
  EXPECT_NE(g->row.reason.find("status 7"), std::string::npos) << g->row.reason;
  auto recs = env.store->records(id);
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_TRUE((*recs)[0].final);
  EXPECT_EQ((*recs)[0].used.cpu_ns, 5'000'000);
  EXPECT_EQ((*recs)[0].period_end - (*recs)[0].period_start, 1500);
  EXPECT_EQ(env.manager->free(), env.opts.capacity);
}

TEST(SessionManagerTest, AClosedPurchaseOrderStopsOnlyItsSessionAtOnce) {
  SessionEnv env;
  auto a = env.manager->create(env.alice.account_id(), env.request(env.alice));
  auto b = env.manager->create(env.bob.account_id(), env.request(env.bob));
  ASSERT_TRUE(a && b);
  env.clock.advance_ms(1000);
  PoBalanceView closing{a->row.po_id, 500, true, false, true, false, 0};
  PoBalanceView unknown{"po" + std::string(32, 'f'), 0, true, true, false, false, 0};
  EXPECT_EQ(env.manager->on_credit({closing, unknown}), 1u);
  auto ga = env.manager->get("", a->row.id);
  auto gb = env.manager->get("", b->row.id);
  EXPECT_EQ(ga->row.state, "stopped");
  EXPECT_EQ(ga->row.reason, kPoClosedReason);
  EXPECT_EQ(ga->row.exit_reason, "po-exhausted");
  EXPECT_EQ(env.sandbox.stops(a->row.id), 0);  // removed after stop
  EXPECT_EQ(gb->row.state, "running");
  auto recs = env.store->records(a->row.id);
  ASSERT_FALSE(recs->empty());
  EXPECT_TRUE(recs->back().final);
}

TEST(SessionManagerTest, AnotherUsersSessionIsNotFound) {
  SessionEnv env;
  auto a = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(a);
  const std::string bob = env.bob.account_id();
  auto g = env.manager->get(bob, a->row.id);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::kNotFound);
  auto missing = env.manager->get(bob, "s" + std::string(32, '0'));
  ASSERT_FALSE(missing);
  // Exactly the same answer as for a session that does not exist (no existence oracle).
  EXPECT_EQ(g.error().message.substr(0, 16), missing.error().message.substr(0, 16));
  auto s = env.manager->stop(bob, a->row.id, "hostile");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(env.manager->get(env.alice.account_id(), a->row.id)->row.state, "running");
  auto l = env.manager->logs(bob, a->row.id, 100);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(env.manager->list(bob)->empty());
  EXPECT_EQ(env.manager->list(env.alice.account_id())->size(), 1u);
  EXPECT_EQ(env.manager->list("")->size(), 1u);
}

TEST(SessionManagerTest, LogsReturnTheTailOfTheOutput) {
  SessionEnv env;
  auto a = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(a);
  auto none = env.manager->logs(env.alice.account_id(), a->row.id, 10);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  testing::write_file(env.sandbox.spec(a->row.id)->log_path, "0123456789abcdef");
  EXPECT_EQ(*env.manager->logs(env.alice.account_id(), a->row.id, 6), "abcdef");
  EXPECT_EQ(*env.manager->logs(env.alice.account_id(), a->row.id, 100), "0123456789abcdef");
}

TEST(SessionManagerTest, RecoverReadoptsRunningAndFinishesVanishedSessions) {
  SessionEnv env;
  const auto keep_req = env.request(env.alice);
  auto keep = env.manager->create(env.alice.account_id(), keep_req);
  auto gone = env.manager->create(env.bob.account_id(), env.request(env.bob));
  ASSERT_TRUE(keep && gone);
  env.sandbox.set_usage(keep->row.id, sample(1'000'000, 1 << 20, 0, 0));
  env.clock.advance_ms(1000);
  env.manager->sample_all();
  env.manager->write_records();
  ASSERT_EQ(env.store->records(keep->row.id)->size(), 1u);

  // The server goes down (no stop); one sandbox vanishes meanwhile, the other keeps counting.
  env.manager.reset();
  env.open_store();
  ASSERT_TRUE(env.sandbox.remove(gone->row.id));
  env.sandbox.set_usage(keep->row.id, sample(3'000'000, 1 << 20, 0, 0));
  env.clock.advance_ms(2000);
  env.make_manager();
  ASSERT_TRUE(env.manager->recover());

  auto k = env.manager->get(env.alice.account_id(), keep->row.id);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->row.state, "running");
  auto g = env.manager->get(env.bob.account_id(), gone->row.id);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->row.state, "stopped");
  EXPECT_NE(g->row.reason.find("while the server was down"), std::string::npos);
  auto grecs = env.store->records(gone->row.id);
  ASSERT_FALSE(grecs->empty());
  EXPECT_TRUE(grecs->back().final);
  expect_wal_consistent(env, gone->row.id, env.spec().resources);

  // The re-adopted session's next record continues the sequence and counts only new usage.
  env.manager->sample_all();
  env.manager->write_records();
  auto krecs = env.store->records(keep->row.id);
  ASSERT_EQ(krecs->size(), 2u);
  EXPECT_EQ((*krecs)[1].seq, 2);
  EXPECT_EQ((*krecs)[1].used.cpu_ns, 2'000'000);
  EXPECT_EQ((*krecs)[1].period_end - (*krecs)[1].period_start, 2000);
  EXPECT_EQ((*krecs)[1].used.memory_byte_seconds, 2 * (1 << 20));
  expect_wal_consistent(env, keep->row.id, env.spec().resources);
  // Capacity of the re-adopted session is still held; the finished one's is free.
  EXPECT_EQ(env.manager->reserved(), env.spec().resources);
  // Its PO is still known as used.
  expect_refused(env, env.alice.account_id(), keep_req, ErrorCode::kConflict, "already used");
}

TEST(SessionManagerTest, RecoveredSessionsKeepTheRatesOfTheirPurchaseOrder) {
  SessionEnv env;
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(v) << v.error().message;
  // The operator doubles every price and restarts: the server signs a new price sheet.
  env.manager.reset();
  env.open_store();
  Rates doubled = testing::test_rates();
  doubled.cpu_reserve_per_core_hour *= 2;
  doubled.memory_reserve_per_gib_hour *= 2;
  doubled.cpu_use_per_core_hour *= 2;
  env.price_sheet = testing::signed_price_sheet(env.server_key, env.clock.now_ms(), doubled);
  env.make_manager();
  ASSERT_TRUE(env.manager->recover());
  env.sandbox.set_usage(v->row.id, sample(50'000'000, 8 << 20, 0, 0));
  env.clock.advance_ms(4000);
  env.manager->sample_all();
  env.manager->write_records();
  auto recs = env.store->records(v->row.id);
  ASSERT_EQ(recs->size(), 1u);
  const auto& r = (*recs)[0];
  // Charged at the PO's rates, which is what the corp will recompute; never at the new ones.
  EXPECT_EQ(r.amount, compute_charge(testing::test_rates(), r.reserved, r.used, 4000)->total);
  EXPECT_NE(r.amount, compute_charge(doubled, r.reserved, r.used, 4000)->total);
  // New sessions get the new sheet's rates.
  auto n = env.manager->create(env.bob.account_id(), env.request(env.bob));
  ASSERT_TRUE(n) << n.error().message;
  env.clock.advance_ms(1000);
  env.manager->sample_all();
  env.manager->write_records();
  auto nrecs = env.store->records(n->row.id);
  ASSERT_EQ(nrecs->size(), 1u);
  EXPECT_EQ((*nrecs)[0].amount, compute_charge(doubled, (*nrecs)[0].reserved, (*nrecs)[0].used, 1000)->total);
}

TEST(SessionManagerTest, StopAllStopsEveryLiveSession) {
  SessionEnv env;
  auto a = env.manager->create(env.alice.account_id(), env.request(env.alice));
  auto b = env.manager->create(env.bob.account_id(), env.request(env.bob));
  ASSERT_TRUE(a && b);
  env.manager->stop_all("server shut down");
  auto all = env.manager->list("");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  for (const auto& v : *all) {
    EXPECT_EQ(v.row.state, "stopped");
    EXPECT_EQ(v.row.reason, "server shut down");
    EXPECT_EQ(v.row.exit_reason, "evicted");
  }
  EXPECT_EQ(env.sandbox.count(), 0u);
  EXPECT_EQ(env.manager->free(), env.opts.capacity);
}

// The mock driver, with status() held at a gate the test opens: a slow driver.
class GatedSandbox final : public Sandbox {
 public:
  explicit GatedSandbox(MockSandbox& inner) : inner_(inner) {}
  [[nodiscard]] std::string kind() const override { return "gated"; }
  Status start(const SandboxSpec& spec) override { return inner_.start(spec); }
  Result<SandboxStatus> status(const std::string& id) override {
    std::unique_lock lock(mu_);
    if (gated_) {
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !gated_; });
      --waiting_;
    }
    lock.unlock();
    return inner_.status(id);
  }
  Result<UsageSample> sample(const std::string& id) override { return inner_.sample(id); }
  Status stop(const std::string& id, std::chrono::milliseconds grace) override { return inner_.stop(id, grace); }
  Status freeze(const std::string& id) override { return inner_.freeze(id); }
  Status thaw(const std::string& id) override { return inner_.thaw(id); }
  Status remove(const std::string& id) override { return inner_.remove(id); }

  void close_gate() {
    std::lock_guard lock(mu_);
    gated_ = true;
  }
  void open_gate() {
    std::lock_guard lock(mu_);
    gated_ = false;
    cv_.notify_all();
  }
  // Waits until a status() call is held at the gate (false after 10 s).
  bool wait_held() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ > 0; });
  }

 private:
  MockSandbox& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool gated_ = false;
  int waiting_ = 0;
};

TEST(SessionManagerTest, SamplingDoesNotHoldTheManagerWhileTheDriverIsSlow) {
  SessionEnv env;
  GatedSandbox gated(env.sandbox);
  SessionManager m(env.opts, env.clock, gated, *env.images, *env.store, env.corp_key.public_key(), env.price_sheet);
  auto first = m.create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(first) << first.error().message;
  env.sandbox.set_usage(first->row.id, sample(5'000'000, 1 << 20, 0, 0));

  gated.close_gate();
  std::thread sampler([&] { m.sample_all(); });
  ASSERT_TRUE(gated.wait_held());
  // While a sampling round waits on the driver, the manager answers and admits.
  auto second = m.create(env.bob.account_id(), env.request(env.bob));
  EXPECT_TRUE(second) << second.error().message;
  EXPECT_TRUE(m.get(env.alice.account_id(), first->row.id));
  EXPECT_TRUE(gated.wait_held()) << "the round finished before the gate opened";
  gated.open_gate();
  sampler.join();
  // The round's sample landed.
  EXPECT_EQ(m.get(env.alice.account_id(), first->row.id)->metered.cpu_ns, 5'000'000);

  // A workload that exits between two rounds is finished by the next one, with its exit code.
  env.sandbox.exit(first->row.id, 3);
  m.sample_all();
  auto ended = m.get(env.alice.account_id(), first->row.id);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->row.state, "stopped");
  EXPECT_EQ(ended->row.exit_code, 3);
  m.stop_all("test over");
}

}  // namespace
}  // namespace xop
