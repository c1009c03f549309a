// SimSandbox's own rules beyond the driver contract (tests/contract runs that over it too): what
// a workload's environment may say, and what it does to the counters on the clock.
#include "sim/sim_sandbox.h"

#include <gtest/gtest.h>

namespace xop {
namespace {

SandboxSpec spec(const std::string& id, std::vector<std::string> env) {
  SandboxSpec s;
  s.id = id;
  s.bundle_dir = "/sim/" + id + "/bundle";
  s.rootfs = "/sim/" + id + "/rootfs";
  s.args = {"/bin/sh", "-c", "true"};
  s.env = std::move(env);
  s.reserved.cpu_millis = 500;
  s.reserved.memory_bytes = 64 << 20;
  s.log_path = "/sim/" + id + "/log";
  return s;
}

class SimSandboxTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  std::vector<std::chrono::milliseconds> waits_;
  SimSandbox sb_{clock_, [this](std::chrono::milliseconds g) {
                   waits_.push_back(g);
                   clock_.advance_ms(g.count());
                 }};
};

TEST_F(SimSandboxTest, HostileEnvironmentValuesAreRefusedAndStartNothing) {
  const std::vector<std::string> bad = {
      "XOP_SIM_CPU_MILLICORES=-1",
      "XOP_SIM_CPU_MILLICORES=1.5",
      "XOP_SIM_CPU_MILLICORES=",
      "XOP_SIM_CPU_MILLICORES=12abc",
      "XOP_SIM_CPU_MILLICORES=99999999999999999999999",
      "XOP_SIM_MEMORY_BYTES=0x10",
      "XOP_SIM_EXIT_AFTER_MS= 5",
      "XOP_SIM_EXIT_CODE=256",
      "XOP_SIM_EXIT_CODE=-3",
      "XOP_SIM_IGNORE_TERM=yes",
      "XOP_SIM_IGNORE_TERM=2",
      "XOP_SIM_EXIT_AFTER_MS=" + std::string(5000, '9'),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    auto st = sb_.start(spec("bad" + std::to_string(i), {bad[i]}));
    ASSERT_FALSE(st) << bad[i];
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument) << bad[i];
    EXPECT_NE(st.error().message.find("XOP_SIM_"), std::string::npos) << st.error().message;
  }
  EXPECT_EQ(sb_.count(), 0u);
}

TEST_F(SimSandboxTest, CpuIsTheDeclaredBurnCappedByTheReservationAndFreezesAtTheExit) {
  ASSERT_TRUE(sb_.start(spec("a", {"XOP_SIM_CPU_MILLICORES=250", "XOP_SIM_EXIT_AFTER_MS=10000"})));
  ASSERT_TRUE(sb_.start(spec("b", {"XOP_SIM_CPU_MILLICORES=4000"})));  // more than the 500 reserved
  clock_.advance_ms(4'000);
  EXPECT_EQ(sb_.sample("a")->cpu_ns, 250LL * 4'000 * 1000);
  EXPECT_EQ(sb_.sample("b")->cpu_ns, 500LL * 4'000 * 1000) << "CFS would cap it at its quota";
  EXPECT_EQ(sb_.status("a")->state, SandboxState::kRunning);
  clock_.advance_ms(60'000);
  EXPECT_EQ(sb_.status("a")->state, SandboxState::kStopped);
  EXPECT_EQ(sb_.status("a")->exit_code, 0);
  EXPECT_EQ(sb_.sample("a")->cpu_ns, 250LL * 10'000 * 1000) << "no CPU after the exit";
  EXPECT_EQ(sb_.sample("a")->memory_bytes, 0);
  EXPECT_EQ(sb_.sample("b")->memory_bytes, 1 << 20) << "the default level";
}

TEST_F(SimSandboxTest, TheLastValueOfAVariableWinsAsInAnEnvironment) {
  ASSERT_TRUE(sb_.start(spec("a", {"XOP_SIM_CPU_MILLICORES=100", "XOP_SIM_CPU_MILLICORES=200"})));
  clock_.advance_ms(1'000);
  EXPECT_EQ(sb_.sample("a")->cpu_ns, 200LL * 1'000 * 1000);
}

TEST_F(SimSandboxTest, StoppingSpendsTheGraceOnlyOnAWorkloadThatIgnoresTerm) {
  ASSERT_TRUE(sb_.start(spec("polite", {"XOP_SIM_CPU_MILLICORES=100"})));
  ASSERT_TRUE(sb_.start(spec("stubborn", {"XOP_SIM_CPU_MILLICORES=100", "XOP_SIM_IGNORE_TERM=1"})));
  ASSERT_TRUE(sb_.stop("polite", std::chrono::milliseconds(7'000)));
  EXPECT_TRUE(waits_.empty());
  EXPECT_EQ(sb_.status("polite")->exit_code, 128 + 15);
  const TimeMs before = clock_.now_ms();
  ASSERT_TRUE(sb_.stop("stubborn", std::chrono::milliseconds(7'000)));
  ASSERT_EQ(waits_.size(), 1u);
  EXPECT_EQ(clock_.now_ms() - before, 7'000);
  EXPECT_EQ(sb_.status("stubborn")->exit_code, 128 + 9);
  EXPECT_EQ(sb_.sample("stubborn")->cpu_ns, 100LL * 7'000 * 1000) << "it burned through the grace";
}

TEST_F(SimSandboxTest, MemoryAboveTheReservationIsAnOomKillAtOnce) {
  ASSERT_TRUE(sb_.start(spec("hog", {"XOP_SIM_MEMORY_BYTES=" + std::to_string((64 << 20) + 1)})));
  auto st = sb_.status("hog");
  EXPECT_EQ(st->state, SandboxState::kStopped);
  EXPECT_EQ(st->exit_code, 128 + 9);
  EXPECT_EQ(st->oom_kills, 1);
}

}  // namespace
}  // namespace xop
