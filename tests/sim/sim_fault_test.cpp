// The server's and the corp's durable-state retry paths under injected storage faults, on the
// whole simulated platform (sim/platform.h), in the manner of leveldb's fault-injection tests:
// a FaultVfs (support/fault_vfs.h) over one SQLite file -- the server's state.db or the corp's
// corp.db -- is armed, an operation is driven, the failure must be reported (logged, or refused to
// the caller) with nothing lost or invented; then the fault is disarmed, the simulated clock moves
// the retry along, and the final state is checked against ground truth: the session row is
// stored, every usage record is settled exactly once (sequence without gaps or repeats, one final
// record), the declared burn is charged in full at the hand-worked price, and the ledger balances.
// See docs/testing.md, "Fault injection".
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <optional>

#include "client/corp_client.h"
#include "client/server_client.h"
#include "corp/corp_service.h"
#include "deploy/deployer.h"
#include "server/burner_image.h"
#include "server/state_store.h"
#include "sim/platform.h"
#include "sim/sim_network.h"
#include "support/fault_vfs.h"
#include "support/log_capture.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::FaultVfs;
using testing::LogCapture;
using testing::TempDir;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kChargingMs = kMinuteMs;
constexpr int64_t kReservedMillicores = 500;
constexpr int64_t kBurnMillicores = 250;
constexpr int64_t kReservedMemory = int64_t{64} << 20;
constexpr int64_t kHeldMemory = int64_t{1} << 20;
constexpr int64_t kDeposit = 20'000'000;

// The first simulated server's prices (sim/platform.cpp gives server 1 the base dev rates), in
// micro-credits per hour, and the price of one hour of the burner worked by hand from them:
//   cpu reserved   1'800'000 * 0.5 core            =   900'000
//   memory reserved  360'000 * 64 MiB / 1 GiB      =    22'500
//   cpu used       3'600'000 * 0.25 core           =   900'000
//   memory used       36'000 * 1 MiB / 1 GiB       =        35.15625
constexpr int64_t kCpuReservePerCoreHour = 1'800'000;
constexpr int64_t kCpuUsePerCoreHour = 3'600'000;
constexpr int64_t kMemoryReservePerGibHour = 360'000;
constexpr int64_t kMemoryUsePerGibHour = 36'000;
constexpr double kMicrosPerHour = 900'000 + 22'500 + 900'000 + 35.15625;

std::string burner_image_dir() {
  // Built once for the binary (scripts/build-image); the directory outlives every test.
  static const TempDir* dir = new TempDir();
  static const std::string image = [] {
    const std::string d = dir->file("image");
    EXPECT_FALSE(testing::build_burner_image(d).empty()) << "scripts/build-image failed";
    return d;
  }();
  return image;
}

DeployManifest burner_manifest(std::optional<int64_t> exit_after_ms = std::nullopt) {
  DeployManifest m;
  m.name = "fault-burner";
  m.image = burner_image_dir();
  m.command = {"/bin/sh", "-c", "exec burn"};
  m.env = {{"XOP_SIM_CPU_MILLICORES", std::to_string(kBurnMillicores)},
           {"XOP_SIM_MEMORY_BYTES", std::to_string(kHeldMemory)}};
  if (exit_after_ms) m.env["XOP_SIM_EXIT_AFTER_MS"] = std::to_string(*exit_after_ms);
  m.resources.cpu_millis = kReservedMillicores;
  m.resources.memory_bytes = kReservedMemory;
  m.count = 1;
  m.budget = Money::micros(5'000'000);
  return m;
}

// Which file the faults go to.
enum class Faulty { kServerState, kCorp };

// One server, the corp and XIS on a simulated clock, with a FaultVfs over one store (registered
// before the platform opens its stores, removed after they closed), and the server's and the
// corp's logs captured.
class FaultyPlatform {
 public:
  FaultyPlatform(const TempDir& t, Faulty which)
      : dir_(t.file("platform")),
        vfs_(which == Faulty::kServerState ? dir_ + "/servers/1/state.db" : dir_ + "/corp/corp.db") {
    PlatformOptions o;
    o.data_dir = dir_;
    o.servers = 1;
    o.sim_clock = &clock_;
    o.seed = 13;
    o.sample_interval_ms = 5'000;
    o.charging_interval_ms = kChargingMs;
    o.advert_interval_ms = 30'000;
    o.stop_grace_ms = 10'000;
    o.sim_durability = SqliteDurability::kSynced;  // some faults are failed fsyncs
    auto p = Platform::start(o);
    if (!p) {
      ADD_FAILURE() << p.error().to_string();
      return;
    }
    platform_ = std::move(*p);
  }
  ~FaultyPlatform() {
    vfs_.reset();
    if (platform_) platform_->stop();
  }
  FaultyPlatform(const FaultyPlatform&) = delete;
  FaultyPlatform& operator=(const FaultyPlatform&) = delete;

  [[nodiscard]] bool ok() const { return platform_ != nullptr; }
  Platform& p() { return *platform_; }
  FaultVfs& vfs() { return vfs_; }
  SimulatedClock& clock() { return clock_; }
  const LogCapture& server_log() const { return server_log_; }
  const LogCapture& corp_log() const { return corp_log_; }
  [[nodiscard]] std::string state_db() const { return dir_ + "/servers/1/state.db"; }

  CorpClient corp(const KeyPair& key) {
    auto c = CorpClient::connect(p().corp_url(), key, clock_, p().connector());
    EXPECT_TRUE(c);
    return std::move(*c);
  }
  ServerClient server(const KeyPair& key) {
    auto c = ServerClient::connect(p().servers()[0].url, key, clock_, p().connector());
    EXPECT_TRUE(c);
    return std::move(*c);
  }

  KeyPair funded_user() {
    KeyPair user = p().new_key();
    EXPECT_TRUE(corp(user).register_account(RegisterAccountRequest{AccountKind::kUser, "alice", std::nullopt}));
    EXPECT_TRUE(corp(p().admin_key()).deposit(DepositRequest{user.account_id(), kDeposit, "test"}));
    return user;
  }

  DeployOutcome deploy(const KeyPair& user, std::optional<int64_t> exit_after_ms = std::nullopt) {
    Deployer d(user, p().corp_url(), p().xis_url(), dir_ + "/scratch", clock_);
    d.set_connector(p().connector());
    d.set_parallelism(1);  // one placement after the other: a seed repeats its run
    auto r = d.deploy(burner_manifest(exit_after_ms), nullptr);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    if (!r || r->outcomes.size() != 1) return DeployOutcome{};
    return r->outcomes[0];
  }

  StatementView statement(const KeyPair& user) {
    auto s = corp(user).statement(user.account_id());
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? *s : StatementView{};
  }

  // A second connection to the server's state store (reads what is committed).
  std::unique_ptr<StateStore> state() {
    auto s = StateStore::open(state_db());
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
  }

 private:
  std::string dir_;
  SimulatedClock clock_;
  LogCapture server_log_{"server"};
  LogCapture corp_log_{"corp"};
  FaultVfs vfs_;
  std::unique_ptr<Platform> platform_;
};

const StatementPoView* find_po(const StatementView& s, const std::string& po_id) {
  for (const auto& po : s.purchase_orders) {
    if (po.po_id == po_id) return &po;
  }
  return nullptr;
}

// The settled records of `po_id` are one unbroken chain from `started` to `stopped`: seq 1..n,
// each period starting where the previous one ended, one final record and it is the last; the
// workload's declared burn is charged in full; the amount is the hand-worked price (each record's
// terms are rounded down to the micro-credit, so at most 8 per record below it); the PO is closed,
// the user paid exactly what was charged and holds nothing; the ledger balances.
void expect_settled_exactly(FaultyPlatform& f, const KeyPair& user, const std::string& po_id, TimeMs started,
                            TimeMs stopped) {
  const StatementView s = f.statement(user);
  const StatementPoView* po = find_po(s, po_id);
  ASSERT_NE(po, nullptr) << po_id;
  EXPECT_EQ(po->state, "closed");
  ASSERT_FALSE(po->records.empty());
  int64_t cpu_ns = 0;
  int64_t charged = 0;
  int finals = 0;
  TimeMs end = started;
  for (size_t i = 0; i < po->records.size(); ++i) {
    const auto& r = po->records[i];
    EXPECT_EQ(r.seq, static_cast<int64_t>(i + 1)) << "settled once each, in order, without gaps";
    EXPECT_EQ(r.period_start, end) << "record " << r.seq << " starts where the previous one ended";
    end = r.period_end;
    cpu_ns += r.used.cpu_ns;
    charged += r.charged;
    if (r.final) ++finals;
  }
  EXPECT_EQ(finals, 1);
  EXPECT_TRUE(po->records.back().final);
  EXPECT_EQ(end, stopped) << "the final record ends at the stop";
  const int64_t ran_ms = stopped - started;
  EXPECT_EQ(cpu_ns, kBurnMillicores * ran_ms * 1000) << "every metered nanosecond charged, none invented";
  const double want = kMicrosPerHour * static_cast<double>(ran_ms) / 3'600'000.0;
  EXPECT_LE(static_cast<double>(charged), want);
  EXPECT_GE(static_cast<double>(charged), want - 8.0 * static_cast<double>(po->records.size()));
  EXPECT_EQ(po->charged, charged);
  EXPECT_EQ(s.balance, kDeposit - charged);
  EXPECT_EQ(s.held, 0);
  auto check = f.p().corp().check_ledger();
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_TRUE(check->balanced);
  std::printf("%s: %zu records, %lld micro-credits charged for %lld ms, %.2f by hand\n", po_id.c_str(),
              po->records.size(), static_cast<long long>(charged), static_cast<long long>(ran_ms), want);
}

// The server's WAL holds every record of the session, all acknowledged, and the stored row is
// the session's final state.
void expect_server_state_settled(FaultyPlatform& f, const std::string& session, size_t records) {
  auto st = f.state();
  ASSERT_NE(st, nullptr);
  auto row = st->session(session);
  ASSERT_TRUE(row && *row) << "the session row is stored";
  EXPECT_EQ((*row)->state, "stopped");
  EXPECT_EQ((*row)->last_seq, static_cast<int64_t>(records));
  auto unacked = st->unacked_records(1000);
  ASSERT_TRUE(unacked);
  EXPECT_TRUE(unacked->empty()) << unacked->size() << " records never acknowledged";
  auto recs = st->records(session);
  ASSERT_TRUE(recs);
  EXPECT_EQ(recs->size(), records);
}

class SimFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(burner_image_dir().empty()); }
  TempDir t_;
};

TEST_F(SimFaultTest, TheServerSpeaksTheRatesThePricesAreWorkedFrom) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  auto info = f.server(f.p().admin_key()).api().call("GET", "/v1/info");
  ASSERT_TRUE(info);
  auto sheet = SignedDoc::from_json(info->value("price_sheet", Json::object()), kPriceSheetType);
  ASSERT_TRUE(sheet);
  auto prices = verify_price_sheet(*sheet);
  ASSERT_TRUE(prices);
  EXPECT_EQ(prices->rates.cpu_reserve_per_core_hour, kCpuReservePerCoreHour);
  EXPECT_EQ(prices->rates.cpu_use_per_core_hour, kCpuUsePerCoreHour);
  EXPECT_EQ(prices->rates.memory_reserve_per_gib_hour, kMemoryReservePerGibHour);
  EXPECT_EQ(prices->rates.memory_use_per_gib_hour, kMemoryUsePerGibHour);
  // Its disk and network rates add nothing: the burner reserves neither and moves no bytes.
  EXPECT_EQ(burner_manifest().resources.disk_bytes, 0);
  EXPECT_EQ(burner_manifest().resources.net_bps, 0);
}

// Path 1, admission (session_manager.cpp create: insert_session): a session the store cannot
// record is refused before anything starts, so nothing runs unbilled; the deployer closes the
// PO and the corp releases its hold. Once the disk has room again the same server accepts one.
TEST_F(SimFaultTest, ASessionTheStoreCannotRecordIsRefusedAndNothingIsCharged) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  f.vfs().arm_write_failure(0, SQLITE_FULL);
  const DeployOutcome refused = f.deploy(user);
  EXPECT_FALSE(refused.ok);
  // The server's disk is its operator's business: the user learns only that it failed inside.
  EXPECT_NE(refused.error.find("internal error (the service logged it as"), std::string::npos) << refused.error;
  EXPECT_EQ(refused.error.find("full"), std::string::npos) << refused.error;
  EXPECT_GT(f.vfs().faults(), 0);
  auto listed = f.server(user).sessions();
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty()) << "no session was invented";
  // Heartbeats (no writes) carry the server's checkpoint; the corp releases the closed PO's hold.
  f.p().advance(2 * kMinuteMs);
  f.vfs().reset();
  StatementView s = f.statement(user);
  const StatementPoView* po = find_po(s, refused.po_id);
  ASSERT_NE(po, nullptr) << refused.po_id;
  EXPECT_EQ(po->state, "closed");
  EXPECT_TRUE(po->records.empty());
  EXPECT_EQ(s.balance, kDeposit);
  EXPECT_EQ(s.held, 0);
  auto st = f.state();
  ASSERT_NE(st, nullptr);
  auto rows = st->sessions();
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows->empty());

  const DeployOutcome accepted = f.deploy(user);
  ASSERT_TRUE(accepted.ok) << accepted.error;
  auto row = st->session(accepted.session);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, "running");
}

// Path 2, the row of a session that started (create: save_row_locked after the sandbox started):
// the session runs, the failed save is logged and the row kept dirty; the next record retries
// it, so the stored row catches up and nothing is charged twice or lost.
TEST_F(SimFaultTest, ARunningSessionsRowTheStoreCannotSaveIsSavedByTheNextRound) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  // The admission's insert commits (fsync 0); the save of the running row fails (fsync 1 on).
  f.vfs().arm_sync_failure(1);
  const DeployOutcome o = f.deploy(user);
  ASSERT_TRUE(o.ok) << o.error;
  const TimeMs started = f.clock().now_ms();
  EXPECT_EQ(f.server_log().count("error", "cannot save its state (will retry)"), 1);
  auto st = f.state();
  ASSERT_NE(st, nullptr);
  auto row = st->session(o.session);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, "starting") << "the store is behind while its writes fail";
  f.p().advance(kChargingMs);  // the record fails too
  EXPECT_GE(f.server_log().count("error", "cannot write usage record"), 1);
  f.vfs().reset();
  f.p().advance(kChargingMs);
  row = st->session(o.session);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, "running");
  EXPECT_EQ((*row)->started_at, started);
  EXPECT_EQ((*row)->last_seq, 1) << "one record for both minutes";

  f.p().advance(3 * kChargingMs);
  auto stopped = f.server(user).stop_session(o.session);
  ASSERT_TRUE(stopped) << stopped.error().message;
  f.p().advance(10'000);
  expect_settled_exactly(f, user, o.po_id, started, stopped->stopped_at);
  expect_server_state_settled(f, o.session, 5);
}

// Path 3, periodic usage records (write_records: append_record): while the WAL cannot be
// written each round logs the failure and puts the usage back into the meter; the first record
// written after the outage covers it all, so the corp charges every nanosecond once.
TEST_F(SimFaultTest, UsageTheWalCannotRecordGoesIntoTheNextRecordAndIsChargedOnce) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  const DeployOutcome o = f.deploy(user);
  ASSERT_TRUE(o.ok) << o.error;
  const TimeMs started = f.clock().now_ms();
  f.p().advance(10 * kMinuteMs);
  const size_t before = find_po(f.statement(user), o.po_id)->records.size();
  EXPECT_EQ(before, 10u);

  f.vfs().arm_write_failure(0, SQLITE_IOERR_WRITE);
  f.p().advance(10 * kMinuteMs);
  EXPECT_EQ(f.server_log().count("error", "cannot write usage record"), 10);
  EXPECT_EQ(find_po(f.statement(user), o.po_id)->records.size(), before) << "nothing invented meanwhile";
  f.vfs().reset();
  f.p().advance(kMinuteMs);
  const StatementView s = f.statement(user);
  const auto& recs = find_po(s, o.po_id)->records;
  ASSERT_EQ(recs.size(), before + 1);
  EXPECT_EQ(recs.back().period_end - recs.back().period_start, 11 * kMinuteMs) << "the outage's usage is in it";

  f.p().advance(4 * kMinuteMs);
  auto stopped = f.server(user).stop_session(o.session);
  ASSERT_TRUE(stopped) << stopped.error().message;
  f.p().advance(10'000);
  expect_settled_exactly(f, user, o.po_id, started, stopped->stopped_at);
  expect_server_state_settled(f, o.session, before + 6);
}

// Path 4, the final record (finish_locked on stop; write_records retries it): a stop while the
// store is full still stops the workload and answers; the final record and the stopped row are
// logged as pending and retried every round; once the disk has room, the final record is written,
// settled once and the PO closes, charged up to the stop and not a millisecond beyond.
TEST_F(SimFaultTest, AFinalRecordTheStoreCannotWriteIsRetriedAndSettledOnce) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  const DeployOutcome o = f.deploy(user);
  ASSERT_TRUE(o.ok) << o.error;
  const TimeMs started = f.clock().now_ms();
  f.p().advance(10 * kMinuteMs + 30'000);

  f.vfs().arm_write_failure(0, SQLITE_FULL);
  auto stopped = f.server(user).stop_session(o.session);
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(stopped->state, "stopped");
  EXPECT_EQ(f.server_log().count("error", "cannot write final usage record (will retry)"), 1);
  EXPECT_GE(f.server_log().count("error", "cannot save its state (will retry)"), 1);
  f.p().advance(3 * kMinuteMs);
  EXPECT_EQ(f.server_log().count("error", "cannot write final usage record (will retry)"), 4) << "one retry a round";
  const StatementView pending = f.statement(user);
  EXPECT_EQ(find_po(pending, o.po_id)->state, "open");
  EXPECT_FALSE(find_po(pending, o.po_id)->records.back().final);

  f.vfs().reset();
  f.p().advance(kMinuteMs);
  expect_settled_exactly(f, user, o.po_id, started, stopped->stopped_at);
  expect_server_state_settled(f, o.session, 11);
  auto again = f.server(user).session(o.session);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->records, 11);
}

// Path 4, reached from the round instead (sample_all sees the workload exit by itself): the same
// pending final record, retried by the rounds, settled once up to the exit.
TEST_F(SimFaultTest, AFinalRecordOfAWorkloadThatExitedWhileTheStoreFailsIsRetriedAndSettledOnce) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  constexpr int64_t kRunsMs = 5 * kMinuteMs + 30'000;  // a multiple of the sample interval
  const DeployOutcome o = f.deploy(user, kRunsMs);
  ASSERT_TRUE(o.ok) << o.error;
  const TimeMs started = f.clock().now_ms();
  f.p().advance(5 * kMinuteMs);
  f.vfs().arm_write_failure(0, SQLITE_IOERR_WRITE);
  f.p().advance(kMinuteMs);  // the exit at 5:30, a retry at 6:00
  EXPECT_EQ(f.server_log().count("error", "cannot write final usage record (will retry)"), 2);
  auto seen = f.server(user).session(o.session);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->state, "stopped");
  EXPECT_EQ(seen->stopped_at, started + kRunsMs);
  f.p().advance(2 * kMinuteMs);
  EXPECT_EQ(f.server_log().count("error", "cannot write final usage record (will retry)"), 4) << "one retry a round";
  EXPECT_EQ(find_po(f.statement(user), o.po_id)->state, "open");
  f.vfs().reset();
  f.p().advance(kMinuteMs);
  expect_settled_exactly(f, user, o.po_id, started, started + kRunsMs);
  expect_server_state_settled(f, o.session, 6);
}

// Path 4b, the final record written but the row not saved (write_record_locked: append_record
// commits, update_session fails): the record is in the WAL, so it must not be written again --
// a second final record would make the corp refuse every later batch of this server ("after the
// final record"). Only the row is retried.
TEST_F(SimFaultTest, AFinalRecordWhoseRowCannotBeSavedIsNotWrittenTwice) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  const DeployOutcome o = f.deploy(user);
  ASSERT_TRUE(o.ok) << o.error;
  const TimeMs started = f.clock().now_ms();
  f.p().advance(2 * kMinuteMs + 30'000);
  // The stop's commits: the "stopping" row (fsync 0), the final record (1), then the row with
  // the record's totals (2) and the stopped row (3), which fail.
  f.vfs().arm_sync_failure(2);
  auto stopped = f.server(user).stop_session(o.session);
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_GT(f.vfs().faults(), 0);
  EXPECT_EQ(f.server_log().count("error", "cannot write final usage record"), 0) << "it was written";
  EXPECT_GE(f.server_log().count("error", "cannot save its state (will retry)"), 1);
  f.vfs().reset();
  f.p().advance(3 * kMinuteMs);
  EXPECT_EQ(f.server_log().count("warning", "usage records not delivered"), 0);
  expect_settled_exactly(f, user, o.po_id, started, stopped->stopped_at);
  expect_server_state_settled(f, o.session, 3);
}

// Path 5, acknowledgements (ChargingAgent::flush: ack_records after the corp charged): the corp
// settled the records but the server cannot mark them acknowledged; the failure is logged, the
// records stay in the WAL and are resent every round; the corp answers "duplicate" and charges
// nothing again; once the store recovers they leave the WAL.
TEST_F(SimFaultTest, RecordsTheCorpChargedButTheServerCannotAcknowledgeAreResentNotChargedTwice) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  const DeployOutcome o = f.deploy(user);
  ASSERT_TRUE(o.ok) << o.error;
  const TimeMs started = f.clock().now_ms();
  f.p().advance(5 * kMinuteMs);
  // The corp is unreachable while the next record is written, so it is in the WAL, unsent...
  f.p().network()->set_reachable(f.p().corp_url(), false);
  f.p().advance(kMinuteMs);
  auto st = f.state();
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->unacked_records(1000)->size(), 1u);
  // ...and reaches it when the server's store can no longer be written: charged, not acknowledged.
  f.p().network()->set_reachable(f.p().corp_url(), true);
  f.vfs().arm_write_failure(0, SQLITE_IOERR_WRITE);
  f.p().advance(5'000);
  EXPECT_EQ(find_po(f.statement(user), o.po_id)->records.size(), 6u);
  EXPECT_EQ(st->unacked_records(1000)->size(), 1u);
  EXPECT_GE(f.server_log().count("error", "acknowledged"), 1) << "the failed write is logged at error";
  f.p().advance(30'000);  // resent every round, a duplicate each time
  EXPECT_EQ(find_po(f.statement(user), o.po_id)->records.size(), 6u);
  f.vfs().reset();
  f.p().advance(5'000);
  EXPECT_TRUE(st->unacked_records(1000)->empty());

  f.p().advance(2 * kMinuteMs);
  auto stopped = f.server(user).stop_session(o.session);
  ASSERT_TRUE(stopped) << stopped.error().message;
  f.p().advance(10'000);
  expect_settled_exactly(f, user, o.po_id, started, stopped->stopped_at);
}

// Path 6, the corp's settlement (ClearingHouse::settle_usage: one transaction per batch): a
// commit that fails -- writes refused, or its fsync failing after the frames reached the log --
// applies none of the batch and the server is told so; the server keeps the records and resends
// them; the corp charges each exactly once.
TEST_F(SimFaultTest, ABatchTheCorpCannotCommitIsResentAndChargedOnce) {
  FaultyPlatform f(t_, Faulty::kCorp);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  const DeployOutcome o = f.deploy(user);
  ASSERT_TRUE(o.ok) << o.error;
  const TimeMs started = f.clock().now_ms();
  f.p().advance(5 * kMinuteMs);
  ASSERT_EQ(find_po(f.statement(user), o.po_id)->records.size(), 5u);

  auto st = f.state();
  ASSERT_NE(st, nullptr);
  for (const bool failed_sync : {false, true}) {
    SCOPED_TRACE(failed_sync ? "failed fsync" : "failed writes");
    if (failed_sync) {
      f.vfs().arm_sync_failure(0);
    } else {
      f.vfs().arm_write_failure(0, SQLITE_IOERR_WRITE);
    }
    f.p().advance(3 * kMinuteMs);
    EXPECT_GT(f.vfs().faults(), 0);
    EXPECT_EQ(st->unacked_records(1000)->size(), 3u) << "kept for the retry";
    f.vfs().reset();
    EXPECT_EQ(find_po(f.statement(user), o.po_id)->records.size(), failed_sync ? 8u : 5u) << "none applied";
    f.p().advance(5'000);
    EXPECT_TRUE(st->unacked_records(1000)->empty());
    EXPECT_EQ(find_po(f.statement(user), o.po_id)->records.size(), failed_sync ? 11u : 8u);
  }
  EXPECT_GE(f.server_log().count("warning", "usage records not delivered"), 1);

  f.p().advance(2 * kMinuteMs);
  auto stopped = f.server(user).stop_session(o.session);
  ASSERT_TRUE(stopped) << stopped.error().message;
  f.p().advance(10'000);
  expect_settled_exactly(f, user, o.po_id, started, stopped->stopped_at);
  expect_server_state_settled(f, o.session, 14);
}

// A server restarted in the middle of a session (its workload keeps running, as a container
// outlives the server process), the second time with records the corp has not acknowledged in its
// WAL: each new incarnation re-adopts the session, the pending records are resent, and every
// record is settled exactly once, the chain unbroken across both restarts.
TEST_F(SimFaultTest, AServerRestartedMidSessionReadoptsItAndSettlesEveryRecordOnce) {
  FaultyPlatform f(t_, Faulty::kServerState);
  ASSERT_TRUE(f.ok());
  const KeyPair user = f.funded_user();
  const DeployOutcome o = f.deploy(user);
  ASSERT_TRUE(o.ok) << o.error;
  const TimeMs started = f.clock().now_ms();
  f.p().advance(2 * kMinuteMs + 10'000);
  ASSERT_TRUE(f.p().restart_server(0));
  f.p().advance(2 * kMinuteMs);
  // The corp goes away: the next records wait in the WAL, unacknowledged, across the restart.
  f.p().network()->set_reachable(f.p().corp_url(), false);
  f.p().advance(2 * kMinuteMs);
  {
    auto st = f.state();
    ASSERT_NE(st, nullptr);
    auto pending = st->unacked_records(1000);
    ASSERT_TRUE(pending);
    EXPECT_GE(pending->size(), 2u) << "records written while the corp was away";
  }
  f.p().network()->set_reachable(f.p().corp_url(), true);
  ASSERT_TRUE(f.p().restart_server(0));
  auto listed = f.server(user).sessions();
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().state, "running") << "re-adopted, not lost";
  f.p().advance(kMinuteMs);
  auto stopped = f.server(user).stop_session(o.session);
  ASSERT_TRUE(stopped) << stopped.error().message;
  f.p().advance(3 * kMinuteMs);
  expect_settled_exactly(f, user, o.po_id, started, stopped->stopped_at);
  const StatementPoView* po = find_po(f.statement(user), o.po_id);
  ASSERT_NE(po, nullptr);
  EXPECT_GE(po->records.size(), 7u);
  expect_server_state_settled(f, o.session, po->records.size());
}

}  // namespace
}  // namespace xop
