// The Sandbox driver contract (server/sandbox.h), one suite run over every driver: mock, sim (the
// simulated platform's), runc and crun. A driver that cannot run on this machine (not root, runtime missing, a trivial
// container fails: crun 1.8.1 on a hybrid cgroup host whose cgroup2 mount has controllers) is skipped with the reason.
// The interface has no recover/adopt call, so the suite has no restart case.
#include <gtest/gtest.h>

#include "contract/sandbox_harness.h"
#include "server/sandbox_mock.h"
#include "support/test_support.h"

namespace xop {
namespace {

using namespace std::chrono_literals;
using testing::SandboxHarness;
using testing::Workload;

class SandboxContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    h_ = testing::harness_for(GetParam(), why);
    if (!h_) GTEST_SKIP() << GetParam() << ": " << why;
  }
  Sandbox& sb() { return h_->sandbox(); }

  // Polls (driving simulated workloads) until `cond` holds or the deadline passes.
  bool poll(const std::function<bool()>& cond, std::chrono::milliseconds deadline = 20s) {
    return testing::poll_until(
        [&] {
          h_->drive();
          return cond();
        },
        deadline);
  }
  bool exited(const std::string& id) {
    auto st = sb().status(id);
    return st && st->state == SandboxState::kStopped && st->exit_code.has_value();
  }
  bool burning(const std::string& id, int64_t ns) {
    auto u = sb().sample(id);
    return u && u->cpu_ns > ns;
  }
  void expect_removed(const std::string& id) {
    ASSERT_TRUE(sb().remove(id));
    ASSERT_TRUE(sb().remove(id)) << "remove is idempotent";
    EXPECT_EQ(sb().status(id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(sb().sample(id).error().code, ErrorCode::kNotFound);
    std::vector<std::string> left;
    EXPECT_TRUE(poll([&] { return (left = h_->leftovers(id)).empty(); }, 5s))
        << "left behind: " << ::testing::PrintToString(left);
  }

  std::unique_ptr<SandboxHarness> h_;
};

TEST_P(SandboxContractTest, StartRunsTheWorkloadAndReportsItsExitCode) {
  const SandboxSpec s = h_->spec(Workload::kExit3);
  ASSERT_TRUE(sb().start(s));
  ASSERT_TRUE(poll([&] { return exited(s.id); }));
  auto st = sb().status(s.id);
  EXPECT_EQ(st->exit_code, 3);
  EXPECT_EQ(st->oom_kills, 0);
  EXPECT_TRUE(sb().sample(s.id)) << "counters stay readable after the exit, until remove()";
  expect_removed(s.id);
}

TEST_P(SandboxContractTest, AnOomKillIsReportedAsTheExitReason) {
  const SandboxSpec s = h_->spec(Workload::kExceedMemory);
  ASSERT_TRUE(sb().start(s));
  ASSERT_TRUE(poll([&] { return exited(s.id); }));
  auto st = sb().status(s.id);
  EXPECT_EQ(st->exit_code, 128 + 9);
  EXPECT_GE(st->oom_kills, 1);
  expect_removed(s.id);
}

TEST_P(SandboxContractTest, StopEndsAWorkloadThatHonoursSigtermWithinTheGrace) {
  const SandboxSpec s = h_->spec(Workload::kSpinExitingOnTerm);
  ASSERT_TRUE(sb().start(s));
  EXPECT_EQ(sb().status(s.id)->state, SandboxState::kRunning);
  ASSERT_TRUE(poll([&] { return burning(s.id, 50'000'000); }));  // its TERM trap is set
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sb().stop(s.id, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "stopped by SIGTERM, not at the end of the grace";
  EXPECT_EQ(sb().status(s.id)->state, SandboxState::kStopped) << "stop returns once stopped";
  ASSERT_TRUE(poll([&] { return exited(s.id); }, 5s));
  const int code = *sb().status(s.id)->exit_code;
  EXPECT_TRUE(code == 0 || code == 128 + 15) << code;
  expect_removed(s.id);
}

TEST_P(SandboxContractTest, StopKillsAWorkloadThatIgnoresSigtermAfterTheGrace) {
  const SandboxSpec s = h_->spec(Workload::kSpinIgnoringTerm);
  ASSERT_TRUE(sb().start(s));
  ASSERT_TRUE(poll([&] { return burning(s.id, 50'000'000); }));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sb().stop(s.id, 300ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms) << "SIGKILL only once the grace passed";
  EXPECT_EQ(sb().status(s.id)->state, SandboxState::kStopped);
  ASSERT_TRUE(poll([&] { return exited(s.id); }, 5s));
  EXPECT_EQ(sb().status(s.id)->exit_code, 128 + 9);
  ASSERT_TRUE(sb().stop(s.id, 300ms)) << "stop is idempotent";
  expect_removed(s.id);
}

// Ground truth is the workload's own burn (its utime+stime), not the driver's counter.
TEST_P(SandboxContractTest, StatsAreMonotoneAndShowTheKnownBurn) {
  const SandboxSpec s = h_->spec(Workload::kBurnKnownCpu);
  ASSERT_TRUE(sb().start(s));
  UsageSample last;
  bool monotone = true;
  ASSERT_TRUE(poll(
      [&] {
        auto u = sb().sample(s.id);
        if (!u) return false;
        monotone = monotone && u->cpu_ns >= last.cpu_ns;
        last = *u;
        return exited(s.id);
      },
      30s));
  EXPECT_TRUE(monotone) << "cpu_ns went backwards";
  EXPECT_EQ(sb().status(s.id)->exit_code, 0);
  auto final_sample = sb().sample(s.id);
  ASSERT_TRUE(final_sample) << final_sample.error().message;
  EXPECT_GE(final_sample->cpu_ns, last.cpu_ns);
  const double burned_s = static_cast<double>(final_sample->cpu_ns) / 1e9;
  std::printf("%s: the workload burned 1.000 s by its own count; the driver reports %.3f s\n", GetParam().c_str(),
              burned_s);
  RecordProperty("reported_cpu_s", std::to_string(burned_s));
  // The workload's count is tick-granular (10 ms) and the driver's includes the shell's start.
  EXPECT_GE(final_sample->cpu_ns, testing::kKnownBurnNs - 20'000'000);
  EXPECT_LE(final_sample->cpu_ns, testing::kKnownBurnNs + 400'000'000);
  EXPECT_GE(final_sample->memory_bytes, 0);
  expect_removed(s.id);
}

TEST_P(SandboxContractTest, RemovingARunningWorkloadLeavesNothingBehind) {
  const SandboxSpec s = h_->spec(Workload::kSpinIgnoringTerm);
  ASSERT_TRUE(sb().start(s));
  ASSERT_TRUE(poll([&] { return burning(s.id, 10'000'000); }));
  h_->note_processes(s.id);
  expect_removed(s.id);
}

TEST_P(SandboxContractTest, BadSpecsAreRefusedAndChangeNothing) {
  const SandboxSpec good = h_->spec(Workload::kExit3);
  const std::vector<std::function<void(SandboxSpec&)>> breakers = {
      [](SandboxSpec& s) { s.rootfs = "relative/rootfs"; },
      [](SandboxSpec& s) { s.args.clear(); },
      [](SandboxSpec& s) { s.env.push_back("NOEQUALS"); },
      [](SandboxSpec& s) { s.reserved.cpu_millis = 0; },
      [](SandboxSpec& s) { s.reserved.memory_bytes = 1024; },
      [](SandboxSpec& s) { s.pids_limit = 0; },
      [](SandboxSpec& s) { s.log_path.clear(); },
  };
  for (size_t i = 0; i < breakers.size(); ++i) {
    SandboxSpec bad = good;
    breakers[i](bad);
    auto st = sb().start(bad);
    ASSERT_FALSE(st) << "bad spec " << i << " was accepted";
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << i << ": " << st.error().message;
    EXPECT_EQ(sb().status(good.id).error().code, ErrorCode::kNotFound) << i;
  }
  SandboxSpec bad_id = good;
  bad_id.id = "../escape";
  EXPECT_EQ(sb().start(bad_id).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(h_->leftovers(good.id).empty());
  // The good spec still starts: nothing of the refused ones is in the way.
  ASSERT_TRUE(sb().start(good));
  ASSERT_TRUE(poll([&] { return exited(good.id); }));
  EXPECT_EQ(sb().status(good.id)->exit_code, 3);
  expect_removed(good.id);
}

// Credit control freezes a session instead of killing it. Ground truth for the real drivers is the
// kernel's own count read by the harness from the cgroup files (kernel_cpu_ns), not the driver's
// sample(): over a polled interval of 500 ms a frozen burner gets no CPU, and after thaw it burns.
TEST_P(SandboxContractTest, AFrozenWorkloadGetsNoCpuUntilThawed) {
  const SandboxSpec s = h_->spec(Workload::kSpinExitingOnTerm);
  ASSERT_TRUE(sb().start(s));
  ASSERT_TRUE(poll([&] { return burning(s.id, 50'000'000); }));
  auto cpu = [&]() -> int64_t {
    if (auto k = h_->kernel_cpu_ns(s.id)) return *k;
    auto u = sb().sample(s.id);
    return u ? u->cpu_ns : -1;
  };
  const auto f0 = std::chrono::steady_clock::now();
  auto freeze = sb().freeze(s.id);
  const auto freeze_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - f0).count();
  ASSERT_TRUE(freeze) << freeze.error().message;
  EXPECT_TRUE(sb().freeze(s.id)) << "freeze is idempotent";
  EXPECT_EQ(sb().status(s.id)->state, SandboxState::kPaused);
  const int64_t frozen_at = cpu();
  ASSERT_GE(frozen_at, 50'000'000);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(poll([&] { return std::chrono::steady_clock::now() - t0 >= 500ms; }));  // an interval passes
  const int64_t still = cpu();
  std::printf("%s: frozen for 500 ms, the workload used %lld ns of CPU\n", GetParam().c_str(),
              static_cast<long long>(still - frozen_at));
  EXPECT_EQ(still, frozen_at) << "a frozen workload used CPU";
  EXPECT_EQ(sb().status(s.id)->state, SandboxState::kPaused) << "still frozen";

  const auto h0 = std::chrono::steady_clock::now();
  auto thaw = sb().thaw(s.id);
  const auto thaw_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - h0).count();
  ASSERT_TRUE(thaw) << thaw.error().message;
  std::printf("%s: freeze() took %.1f ms, thaw() %.1f ms\n", GetParam().c_str(), freeze_ms, thaw_ms);
  EXPECT_TRUE(sb().thaw(s.id)) << "thaw is idempotent";
  EXPECT_EQ(sb().status(s.id)->state, SandboxState::kRunning);
  ASSERT_TRUE(poll([&] { return cpu() > still + 100'000'000; })) << "it burns again after the thaw";

  // Stopping a frozen workload thaws it first, so its TERM handler runs within the grace.
  ASSERT_TRUE(sb().freeze(s.id));
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sb().stop(s.id, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 5s) << "stopped by SIGTERM, not at the end of the grace";
  ASSERT_TRUE(poll([&] { return exited(s.id); }, 5s));
  EXPECT_EQ(sb().freeze(s.id).error().code, ErrorCode::kConflict) << "a stopped workload cannot be frozen";
  EXPECT_EQ(sb().thaw(s.id).error().code, ErrorCode::kConflict);
  expect_removed(s.id);
}

TEST_P(SandboxContractTest, UnknownIdsAreNotFoundAndStopAndRemoveAreNoOps) {
  EXPECT_EQ(sb().freeze("no-such-sandbox").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(sb().thaw("no-such-sandbox").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(sb().status("no-such-sandbox").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(sb().sample("no-such-sandbox").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(sb().stop("no-such-sandbox", 10ms));
  EXPECT_TRUE(sb().remove("no-such-sandbox"));
}

INSTANTIATE_TEST_SUITE_P(Drivers, SandboxContractTest, ::testing::Values("mock", "sim", "runc", "crun"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace xop
