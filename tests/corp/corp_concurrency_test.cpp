// Many clients at once against one user's balance, through the real corp over HTTP: purchase
// orders bought, settled and closed from several threads never overdraw the balance, never lose
// or invent a micro-credit, and every acknowledged charge is in the owner's balance exactly once.
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "corp/corp_fixture.h"

namespace xop::testing {
namespace {

class CorpConcurrency : public CorpFixture {
 protected:
  // Moves the shared clock to at least `t` (threads race; the clock only goes forward).
  void advance_to(TimeMs t) {
    while (clock_->now_ms() < t) clock_->advance_ms(1);
  }
};

TEST_F(CorpConcurrency, ManyClientsNeverOverdrawOneBalanceAndEveryChargeLandsOnce) {
  constexpr int64_t kFunds = 600'000;
  constexpr int kThreads = 6;
  constexpr int kRounds = 20;
  register_parties(kFunds);
  const int64_t owner_before = balance(owner_.account_id());

  std::atomic<int64_t> per_po{0};        // every PO gets the same one record
  std::atomic<int64_t> acknowledged{0};  // what the corp's answers say it charged
  std::atomic<int> bought{0};
  std::atomic<int> refused{0};
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::atomic<int> overdrawn{0};
  std::atomic<int> observed{0};

  // A watcher reads alice's account all along: never negative, never more than she put in.
  std::thread watcher([&] {
    while (!done.load()) {
      auto r = call(admin_, "GET", "/v1/accounts/" + alice_.account_id());
      if (!r) continue;
      const int64_t bal = (*r)["balance_micros"].get<int64_t>();
      const int64_t held = (*r)["held_micros"].get<int64_t>();
      if (bal < 0 || held < 0 || bal + held > kFunds) overdrawn.fetch_add(1);
      observed.fetch_add(1);
    }
  });

  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        // Each PO costs ~9,600 once settled, so the balance runs low about halfway and the threads
        // then race for what is left; distinct amounts keep identical bodies from being replays.
        const int64_t max_amount = 20'000 + t * 100 + i;
        auto po = create_po_raw(alice_, srv_, max_amount);
        if (!po) {
          if (po.error().code == ErrorCode::kPaymentRequired) {
            refused.fetch_add(1);
          } else {
            failures.fetch_add(1);
            ADD_FAILURE() << po.error().to_string();
          }
          continue;
        }
        bought.fetch_add(1);
        const std::string po_id = (*po)["purchase_order"]["body"]["po_id"].get<std::string>();
        // One record of 2 s at 4 cores; a final one closes the PO, otherwise the user closes it.
        const bool final = i % 2 == 0;
        char session[40];
        std::snprintf(session, sizeof session, "s%032x", static_cast<unsigned>(t * 1000 + i + 1));
        const UsageRecord rec = record_from(clock_->now_ms(), po_id, session, 1, 4'000, 2'000, final);
        per_po.store(rec.amount.micros());
        advance_to(rec.period_end);
        auto settled = call(srv_, "POST", "/v1/usage", batch(srv_, {rec}));
        if (!settled) {
          failures.fetch_add(1);
          ADD_FAILURE() << settled.error().to_string();
          continue;
        }
        for (const auto& res : (*settled)["results"]) {
          if (res.value("status", "") == "charged") acknowledged.fetch_add(res.value("charged_micros", int64_t{0}));
        }
        if (final) continue;
        auto closed = call(alice_, "POST", "/v1/purchase-orders/" + po_id + "/close");
        if (!closed) {
          failures.fetch_add(1);
          ADD_FAILURE() << closed.error().to_string();
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  done.store(true);
  watcher.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(bought.load(), 0);
  EXPECT_GT(observed.load(), 0) << "the watcher saw the account at least once";
  EXPECT_EQ(overdrawn.load(), 0) << "a balance went negative or above what was deposited";
  EXPECT_GT(refused.load(), 0) << "the threads never raced for the last of the balance";
  // Every PO was settled with one record and closed (by its final record or by the user), so the money that left alice
  // is what the corp said it charged, and it all reached the owner; nothing is still held.
  const int64_t charged = acknowledged.load();
  EXPECT_GT(per_po.load(), 0);
  EXPECT_EQ(charged, per_po.load() * bought.load());
  // Before the closed POs' holds come back, every micro-credit is somewhere: spendable, held, or
  // paid to the owner.
  EXPECT_EQ(balance(alice_.account_id()) + held(alice_.account_id()), kFunds - charged);
  // The server checks in a grace after the user closed them: their holds come back.
  clock_->advance_ms(61'000);
  auto checkin = send_usage(srv_, {});
  ASSERT_TRUE(checkin) << checkin.error().to_string();
  EXPECT_EQ(balance(alice_.account_id()), kFunds - charged);
  EXPECT_EQ(held(alice_.account_id()), 0);
  EXPECT_EQ(balance(owner_.account_id()) - owner_before, charged);
  expect_balanced();
  std::printf("%d purchase orders bought, %d refused for want of funds, %lld micros charged\n", bought.load(),
              refused.load(), static_cast<long long>(charged));
}

}  // namespace
}  // namespace xop::testing
