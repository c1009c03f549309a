// Recovery from kill -9 of a real daemon: `xop corp` (or `xop server`) is killed (SIGKILL, no
// shutdown path) while the server streams usage batches for several running runc sessions, and
// restarted on the same data. Every usage record the server wrote must end up settled exactly
// once, with the amount the server computed, and no money may be created or lost. When the server
// is the one killed, its sessions must keep running through the outage and be re-adopted, and the
// CPU they are charged must match what the workloads burned by their own count.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "deploy/deployer.h"
#include "integration/process_platform.h"
#include "server/state_store.h"

namespace xop::testing {
namespace {

using std::chrono::seconds;

class CrashRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    ProcessPlatformOptions o;
    o.servers = 1;
    o.charging_interval_ms = 200;  // a batch every 200 ms per session: a storm of settlements
    o.sample_interval_ms = 100;
    platform_ = std::make_unique<ProcessPlatform>(o);
    const std::string err = platform_->start();
    ASSERT_TRUE(err.empty()) << err;
  }

  // The number of usage records the server wrote for each session (its last seq). The one server's
  // current URL: a restarted server listens on a new port.
  std::map<std::string, int64_t> server_records(const KeyPair& user, const std::vector<DeployOutcome>& out) {
    std::map<std::string, int64_t> n;
    for (const auto& o : out) {
      auto server = ApiClient::connect(platform_->server_urls()[0], user);
      auto r = server->call("GET", "/v1/sessions/" + o.session);
      n[o.session] = r ? r->value("session", Json::object()).value("records", int64_t{0}) : 0;
    }
    return n;
  }

  // What the corp has charged on each purchase order; -1 when the corp does not answer.
  std::map<std::string, int64_t> corp_charged(const KeyPair& user, const std::vector<DeployOutcome>& out) {
    std::map<std::string, int64_t> c;
    auto corp = ApiClient::connect(platform_->corp_url(), user);
    for (const auto& o : out) {
      auto r = corp->call("GET", "/v1/purchase-orders/" + o.po_id);
      c[o.po_id] = r ? r->value("charged_micros", int64_t{0}) : -1;
    }
    return c;
  }

  // `n` sessions of `m`, one deploy each (a deployment spreads its sessions over servers); fewer
  // when one failed (reported).
  std::vector<DeployOutcome> deploy_each(const KeyPair& user, const DeployManifest& m, int n) {
    Deployer d(user, platform_->corp_url(), platform_->xis_url(), platform_->dir().file("scratch"));
    std::vector<DeployOutcome> out;
    for (int i = 0; i < n; ++i) {
      auto deployed = d.deploy(m, nullptr);
      if (!deployed || deployed->outcomes.size() != 1 || !deployed->outcomes[0].ok) {
        ADD_FAILURE() << (deployed ? (deployed->outcomes.empty() ? "no outcome" : deployed->outcomes[0].error)
                                   : deployed.error().message)
                      << "\n"
                      << platform_->logs();
        break;
      }
      out.push_back(deployed->outcomes[0]);
    }
    return out;
  }

  // Waits until the corp says every session's purchase order is closed (its final record settled).
  void expect_all_closed(const KeyPair& user, const std::vector<DeployOutcome>& out) {
    auto corp = ApiClient::connect(platform_->corp_url(), user);
    for (const auto& o : out) {
      EXPECT_TRUE(poll_until(
          [&] {
            auto r = corp->call("GET", "/v1/purchase-orders/" + o.po_id);
            return r && r->value("state", "") == "closed";
          },
          seconds(30)))
          << o.po_id << "\n"
          << platform_->logs();
    }
  }

  std::unique_ptr<ProcessPlatform> platform_;
};

TEST_F(CrashRecoveryTest, CorpKilledDuringSettlementStormSettlesEveryRecordExactlyOnce) {
  constexpr int kSessions = 4;
  constexpr int64_t kDeposit = 100'000'000;
  const KeyPair user = platform_->new_user("storm", kDeposit / 1'000'000);
  DeployManifest m;
  m.name = "storm";
  m.image = std::string(XOP_BUILD_DIR) + "/images/burner";
  m.command = {"/bin/sh", "-c", "trap 'exit 0' TERM; while :; do :; done"};
  m.resources.cpu_millis = 250;
  m.resources.memory_bytes = 32LL << 20;
  m.count = 1;
  m.budget = Money::micros(5'000'000);
  const std::vector<DeployOutcome> out = deploy_each(user, m, kSessions);
  ASSERT_EQ(out.size(), static_cast<size_t>(kSessions));

  for (int round = 0; round < 3; ++round) {
    // Settlement is flowing for every session: the corp charged more on every PO than before.
    const auto before = corp_charged(user, out);
    ASSERT_TRUE(poll_until(
        [&] {
          const auto now = corp_charged(user, out);
          for (const auto& [po, c] : now) {
            if (c <= before.at(po)) return false;
          }
          return true;
        },
        seconds(30)))
        << "round " << round << "\n"
        << platform_->logs();
    const std::string killed = platform_->kill_corp();
    ASSERT_TRUE(killed.empty()) << killed;
    // While the corp is dead, every session goes on writing records the corp has not seen.
    const auto at_kill = server_records(user, out);
    ASSERT_TRUE(poll_until(
        [&] {
          for (const auto& [s, n] : server_records(user, out)) {
            if (n < at_kill.at(s) + 2) return false;
          }
          return true;
        },
        seconds(30)))
        << platform_->logs();
    const std::string restarted = platform_->restart_corp();
    ASSERT_TRUE(restarted.empty()) << restarted;
  }

  // Stop every session; each PO closes once its final record is settled.
  for (const auto& o : out) {
    auto server = ApiClient::connect(o.endpoint, user);
    auto r = server->call("DELETE", "/v1/sessions/" + o.session);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  auto corp = ApiClient::connect(platform_->corp_url(), user);
  expect_all_closed(user, out);
  auto store = StateStore::open(platform_->dir().file("server0") + "/state.db");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  ASSERT_TRUE(poll_until(
      [&] {
        auto pending = (*store)->unacked_records(1);
        return pending && pending->empty();
      },
      seconds(30)))
      << "the server still has unsettled records\n"
      << platform_->logs();

  // Every record the server wrote is on the statement exactly once, with the server's amount.
  auto st = corp->call("GET", "/v1/statements/" + user.account_id());
  ASSERT_TRUE(st.has_value()) << st.error().message;
  int64_t total = 0;
  for (const auto& o : out) {
    auto recs = (*store)->records(o.session);
    ASSERT_TRUE(recs.has_value()) << recs.error().message;
    ASSERT_GE(recs->size(), 8u) << o.session;  // at least 2 per outage, 3 outages, plus the rest
    EXPECT_TRUE(recs->back().final) << o.session;
    const Json* po = nullptr;
    for (const auto& p : (*st)["purchase_orders"]) {
      if (p.value("po_id", "") == o.po_id) po = &p;
    }
    ASSERT_NE(po, nullptr) << o.po_id << "\n" << st->dump();
    std::map<int64_t, std::vector<Json>> settled;
    for (const auto& r : (*po)["records"]) settled[r.value("seq", int64_t{0})].push_back(r);
    EXPECT_EQ(settled.size(), recs->size()) << o.session;
    int64_t po_total = 0;
    for (size_t i = 0; i < recs->size(); ++i) {
      const UsageRecord& r = (*recs)[i];
      EXPECT_EQ(r.seq, static_cast<int64_t>(i) + 1) << o.session;
      auto it = settled.find(r.seq);
      ASSERT_NE(it, settled.end()) << o.session << " seq " << r.seq << " never settled";
      ASSERT_EQ(it->second.size(), 1u) << o.session << " seq " << r.seq << " settled more than once";
      const Json& c = it->second[0];
      EXPECT_EQ(c.value("amount_micros", int64_t{-1}), r.amount.micros()) << o.session << " seq " << r.seq;
      EXPECT_EQ(c.value("charged_micros", int64_t{-1}), r.amount.micros()) << o.session << " seq " << r.seq;
      EXPECT_EQ(c.value("used", Json::object()).value("cpu_ns", int64_t{-1}), r.used.cpu_ns) << r.seq;
      po_total += r.amount.micros();
    }
    EXPECT_EQ(po->value("charged_micros", int64_t{-1}), po_total) << o.po_id;
    EXPECT_GT(po_total, 0);
    total += po_total;
  }

  // No money created or lost: the user paid exactly what the owner earned, nothing stays held.
  EXPECT_EQ(st->value("balance_micros", int64_t{-1}), kDeposit - total) << st->dump();
  EXPECT_EQ(st->value("held_micros", int64_t{-1}), 0);
  auto owner = ApiClient::connect(platform_->corp_url(), platform_->owner());
  auto os = owner->call("GET", "/v1/statements/" + platform_->owner().account_id());
  ASSERT_TRUE(os.has_value()) << os.error().message;
  EXPECT_EQ(os->value("balance_micros", int64_t{-1}), total) << os->dump();
  auto admin = ApiClient::connect(platform_->corp_url(), platform_->admin());
  auto check = admin->call("GET", "/v1/ledger/check");
  ASSERT_TRUE(check.has_value()) << check.error().message;
  EXPECT_TRUE(check->value("balanced", false)) << check->dump();
  EXPECT_EQ(check->value("total_micros", int64_t{-1}), 0) << check->dump();
}

// Burns until the shell's own utime+stime (USER_HZ ticks, /proc/<pid>/stat fields 14 and 15) reach
// 3 s, with builtins only (no child whose CPU would escape the count), then exits 0: the ground
// truth the meter is checked against.
constexpr const char* kBurn3sScript =
    "while :; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; read -r l < /proc/$$/stat; set -- $l; "
    "[ $((${14}+${15})) -ge 300 ] && exit 0; done";
constexpr int64_t kBurnNs = 3'000'000'000;

TEST_F(CrashRecoveryTest, ServerKilledAtRandomMomentsKeepsItsSessionsAndChargesWhatTheyBurnedOnce) {
  constexpr int kSessions = 3;
  constexpr int64_t kDeposit = 100'000'000;
  std::random_device rd;
  const unsigned seed = rd();
  std::mt19937 rng(seed);
  std::printf("kill moments seeded with %u\n", seed);
  const KeyPair user = platform_->new_user("storm", kDeposit / 1'000'000);
  DeployManifest m;
  m.name = "burn3";
  m.image = std::string(XOP_BUILD_DIR) + "/images/burner";
  m.command = {"/bin/sh", "-c", kBurn3sScript};
  m.resources.cpu_millis = 300;  // 3 CPU-seconds take about 10 s of wall time
  m.resources.memory_bytes = 32LL << 20;
  m.count = 1;
  m.budget = Money::micros(5'000'000);
  const std::vector<DeployOutcome> out = deploy_each(user, m, kSessions);
  ASSERT_EQ(out.size(), static_cast<size_t>(kSessions));
  auto session = [&](const DeployOutcome& o) {
    auto server = ApiClient::connect(platform_->server_urls()[0], user);
    auto r = server->call("GET", "/v1/sessions/" + o.session);
    return r ? r->value("session", Json::object()) : Json::object();
  };
  std::map<std::string, int64_t> started_at;
  for (const auto& o : out) started_at[o.session] = session(o).value("started_at", int64_t{0});

  for (int round = 0; round < 3; ++round) {
    // A random moment: after 1 to 6 more records of the first session (records every 200 ms).
    const int64_t more = std::uniform_int_distribution<int64_t>(1, 6)(rng);
    const int64_t base = server_records(user, out).at(out[0].session);
    ASSERT_TRUE(poll_until([&] { return server_records(user, out).at(out[0].session) >= base + more; }, seconds(30)))
        << "round " << round << "\n"
        << platform_->logs();
    const std::string restarted = platform_->restart_server(0);  // kill -9, then a new process
    ASSERT_TRUE(restarted.empty()) << restarted;
    for (const auto& o : out) {
      const Json s = session(o);
      // Re-adopted, not restarted: the same session, still running (or finished by its own burn).
      EXPECT_EQ(s.value("started_at", int64_t{-1}), started_at[o.session]) << s.dump();
      EXPECT_TRUE(s.value("state", "") == "running" || s.value("exit_code", Json()) == 0) << s.dump();
    }
  }

  // Each workload finishes its own burn: exit code 0, never restarted, never killed.
  for (const auto& o : out) {
    Json s;
    ASSERT_TRUE(poll_until(
        [&] {
          s = session(o);
          return s.value("state", "") == "stopped";
        },
        seconds(60)))
        << s.dump() << "\n"
        << platform_->logs();
    EXPECT_EQ(s.value("exit_code", Json()), 0) << s.dump();
  }
  auto corp = ApiClient::connect(platform_->corp_url(), user);
  expect_all_closed(user, out);

  auto store = StateStore::open(platform_->dir().file("server0") + "/state.db");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto st = corp->call("GET", "/v1/statements/" + user.account_id());
  ASSERT_TRUE(st.has_value()) << st.error().message;
  int64_t total = 0;
  for (const auto& o : out) {
    auto recs = (*store)->records(o.session);
    ASSERT_TRUE(recs.has_value()) << recs.error().message;
    ASSERT_FALSE(recs->empty());
    EXPECT_TRUE(recs->back().final) << o.session;
    const Json* po = nullptr;
    for (const auto& p : (*st)["purchase_orders"]) {
      if (p.value("po_id", "") == o.po_id) po = &p;
    }
    ASSERT_NE(po, nullptr) << o.po_id << "\n" << st->dump();
    std::map<int64_t, int> times_settled;
    for (const auto& r : (*po)["records"]) ++times_settled[r.value("seq", int64_t{0})];
    int64_t cpu_ns = 0;
    int64_t po_total = 0;
    for (size_t i = 0; i < recs->size(); ++i) {
      const UsageRecord& r = (*recs)[i];
      EXPECT_EQ(r.seq, static_cast<int64_t>(i) + 1) << o.session << ": a record was lost or written twice";
      EXPECT_EQ(times_settled[r.seq], 1) << o.session << " seq " << r.seq;
      cpu_ns += r.used.cpu_ns;
      po_total += r.amount.micros();
    }
    EXPECT_EQ(times_settled.size(), recs->size()) << o.session << ": the corp settled records the server never wrote";
    EXPECT_EQ(po->value("charged_micros", int64_t{-1}), po_total) << o.po_id;
    total += po_total;
    // Ground truth: the workload's own count says 3 s (tick-granular: 10 ms); the meter adds the
    // shell's start. Within 2 %, across three kills of the server.
    std::printf("%s: burned 3.000 s by its own count, charged for %.3f s in %zu records\n", o.session.c_str(),
                static_cast<double>(cpu_ns) / 1e9, recs->size());
    EXPECT_GE(cpu_ns, kBurnNs - 20'000'000) << o.session;
    EXPECT_LE(cpu_ns, kBurnNs + kBurnNs / 50) << o.session;
  }
  EXPECT_EQ(st->value("balance_micros", int64_t{-1}), kDeposit - total) << st->dump();
  EXPECT_EQ(st->value("held_micros", int64_t{-1}), 0);
  auto admin = ApiClient::connect(platform_->corp_url(), platform_->admin());
  auto check = admin->call("GET", "/v1/ledger/check");
  ASSERT_TRUE(check.has_value()) << check.error().message;
  EXPECT_TRUE(check->value("balanced", false)) << check->dump();
}

}  // namespace
}  // namespace xop::testing
