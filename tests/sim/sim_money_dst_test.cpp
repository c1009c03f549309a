// Deterministic simulation of the money path (docs/testing.md, "Deterministic simulation"): per
// seed, one server runs one session on the simulated platform while the link to the corp drops
// requests, drops answers (the corp settled, the server never heard), duplicates requests and
// delivers late copies out of order, and the server and the corp restart at random steps. After
// every step: the ledger balances, no money is created or lost (the user's balance, holds and
// charges sum to the deposit), and every usage record the server wrote is settled exactly once or
// still pending in the server's WAL, and every settled record is one the server wrote. At the end
// the link heals and the session stops: every record is settled once, in an unbroken chain, the
// declared burn is charged in full at the hand-worked price, nothing stays held. A failure names
// its seed; XOP_DST_SEED=N runs only that one (XOP_DST_SEEDS=K sets the seeds per shard).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "client/corp_client.h"
#include "client/server_client.h"
#include "corp/corp_service.h"
#include "deploy/deployer.h"
#include "server/burner_image.h"
#include "server/state_store.h"
#include "sim/platform.h"
#include "sim/sim_network.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::TempDir;

constexpr int kShards = 4;
constexpr int kSeedsPerShard = 250;  // 1,000 seeds in all
constexpr int kSteps = 24;
constexpr int64_t kBurnMillicores = 250;
constexpr int64_t kDeposit = 20'000'000;
// One hour of the burner on server 1 at the base dev rates, by hand (as in sim_fault_test.cpp):
// 0.5 core reserved x 1.8/h + 64 MiB x 0.36/GiB-h + 0.25 core used x 3.6/h + 1 MiB x 0.036/GiB-h.
constexpr double kMicrosPerHour = 900'000 + 22'500 + 900'000 + 35.15625;

std::string burner_image_dir() {
  static const TempDir* dir = new TempDir();
  static const std::string image = [] {
    const std::string d = dir->file("image");
    EXPECT_FALSE(testing::build_burner_image(d).empty()) << "scripts/build-image failed";
    return d;
  }();
  return image;
}

DeployManifest burner_manifest() {
  DeployManifest m;
  m.name = "dst-burner";
  m.image = burner_image_dir();
  m.command = {"/bin/sh", "-c", "exec burn"};
  m.env = {{"XOP_SIM_CPU_MILLICORES", std::to_string(kBurnMillicores)},
           {"XOP_SIM_MEMORY_BYTES", std::to_string(int64_t{1} << 20)}};
  m.resources.cpu_millis = 500;
  m.resources.memory_bytes = int64_t{64} << 20;
  m.count = 1;
  m.budget = Money::micros(5'000'000);
  return m;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// One seed's run; `failure` is empty when every check held.
struct DstRun {
  std::string failure;
  FaultCounts faults;
  int server_restarts = 0;
  int corp_restarts = 0;
  size_t late_copies = 0;
  size_t records = 0;
};

class DstScenario {
 public:
  DstScenario(const std::string& dir, uint64_t seed) : dir_(dir), seed_(seed), rng_(seed * 0x9E3779B97F4A7C15ULL) {}

  DstRun run() {
    DstRun out;
    out.failure = drive(out);
    if (platform_) {
      if (auto* net = platform_->network()) out.faults = net->fault_counts();
      platform_->stop();
    }
    return out;
  }

 private:
  std::string drive(DstRun& out) {
    PlatformOptions o;
    o.data_dir = dir_ + "/platform";
    o.servers = 1;
    o.sim_clock = &clock_;
    o.seed = seed_;
    o.sample_interval_ms = 5'000;
    o.charging_interval_ms = 30'000;
    o.advert_interval_ms = 30'000;
    o.stop_grace_ms = 10'000;
    auto p = Platform::start(o);
    if (!p) return "platform: " + p.error().to_string();
    platform_ = std::move(*p);
    Platform& pf = *platform_;

    user_ = pf.new_key();
    auto corp = CorpClient::connect(pf.corp_url(), user_, clock_, pf.connector());
    auto admin = CorpClient::connect(pf.corp_url(), pf.admin_key(), clock_, pf.connector());
    if (!corp || !admin) return "corp client";
    if (!corp->register_account(RegisterAccountRequest{AccountKind::kUser, "dst", std::nullopt})) return "register";
    if (!admin->deposit(DepositRequest{user_.account_id(), kDeposit, "dst"})) return "deposit";
    Deployer d(user_, pf.corp_url(), pf.xis_url(), dir_ + "/scratch", clock_);
    d.set_connector(pf.connector());
    auto r = d.deploy(burner_manifest(), nullptr);
    if (!r || r->outcomes.size() != 1 || !r->outcomes[0].ok) return "deploy failed";
    po_id_ = r->outcomes[0].po_id;
    session_ = r->outcomes[0].session;
    const TimeMs started = clock_.now_ms();

    // This seed's weather on the link to the corp.
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const LinkFaults weather{0.3 * u(rng_), 0.3 * u(rng_), 0.2 * u(rng_), 0.2 * u(rng_)};
    auto storm = [&](uint64_t salt) { return pf.network()->set_faults(pf.corp_url(), weather, seed_ * 31 + salt); };
    if (!storm(0)) return "set_faults";
    for (int step = 0; step < kSteps; ++step) {
      pf.advance(std::uniform_int_distribution<int64_t>(5'000, 45'000)(rng_));
      const double action = u(rng_);
      if (action < 0.08) {
        // A server restart (it registers with the corp, so the link is calm for it).
        if (!pf.network()->set_faults(pf.corp_url(), LinkFaults{}, 0)) return "calm";
        if (auto s = pf.restart_server(0); !s) return "restart_server: " + s.error().to_string();
        ++out.server_restarts;
        if (!storm(step + 1)) return "set_faults";
      } else if (action < 0.14) {
        if (auto s = pf.restart_corp(); !s) return "restart_corp: " + s.error().to_string();
        ++out.corp_restarts;
      } else if (action < 0.30) {
        out.late_copies += pf.network()->deliver_late(pf.corp_url());
      }
      if (auto why = check_invariants(false); !why.empty()) return "step " + std::to_string(step) + ": " + why;
    }

    // The weather clears; the user stops the session; the final records go through.
    if (!pf.network()->set_faults(pf.corp_url(), LinkFaults{}, 0)) return "calm";
    out.late_copies += pf.network()->deliver_late(pf.corp_url());
    auto server = ServerClient::connect(pf.servers()[0].url, user_, clock_, pf.connector());
    if (!server) return "server client";
    auto stopped = server->stop_session(session_);
    if (!stopped) return "stop: " + stopped.error().to_string();
    pf.advance(2 * 60'000);
    out.late_copies += pf.network()->deliver_late(pf.corp_url());  // copies after the close change nothing
    pf.advance(60'000);
    if (auto why = check_invariants(true); !why.empty()) return "after the stop: " + why;
    if (auto why = check_final(started, stopped->stopped_at, out); !why.empty()) return why;
    return "";
  }

  Result<Statement> statement() {
    return platform_->corp().clearing_house().statement(Caller{user_.public_key(), ""}, user_.account_id(),
                                                        clock_.now_ms());
  }

  // Checked after every step; `settled` requires nothing pending.
  std::string check_invariants(bool settled) {
    auto check = platform_->corp().clearing_house().check_ledger(clock_.now_ms());
    if (!check) return "ledger check: " + check.error().message;
    if (!check->balanced || !check->problems.empty()) return "the ledger does not balance";
    auto s = statement();
    if (!s) return "statement: " + s.error().message;
    int64_t charged = 0;
    std::map<int64_t, UsageRecord> at_corp;
    for (const auto& po : s->purchase_orders) {
      charged += po.po.charged;
      if (po.po.po_id != po_id_) continue;
      for (const auto& rec : po.records) {
        if (!at_corp.emplace(rec.record.seq, rec.record).second) {
          return "record " + std::to_string(rec.record.seq) + " settled twice";
        }
      }
    }
    if (s->balance + s->held + charged != kDeposit) {
      std::ostringstream m;
      m << "money created or lost: balance " << s->balance << " + held " << s->held << " + charged " << charged
        << " != deposit " << kDeposit;
      return m.str();
    }
    auto store = StateStore::open(dir_ + "/platform/servers/1/state.db");
    if (!store) return "state store: " + store.error().message;
    auto written = (*store)->records(session_);
    auto pending = (*store)->unacked_records(100'000);
    if (!written || !pending) return "state store read";
    std::set<int64_t> unacked;
    for (const auto& r : *pending) unacked.insert(r.seq);
    std::set<int64_t> on_server;
    for (const auto& r : *written) {
      on_server.insert(r.seq);
      auto it = at_corp.find(r.seq);
      if (it == at_corp.end()) {
        if (unacked.count(r.seq) == 0) return "record " + std::to_string(r.seq) + " neither settled nor pending";
        continue;
      }
      if (it->second.period_end != r.period_end || it->second.amount.micros() != r.amount.micros()) {
        return "record " + std::to_string(r.seq) + " settled with other content than the server wrote";
      }
    }
    for (const auto& [seq, rec] : at_corp) {
      if (on_server.count(seq) == 0) return "record " + std::to_string(seq) + " settled but never written";
    }
    if (settled && !unacked.empty()) return std::to_string(unacked.size()) + " record(s) still pending";
    return "";
  }

  std::string check_final(TimeMs started, TimeMs stopped, DstRun& out) {
    auto s = statement();
    if (!s) return "statement";
    const PoStatement* po = nullptr;
    for (const auto& p : s->purchase_orders) {
      if (p.po.po_id == po_id_) po = &p;
    }
    if (po == nullptr || po->records.empty()) return "no settled records";
    out.records = po->records.size();
    TimeMs end = started;
    int64_t cpu_ns = 0;
    int64_t charged = 0;
    int finals = 0;
    for (size_t i = 0; i < po->records.size(); ++i) {
      const UsageRecord& r = po->records[i].record;
      if (r.seq != static_cast<int64_t>(i + 1)) return "records not 1..n";
      if (r.period_start != end) return "record " + std::to_string(r.seq) + " does not start where the last ended";
      end = r.period_end;
      cpu_ns += r.used.cpu_ns;
      charged += po->records[i].charged;
      finals += r.final ? 1 : 0;
    }
    if (finals != 1 || !po->records.back().record.final) return "not exactly one final record, last";
    if (end != stopped) return "the chain does not end at the stop";
    const int64_t ran_ms = stopped - started;
    if (cpu_ns != kBurnMillicores * ran_ms * 1000) return "the declared burn is not what was charged for";
    const double want = kMicrosPerHour * static_cast<double>(ran_ms) / 3'600'000.0;
    if (static_cast<double>(charged) > want || static_cast<double>(charged) < want - 8.0 * po->records.size()) {
      return "charged " + std::to_string(charged) + ", by hand " + std::to_string(want);
    }
    if (po->po.charged != charged) return "the PO's charge is not its records' sum";
    if (s->held != 0) return "credits still held after the close";
    if (s->balance != kDeposit - charged) return "the user did not pay exactly what was charged";
    return "";
  }

  std::string dir_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  SimulatedClock clock_;
  std::unique_ptr<Platform> platform_;
  KeyPair user_ = KeyPair::generate();
  std::string po_id_;
  std::string session_;
};

class MoneyPathDst : public ::testing::TestWithParam<int> {};

TEST_P(MoneyPathDst, EveryRecordIsSettledExactlyOnceWhateverTheNetworkAndRestartsDo) {
  ASSERT_FALSE(burner_image_dir().empty());
  const int per_shard = env_int("XOP_DST_SEEDS", kSeedsPerShard);
  const int only = env_int("XOP_DST_SEED", 0);
  FaultCounts total;
  int runs = 0;
  int restarts = 0;
  int corp_restarts = 0;
  size_t late = 0;
  size_t records = 0;
  for (int k = 0; k < per_shard; ++k) {
    const uint64_t seed =
        only != 0 ? static_cast<uint64_t>(only) : static_cast<uint64_t>(GetParam() * per_shard + k + 1);
    if (only != 0 && (GetParam() != 0 || k > 0)) break;
    TempDir t;
    const DstRun r = DstScenario(t.path(), seed).run();
    ASSERT_EQ(r.failure, "") << "seed " << seed << " (replay: XOP_DST_SEED=" << seed
                             << " build/tests/xop_test_sim --gtest_filter='*MoneyPathDst*')";
    ++runs;
    total.dropped_requests += r.faults.dropped_requests;
    total.dropped_answers += r.faults.dropped_answers;
    total.duplicated += r.faults.duplicated;
    total.delayed += r.faults.delayed;
    restarts += r.server_restarts;
    corp_restarts += r.corp_restarts;
    late += r.late_copies;
    records += r.records;
  }
  std::printf(
      "%d seeds: %zu records settled; %llu requests dropped, %llu answers dropped, %llu duplicated, %llu "
      "delayed (%zu late copies delivered); %d server and %d corp restarts\n",
      runs, records, static_cast<unsigned long long>(total.dropped_requests),
      static_cast<unsigned long long>(total.dropped_answers), static_cast<unsigned long long>(total.duplicated),
      static_cast<unsigned long long>(total.delayed), late, restarts, corp_restarts);
  // The faults really happened (a harness that injects nothing proves nothing).
  if (only == 0 && per_shard >= 20) {
    EXPECT_GT(total.dropped_requests, 0u);
    EXPECT_GT(total.dropped_answers, 0u);
    EXPECT_GT(total.duplicated, 0u);
    EXPECT_GT(late, 0u);
    EXPECT_GT(restarts, 0);
    EXPECT_GT(corp_restarts, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, MoneyPathDst, ::testing::Range(0, kShards));

}  // namespace
}  // namespace xop
