// Memory metering against ground truth, through the whole platform with real processes and real
// runc: a session that holds exactly N MiB (a file of N MiB on its /dev/shm, a tmpfs charged to the
// session's memory) for T seconds is charged N MiB x T more memory-seconds than a twin that holds
// nothing for the same time, within 2 %. The truth is what the workload did (dd of N MiB, sleep
// T), not the counter the meter reads. Root only; skipped with the reason otherwise.
#include <gtest/gtest.h>

#include <cstdio>

#include "deploy/deployer.h"
#include "integration/process_platform.h"
#include "server/state_store.h"

namespace xop::testing {
namespace {

using std::chrono::seconds;

TEST(MemoryMeteringTest, HoldingNMiBForTSecondsIsChargedNTimesTMoreThanHoldingNothing) {
  if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  constexpr int64_t kMiB = 32;
  constexpr int64_t kSeconds = 10;
  ProcessPlatformOptions o;
  o.servers = 1;
  o.sample_interval_ms = 100;
  o.charging_interval_ms = 1000;
  ProcessPlatform p(o);
  const std::string err = p.start();
  ASSERT_TRUE(err.empty()) << err;
  const KeyPair user = p.new_user("mem", 100);
  auto deploy = [&](const std::string& name, const std::string& script) {
    DeployManifest m;
    m.name = name;
    m.image = std::string(XOP_BUILD_DIR) + "/images/burner";
    m.command = {"/bin/sh", "-c", script};
    m.resources.cpu_millis = 200;
    m.resources.memory_bytes = 96LL << 20;
    m.count = 1;
    m.budget = Money::micros(5'000'000);
    Deployer d(user, p.corp_url(), p.xis_url(), p.dir().file("scratch-" + name));
    auto deployed = d.deploy(m, nullptr);
    EXPECT_TRUE(deployed.has_value()) << deployed.error().message;
    if (!deployed || deployed->outcomes.size() != 1 || !deployed->outcomes[0].ok) {
      ADD_FAILURE() << (deployed && !deployed->outcomes.empty() ? deployed->outcomes[0].error : "") << p.logs();
      return std::string();
    }
    return deployed->outcomes[0].session;
  };
  const std::string t = std::to_string(kSeconds);
  // Both run the same commands for the same time; only `hold` keeps N MiB resident meanwhile. The
  // workload itself frees the memory after T seconds and lives on for one more, so the truth is
  // what it did: how long the session takes to be stopped and torn down (longer on a loaded
  // machine) is not part of it. What remains is the meter's sampling (left rectangles): up to one
  // interval late at the rising edge and one late at the falling edge, net within 100 ms of 10 s.
  auto script = [&](int64_t mib) {
    return "dd if=/dev/zero of=/dev/shm/held bs=1M count=" + std::to_string(mib) + " 2>/dev/null; sleep " + t +
           "; rm -f /dev/shm/held; sleep 1";
  };
  const std::string hold = deploy("hold", script(kMiB));
  const std::string idle = deploy("idle", script(0));
  ASSERT_FALSE(hold.empty());
  ASSERT_FALSE(idle.empty());

  auto store = StateStore::open(p.dir().file("server0") + "/state.db");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  // Memory-seconds over all of a session's records, once its final one is written.
  auto metered = [&](const std::string& id) -> int64_t {
    auto recs = (*store)->records(id);
    if (!recs || recs->empty() || !recs->back().final) return -1;
    int64_t sum = 0;
    for (const auto& r : *recs) sum += r.used.memory_byte_seconds;
    return sum;
  };
  int64_t held_bs = -1;
  int64_t idle_bs = -1;
  ASSERT_TRUE(poll_until(
      [&] {
        held_bs = metered(hold);
        idle_bs = metered(idle);
        return held_bs >= 0 && idle_bs >= 0;
      },
      seconds(60)))
      << p.logs();
  const double truth = static_cast<double>(kMiB << 20) * kSeconds;
  const double extra = static_cast<double>(held_bs - idle_bs);
  std::printf(
      "held %lld MiB for %lld s = %.0f MiB·s; charged %.1f MiB·s more than the idle twin (%+.2f%%); "
      "the twin's own %.1f MiB·s\n",
      static_cast<long long>(kMiB), static_cast<long long>(kSeconds), truth / (1 << 20), extra / (1 << 20),
      100.0 * (extra - truth) / truth, static_cast<double>(idle_bs) / (1 << 20));
  EXPECT_NEAR(extra, truth, truth * 0.02);
}

}  // namespace
}  // namespace xop::testing
