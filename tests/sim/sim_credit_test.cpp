// Credit control across the whole simulated platform (sim/platform.h, SimulatedClock): one
// session on a small purchase order runs low (low_funds), runs dry and is frozen (no CPU while
// frozen, its reservation still charged as arrears), is extended (the arrears are paid first) and
// resumes, runs dry again and is stopped "funds-exhausted" once the server's freeze_grace_ms passed.
// Ground truth: the workload's declared burn (SimSandbox) over the time it was not frozen, and the
// charges worked out by hand from the server's advertised prices; the ledger balances at every step.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "client/api_client.h"
#include "client/corp_client.h"
#include "corp/corp_service.h"
#include "deploy/deployer.h"
#include "proto/price_sheet.h"
#include "server/burner_image.h"
#include "sim/platform.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::TempDir;

constexpr int64_t kReservedMillicores = 500;
constexpr int64_t kBurnMillicores = 250;
constexpr int64_t kReservedMemory = int64_t{64} << 20;
constexpr int64_t kHeldMemory = int64_t{1} << 20;
constexpr int64_t kStepMs = 5'000;       // the sample interval: one server round per step
constexpr int64_t kChargingMs = 60'000;  // a record a minute
constexpr int64_t kGraceMs = 180'000;    // freeze_grace_ms
constexpr int64_t kBudget = 100'000;     // the PO: a bit over three minutes of running
constexpr int64_t kExtension = 150'000;

class SimCreditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = t_.file("image");
    ASSERT_FALSE(testing::build_burner_image(image_).empty()) << "scripts/build-image failed";
    PlatformOptions o;
    o.data_dir = t_.file("platform");
    o.servers = 1;
    o.sim_clock = &clock_;
    o.seed = 7;
    o.sample_interval_ms = kStepMs;
    o.charging_interval_ms = kChargingMs;
    o.advert_interval_ms = 30'000;
    o.stop_grace_ms = 10'000;
    o.freeze_grace_ms = kGraceMs;
    auto p = Platform::start(o);
    ASSERT_TRUE(p) << p.error().to_string();
    p_ = std::move(*p);
  }
  void TearDown() override {
    if (p_) p_->stop();
  }

  ApiClient client(const std::string& url, std::optional<KeyPair> key) {
    auto c = ApiClient::connect(url, std::move(key), clock_, p_->connector());
    EXPECT_TRUE(c) << url;
    return std::move(*c);
  }
  Json get(const std::string& url, const KeyPair& key, const std::string& path) {
    auto r = client(url, key).call("GET", path);
    EXPECT_TRUE(r) << path << ": " << (r ? "" : r.error().message);
    return r ? *r : Json::object();
  }
  Json session() {
    return get(placed_.endpoint, user_, "/v1/sessions/" + placed_.session).value("session", Json::object());
  }
  Json po() { return get(p_->corp_url(), user_, "/v1/purchase-orders/" + placed_.po_id); }
  void expect_balanced(const char* when) {
    auto c = p_->corp().check_ledger();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_TRUE(c->balanced) << when << ": " << ::testing::PrintToString(c->problems);
  }
  // Advances one round at a time until `cond` holds (at most `max_ms`); the time it first held.
  TimeMs advance_until(const std::function<bool()>& cond, int64_t max_ms, const char* what) {
    for (int64_t t = 0; t <= max_ms; t += kStepMs) {
      if (cond()) return clock_.now_ms();
      p_->advance(kStepMs);
      expect_balanced(what);
    }
    ADD_FAILURE() << "not within " << max_ms << " ms: " << what << "\nsession " << session().dump() << "\npo "
                  << po().dump();
    return 0;
  }

  TempDir t_;
  std::string image_;
  SimulatedClock clock_{1'800'000'000'000};
  std::unique_ptr<Platform> p_;
  KeyPair user_;
  DeployOutcome placed_;
};

TEST_F(SimCreditTest, LowFundsFreezeExtendResumeAndStopAfterTheGrace) {
  constexpr int64_t kDeposit = 1'000'000;
  user_ = p_->new_key();
  ASSERT_TRUE(client(p_->corp_url(), user_).call("POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "u"}}));
  ASSERT_TRUE(client(p_->corp_url(), p_->admin_key())
                  .call("POST", "/v1/deposits", Json{{"account", user_.account_id()}, {"amount_micros", kDeposit}}));
  DeployManifest m;
  m.name = "burner";
  m.image = image_;
  m.command = {"/bin/sh", "-c", "exec burn"};
  m.env = {{"XOP_SIM_CPU_MILLICORES", std::to_string(kBurnMillicores)},
           {"XOP_SIM_MEMORY_BYTES", std::to_string(kHeldMemory)}};
  m.resources.cpu_millis = kReservedMillicores;
  m.resources.memory_bytes = kReservedMemory;
  m.count = 1;
  m.budget = Money::micros(kBudget);
  Deployer d(user_, p_->corp_url(), p_->xis_url(), t_.file("scratch"), clock_);
  d.set_connector(p_->connector());
  auto r = d.deploy(m, nullptr);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->outcomes.size(), 1u);
  ASSERT_TRUE(r->outcomes[0].ok) << r->outcomes[0].error;
  placed_ = r->outcomes[0];
  const TimeMs started = session().value("started_at", int64_t{0});
  ASSERT_GT(started, 0);

  // The prices of the server, for the hand computation: per minute running, reserve 500 mcore
  // + 64 MiB and use 250 mcore + 1 MiB.
  auto sheet = SignedDoc::from_json(get(placed_.endpoint, user_, "/v1/info").value("price_sheet", Json::object()),
                                    kPriceSheetType);
  ASSERT_TRUE(sheet);
  auto prices = verify_price_sheet(*sheet);
  ASSERT_TRUE(prices);
  const Rates& rt = prices->rates;
  const double gib = 1024.0 * 1024.0 * 1024.0;
  const double hold_per_ms = (static_cast<double>(rt.cpu_reserve_per_core_hour) * kReservedMillicores / 1000.0 +
                              static_cast<double>(rt.memory_reserve_per_gib_hour) * kReservedMemory / gib +
                              static_cast<double>(rt.memory_use_per_gib_hour) * kHeldMemory / gib) /
                             3'600'000.0;
  const double burn_per_ms = static_cast<double>(rt.cpu_use_per_core_hour) * kBurnMillicores / 1000.0 / 3'600'000.0;
  std::printf("a running minute costs %.0f micros, a frozen one %.0f\n", (hold_per_ms + burn_per_ms) * 60'000,
              hold_per_ms * 60'000);

  // 1. Low funds before the end: the PO and the session view say so while it runs.
  advance_until([&] { return po().value("low_funds", false); }, 10 * kChargingMs, "low funds at the corp");
  EXPECT_EQ(po().value("exhausted", true), false);
  advance_until([&] { return session().value("low_funds", false); }, 2 * kChargingMs, "low funds on the server");
  EXPECT_EQ(session().value("state", ""), "running");

  // 2. Dry: frozen (not stopped), with a deadline kGraceMs later.
  const TimeMs frozen1 = advance_until([&] { return session().value("state", "") == "frozen"; }, 10 * kChargingMs,
                                       "frozen after the PO ran dry");
  EXPECT_EQ(session().value("frozen_until", int64_t{0}), frozen1 + kGraceMs);
  EXPECT_TRUE(po().value("exhausted", false));
  EXPECT_EQ(po().value("remaining_micros", int64_t{-1}), 0);
  const int64_t cpu_at_freeze = session()["usage"].value("cpu_ns", int64_t{-1});

  // 3. Two minutes frozen: no CPU, the reservation's records pile up as arrears.
  p_->advance(2 * kChargingMs);
  expect_balanced("frozen");
  EXPECT_EQ(session().value("state", ""), "frozen");
  EXPECT_EQ(session()["usage"].value("cpu_ns", int64_t{-1}), cpu_at_freeze) << "a frozen workload burns nothing";
  const int64_t arrears = po().value("unpaid_micros", int64_t{0});
  EXPECT_GT(arrears, static_cast<int64_t>(hold_per_ms * kChargingMs)) << "at least one frozen minute is owed";

  // 4. Extended: the arrears are paid first, in the same call.
  auto corp = CorpClient::connect(p_->corp_url(), user_, clock_, p_->connector());
  ASSERT_TRUE(corp);
  auto e = corp->extend_po(placed_.po_id, kExtension);
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(e->arrears_paid, arrears);
  EXPECT_EQ(e->purchase_order.unpaid, 0);
  EXPECT_EQ(e->purchase_order.remaining, kExtension - arrears);
  EXPECT_EQ(e->balance, kDeposit - kBudget - kExtension);
  expect_balanced("extended");

  // 5. Resumed at the next usage answer, and burning again.
  const TimeMs thawed = advance_until([&] { return session().value("state", "") == "running"; }, 2 * kChargingMs,
                                      "running again after the extension");
  EXPECT_EQ(session().value("frozen_until", int64_t{-1}), 0);
  p_->advance(kStepMs);
  EXPECT_GT(session()["usage"].value("cpu_ns", int64_t{0}), cpu_at_freeze) << "it burns again";

  // 6. Dry again: frozen, and stopped "funds-exhausted" once the grace passed without extension.
  const TimeMs frozen2 =
      advance_until([&] { return session().value("state", "") == "frozen"; }, 10 * kChargingMs, "frozen again");
  const TimeMs stopped_seen = advance_until([&] { return session().value("state", "") == "stopped"; },
                                            kGraceMs + 2 * kStepMs, "stopped after the grace");
  const Json end = session();
  EXPECT_EQ(end.value("reason", ""), "funds-exhausted");
  const TimeMs stopped_at = end.value("stopped_at", int64_t{0});
  EXPECT_GE(stopped_at, frozen2 + kGraceMs);
  EXPECT_LE(stopped_at, frozen2 + kGraceMs + kStepMs);
  EXPECT_LE(stopped_at, stopped_seen);
  p_->advance(2 * kStepMs);  // the final record is delivered
  expect_balanced("stopped");

  // Ground truth, CPU: the declared burn over exactly the time it was not frozen (freeze and thaw
  // happen in server rounds, which the polling above saw at the same instants).
  const Json statement = get(p_->corp_url(), user_, "/v1/statements/" + user_.account_id());
  ASSERT_EQ(statement["purchase_orders"].size(), 1u);
  const Json& spo = statement["purchase_orders"][0];
  int64_t cpu_ns = 0;
  int64_t claimed = 0;
  int64_t charged = 0;
  int64_t records = 0;
  for (const auto& rec : spo["records"]) {
    cpu_ns += rec["used"].value("cpu_ns", int64_t{0});
    claimed += rec.value("amount_micros", int64_t{0});
    charged += rec.value("charged_micros", int64_t{0});
    ++records;
  }
  const int64_t ran_ms = (frozen1 - started) + (frozen2 - thawed);
  EXPECT_EQ(cpu_ns, kBurnMillicores * ran_ms * 1000);
  // Ground truth, money: everything the PO ever held went to the owner, the rest is arrears; the
  // claims match the prices by hand (each record's terms round down: at most 8 micros per record).
  const int64_t lifetime_ms = stopped_at - started;
  const double want = hold_per_ms * static_cast<double>(lifetime_ms) + burn_per_ms * static_cast<double>(ran_ms);
  std::printf("ran %lld ms of %lld; claimed %lld micros (%.0f by hand), charged %lld; %lld records\n",
              static_cast<long long>(ran_ms), static_cast<long long>(lifetime_ms), static_cast<long long>(claimed),
              want, static_cast<long long>(charged), static_cast<long long>(records));
  EXPECT_LE(static_cast<double>(claimed), want);
  EXPECT_GE(static_cast<double>(claimed), want - static_cast<double>(8 * records));
  EXPECT_EQ(charged, kBudget + kExtension);
  EXPECT_EQ(spo.value("charged_micros", int64_t{0}), kBudget + kExtension);
  EXPECT_EQ(spo.value("state", ""), "closed");
  EXPECT_EQ(statement.value("balance_micros", int64_t{-1}), kDeposit - kBudget - kExtension);
  EXPECT_EQ(statement.value("held_micros", int64_t{-1}), 0);
  const Json earnings = get(p_->corp_url(), p_->owner_key(), "/v1/accounts/" + p_->owner_key().account_id());
  EXPECT_EQ(earnings.value("balance_micros", int64_t{-1}), kBudget + kExtension);
  expect_balanced("end");
}

}  // namespace
}  // namespace xop
