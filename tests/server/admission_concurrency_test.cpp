// Admission under many concurrent creates: whatever the interleaving, the sessions admitted never
// hold more CPU, memory, disk, bandwidth or processes than the server offers, exactly as many are
// admitted as fit, and every other create is refused with resource_exhausted (nothing half-made).
// The session manager runs over real parts (SQLite, image store, signatures) with the mock driver;
// admission does not depend on the driver.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "server/session_fixture.h"

namespace xop::testing {
namespace {

struct Dimension {
  const char* name;
  Resources capacity;     // the server's offer
  int64_t capacity_pids;  // the server's process offer
  Resources per_session;  // what each create reserves
  int64_t pids_per_session;
  int fits;  // how many sessions the offer holds
};

class AdmissionConcurrencyTest : public ::testing::TestWithParam<Dimension> {};

constexpr Resources kPlenty{64'000, 64LL << 30, 64LL << 30, 10'000'000'000};

TEST_P(AdmissionConcurrencyTest, ManyConcurrentCreatesAdmitExactlyWhatFits) {
  const Dimension& d = GetParam();
  SessionEnv env(d.capacity);
  env.opts.capacity_pids = d.capacity_pids;
  env.opts.max_pids_per_session = d.pids_per_session;
  env.make_manager();
  constexpr int kThreads = 24;
  std::vector<CreateSessionRequest> reqs;
  for (int i = 0; i < kThreads; ++i) {
    SessionSpec s = env.spec(d.per_session.cpu_millis, d.per_session.memory_bytes);
    s.resources.disk_bytes = d.per_session.disk_bytes;
    s.resources.net_bps = d.per_session.net_bps;
    s.pids = d.pids_per_session;
    reqs.push_back(env.request(i % 2 == 0 ? env.alice : env.bob, s));
  }
  std::latch go(kThreads);
  std::atomic<int> admitted{0};
  std::atomic<int> exhausted{0};
  std::atomic<int> other{0};
  std::vector<std::string> others(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const KeyPair& user = i % 2 == 0 ? env.alice : env.bob;
      go.arrive_and_wait();
      auto r = env.manager->create(user.account_id(), reqs[i]);
      if (r) {
        ++admitted;
      } else if (r.error().code == ErrorCode::kResourceExhausted) {
        ++exhausted;
      } else {
        ++other;
        others[i] = r.error().message;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& m : others) EXPECT_TRUE(m.empty()) << m;
  EXPECT_EQ(admitted.load(), d.fits) << d.name;
  EXPECT_EQ(exhausted.load(), kThreads - d.fits) << d.name;
  EXPECT_EQ(other.load(), 0);
  EXPECT_TRUE(d.capacity.covers(env.manager->reserved())) << d.name;
  EXPECT_EQ(env.sandbox.count(), static_cast<size_t>(d.fits)) << "a refused create started a sandbox";

  // What a stopped session held is free again: exactly one more create fits. (Whoever's it is:
  // the interleaving decides which users' creates were admitted.)
  auto listed = env.manager->list("");
  ASSERT_TRUE(listed);
  std::string victim;
  for (const auto& v : *listed) {
    if (v.row.state == "running") victim = v.row.id;
  }
  ASSERT_FALSE(victim.empty()) << "no running session";
  ASSERT_TRUE(env.manager->stop("", victim, "make room"));
  SessionSpec s = env.spec(d.per_session.cpu_millis, d.per_session.memory_bytes);
  s.resources.disk_bytes = d.per_session.disk_bytes;
  s.resources.net_bps = d.per_session.net_bps;
  s.pids = d.pids_per_session;
  auto again = env.manager->create(env.bob.account_id(), env.request(env.bob, s));
  EXPECT_TRUE(again) << again.error().message;
  auto beyond = env.manager->create(env.bob.account_id(), env.request(env.bob, s));
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code, ErrorCode::kResourceExhausted) << beyond.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    EveryResource, AdmissionConcurrencyTest,
    ::testing::Values(Dimension{"cpu", Resources{2000, kPlenty.memory_bytes, kPlenty.disk_bytes, kPlenty.net_bps},
                                32768, Resources{500, 16LL << 20, 0, 0}, 8, 4},
                      Dimension{"memory", Resources{kPlenty.cpu_millis, 1LL << 30, kPlenty.disk_bytes, kPlenty.net_bps},
                                32768, Resources{10, 300LL << 20, 0, 0}, 8, 3},
                      Dimension{"disk", Resources{kPlenty.cpu_millis, kPlenty.memory_bytes, 1LL << 30, kPlenty.net_bps},
                                32768, Resources{10, 16LL << 20, 200LL << 20, 0}, 8, 5},
                      Dimension{"bandwidth",
                                Resources{kPlenty.cpu_millis, kPlenty.memory_bytes, kPlenty.disk_bytes, 100'000'000},
                                32768, Resources{10, 16LL << 20, 0, 15'000'000}, 8, 6},
                      Dimension{"pids", kPlenty, 100, Resources{10, 16LL << 20, 0, 0}, 32, 3}),
    [](const ::testing::TestParamInfo<Dimension>& i) { return std::string(i.param.name); });

TEST(AdmissionTest, ASpecAskingForMoreProcessesThanAreLeftIsRefusedNamingWhatIsFree) {
  SessionEnv env;
  env.opts.capacity_pids = 40;
  env.make_manager();
  SessionSpec s = env.spec();
  s.pids = 32;
  auto a = env.manager->create(env.alice.account_id(), env.request(env.alice, s));
  ASSERT_TRUE(a) << a.error().message;
  auto b = env.manager->create(env.bob.account_id(), env.request(env.bob, s));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(b.error().message.find("free: 8 pids"), std::string::npos) << b.error().message;
  s.pids = 8;
  auto c = env.manager->create(env.bob.account_id(), env.request(env.bob, s));
  EXPECT_TRUE(c) << c.error().message;
}

}  // namespace
}  // namespace xop::testing
