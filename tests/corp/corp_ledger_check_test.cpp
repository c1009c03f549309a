// GET /v1/ledger/check must not let strangers stall the corp (issue 14, attack 7): before the fix
// every anonymous call ran the full check, which reads the whole ledger while holding the corp's
// lock (legitimate latency went from 2 ms to 1.45 s under a flood). Now anonymous and non-admin
// callers get a cached answer recomputed at most once per ledger_check_interval_ms, the admin key
// gets a fresh check, and a check in progress holds up no other request. The hook seam counts the
// full checks and can hold one open.
#include <atomic>
#include <condition_variable>
#include <thread>

#include "corp_fixture.h"

namespace xop::testing {
namespace {

constexpr int64_t kInterval = 5'000;

class LedgerCheckHook : public CorpFixture {
 protected:
  void customize(CorpOptions& o) override {
    o.ledger_check_interval_ms = kInterval;
    o.ledger_check_hook = [this] {
      runs_.fetch_add(1);
      std::unique_lock lock(mu_);
      if (!block_) return;
      inside_ = true;
      cv_.notify_all();
      // Bounded so that a broken test cannot hang: the test releases it long before.
      cv_.wait_for(lock, std::chrono::seconds(20), [this] { return !block_; });
    };
  }
  void SetUp() override {
    CorpFixture::SetUp();
    if (HasFatalFailure()) return;
    register_parties();
  }
  void release() {
    std::lock_guard lock(mu_);
    block_ = false;
    cv_.notify_all();
  }

  std::atomic<int> runs_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool block_ = false;
  bool inside_ = false;
};

TEST_F(LedgerCheckHook, AnonymousFloodRunsAtMostOneCheckPerInterval) {
  const int before = runs_.load();
  for (int i = 0; i < 50; ++i) {
    auto c = call(std::nullopt, "GET", "/v1/ledger/check");
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_EQ((*c)["balanced"], true);
  }
  EXPECT_EQ(runs_.load() - before, 1);
  // Signed by a non-admin key: the same cached answer.
  ASSERT_TRUE(call(alice_, "GET", "/v1/ledger/check"));
  EXPECT_EQ(runs_.load() - before, 1);

  // Concurrent anonymous callers after the interval: again one check.
  clock_->advance_ms(kInterval);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        ApiClient c(ep_, std::nullopt, *clock_);
        if (c.call("GET", "/v1/ledger/check")) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(runs_.load() - before, 2);
}

TEST_F(LedgerCheckHook, AdminGetsAFreshCheckAndCachedAnswersSayHowOld) {
  auto first = call(std::nullopt, "GET", "/v1/ledger/check");
  ASSERT_TRUE(first);
  const TimeMs checked_at = (*first)["checked_at"].get<TimeMs>();
  EXPECT_LE(checked_at, clock_->now_ms());
  deposit(alice_, 7);  // a new transaction: the cached answer does not know it yet
  auto cached = call(std::nullopt, "GET", "/v1/ledger/check");
  ASSERT_TRUE(cached);
  EXPECT_EQ((*cached)["checked_at"], checked_at);
  EXPECT_EQ((*cached)["transactions"], (*first)["transactions"]);
  const int before = runs_.load();
  auto fresh = call(admin_, "GET", "/v1/ledger/check");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(runs_.load() - before, 1);
  EXPECT_EQ((*fresh)["transactions"].get<int64_t>(), (*first)["transactions"].get<int64_t>() + 1);
  EXPECT_GT((*fresh)["checked_at"].get<TimeMs>(), checked_at);
}

TEST_F(LedgerCheckHook, ACheckInProgressDelaysNoOtherRequest) {
  {
    std::lock_guard lock(mu_);
    block_ = true;
  }
  std::thread checker([&] {
    ApiClient c(ep_, std::nullopt, *clock_);
    auto r = c.call("GET", "/v1/ledger/check");
    EXPECT_TRUE(r) << r.error().to_string();
  });
  {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(20), [&] { return inside_; }));
  }
  // The check is now held open inside. Other requests, including writes, still complete: with a
  // short client timeout they would fail if they waited for it.
  auto quick = [&](const std::optional<KeyPair>& key, const std::string& method, const std::string& target,
                   const Json& body = nullptr) {
    clock_->advance_ms(1);
    ApiClient c(ep_, key, *clock_, std::chrono::seconds(3));
    return c.call(method, target, body);
  };
  auto dep = quick(admin_, "POST", "/v1/deposits", Json{{"account", alice_.account_id()}, {"amount_micros", 5}});
  EXPECT_TRUE(dep) << dep.error().to_string();
  auto acc = quick(alice_, "GET", "/v1/accounts/" + alice_.account_id());
  EXPECT_TRUE(acc) << acc.error().to_string();
  release();
  checker.join();
  expect_balanced();
}

}  // namespace
}  // namespace xop::testing
