// The whole platform in one process on a simulated clock (sim/platform.h): register, advertise,
// deploy, meter, settle, stop and check, with no root, no socket and no sleep. The ground truth is
// the workloads' declared burn (sim/sim_sandbox.h), never the meter's count.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "client/api_client.h"
#include "corp/corp_service.h"
#include "deploy/deployer.h"
#include "proto/price_sheet.h"
#include "server/burner_image.h"
#include "sim/platform.h"
#include "sim/sim_network.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::TempDir;

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kReservedMillicores = 500;
constexpr int64_t kBurnMillicores = 250;
constexpr int64_t kReservedMemory = int64_t{64} << 20;
constexpr int64_t kHeldMemory = int64_t{1} << 20;

PlatformOptions sim_options(const std::string& dir, SimulatedClock& clock, uint64_t seed) {
  PlatformOptions o;
  o.data_dir = dir;
  o.servers = 3;
  o.sim_clock = &clock;
  o.seed = seed;
  o.sample_interval_ms = 5'000;
  o.charging_interval_ms = 60'000;
  o.advert_interval_ms = 30'000;
  o.stop_grace_ms = 10'000;
  return o;
}

// What one scenario run saw, compared across runs of the same seed.
struct Outcome {
  std::vector<std::string> servers;  // where the sessions were placed, in order
  std::vector<int64_t> charged;      // per PO, micro-credits
  std::vector<int64_t> cpu_ns;       // per PO, as the settled records say
  int64_t user_balance = 0;
  std::vector<std::string> po_ids;    // as the corp minted them
  std::vector<std::string> sessions;  // as the servers minted them
  std::string statement;              // the user's whole statement, as the corp answered it
  bool operator==(const Outcome&) const = default;
};

class SimScenario {
 public:
  SimScenario(const std::string& dir, uint64_t seed) : dir_(dir) {
    auto p = Platform::start(sim_options(dir, clock_, seed));
    if (!p) {
      ADD_FAILURE() << p.error().to_string();
      return;
    }
    platform_ = std::move(*p);
  }
  ~SimScenario() {
    if (platform_) platform_->stop();
  }
  SimScenario(const SimScenario&) = delete;
  SimScenario& operator=(const SimScenario&) = delete;

  Platform& p() { return *platform_; }
  [[nodiscard]] bool ok() const { return platform_ != nullptr; }
  SimulatedClock& clock() { return clock_; }

  ApiClient client(const std::string& url, std::optional<KeyPair> key) {
    auto c = ApiClient::connect(url, std::move(key), clock_, platform_->connector());
    EXPECT_TRUE(c) << url;
    return std::move(*c);
  }

  KeyPair funded_user(int64_t micros) {
    KeyPair user = platform_->new_key();
    EXPECT_TRUE(client(p().corp_url(), user).call("POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "alice"}}));
    EXPECT_TRUE(client(p().corp_url(), p().admin_key())
                    .call("POST", "/v1/deposits", Json{{"account", user.account_id()}, {"amount_micros", micros}}));
    return user;
  }

  Json get(const std::string& url, const KeyPair& key, const std::string& path) {
    auto r = client(url, key).call("GET", path);
    EXPECT_TRUE(r) << path << ": " << (r ? "" : r.error().message);
    return r ? *r : Json::object();
  }

  int adverts() {
    auto r = client(p().xis_url(), std::nullopt).call("GET", "/v1/info");
    return r ? r->value("adverts", 0) : -1;
  }

 private:
  std::string dir_;
  SimulatedClock clock_;
  std::unique_ptr<Platform> platform_;
};

DeployManifest burner_manifest(const std::string& image, int64_t count) {
  DeployManifest m;
  m.name = "sim-burner";
  m.image = image;
  m.command = {"/bin/sh", "-c", "exec burn"};  // SimSandbox runs what the env says
  m.env = {{"XOP_SIM_CPU_MILLICORES", std::to_string(kBurnMillicores)},
           {"XOP_SIM_MEMORY_BYTES", std::to_string(kHeldMemory)}};
  m.resources.cpu_millis = kReservedMillicores;
  m.resources.memory_bytes = kReservedMemory;
  m.count = count;
  m.near = GeoPoint{51'507'400, -127'800};  // London
  m.budget = Money::micros(5'000'000);
  return m;
}

// The charge for `ms` of a session from the price sheet's rates, computed here by hand from the
// reservation and the declared burn (not by proto/charge.h, which the corp used).
double expected_micros(const Rates& r, int64_t ms) {
  const double hours = static_cast<double>(ms) / 3'600'000.0;
  const double gib = 1024.0 * 1024.0 * 1024.0;
  return hours * (static_cast<double>(r.cpu_reserve_per_core_hour) * kReservedMillicores / 1000.0 +
                  static_cast<double>(r.memory_reserve_per_gib_hour) * static_cast<double>(kReservedMemory) / gib +
                  static_cast<double>(r.cpu_use_per_core_hour) * kBurnMillicores / 1000.0 +
                  static_cast<double>(r.memory_use_per_gib_hour) * static_cast<double>(kHeldMemory) / gib);
}

Outcome run_scenario(const std::string& dir, uint64_t seed, const std::string& image) {
  Outcome out;
  SimScenario s(dir, seed);
  if (!s.ok()) return out;
  Platform& p = s.p();

  // Registered and advertising: every server is in XIS after start-up, with no time passing.
  EXPECT_EQ(s.adverts(), 3);
  const int64_t deposit = 20'000'000;
  const KeyPair user = s.funded_user(deposit);

  Deployer d(user, p.corp_url(), p.xis_url(), dir + "/scratch", s.clock());
  d.set_connector(p.connector());
  d.set_parallelism(1);  // concurrent placements would draw the corp's ids in a racing order
  auto r = d.deploy(burner_manifest(image, 2), nullptr);
  EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
  if (!r) return out;
  std::vector<DeployOutcome> placed;
  for (const auto& o : r->outcomes) {
    EXPECT_TRUE(o.ok) << o.name << ": " << o.error;
    if (o.ok) placed.push_back(o);
  }
  EXPECT_EQ(placed.size(), 2u);
  EXPECT_EQ(placed[0].name, "xs-1-London") << "the nearest server first";
  const TimeMs started = s.clock().now_ms();

  // An hour passes: the servers sample, write records and settle them every minute.
  p.advance(kHourMs);
  for (const auto& o : placed) {
    const Json st = s.get(o.endpoint, user, "/v1/sessions/" + o.session);
    EXPECT_EQ(st.value("session", Json::object()).value("state", ""), "running") << st.dump();
  }
  // Advertised all along: XIS still holds every server (adverts would have expired otherwise).
  EXPECT_EQ(s.adverts(), 3);

  // Stop both at the same instant; the next round delivers the final records.
  for (const auto& o : placed) {
    auto stopped = s.client(o.endpoint, user).call("DELETE", "/v1/sessions/" + o.session);
    EXPECT_TRUE(stopped) << (stopped ? "" : stopped.error().message);
  }
  const int64_t ran_ms = s.clock().now_ms() - started;
  EXPECT_EQ(ran_ms, kHourMs);
  p.advance(5'000);

  // Settled: each PO closed with the declared burn charged at its server's advertised prices.
  const Json statement = s.get(p.corp_url(), user, "/v1/statements/" + user.account_id());
  int64_t total = 0;
  for (const auto& o : placed) {
    const Json po = s.get(p.corp_url(), user, "/v1/purchase-orders/" + o.po_id);
    EXPECT_EQ(po.value("state", ""), "closed") << po.dump();
    const Json info = s.get(o.endpoint, user, "/v1/info");
    auto sheet = SignedDoc::from_json(info.value("price_sheet", Json::object()), kPriceSheetType);
    EXPECT_TRUE(sheet);
    auto prices = sheet ? verify_price_sheet(*sheet) : Result<PriceSheet>(invalid("no sheet"));
    EXPECT_TRUE(prices);
    int64_t cpu_ns = 0;
    int64_t charged = 0;
    int64_t records = 0;
    for (const auto& spo : statement.value("purchase_orders", Json::array())) {
      if (spo.value("po_id", "") != o.po_id) continue;
      for (const auto& rec : spo.value("records", Json::array())) {
        cpu_ns += rec.value("used", Json::object()).value("cpu_ns", int64_t{0});
        charged += rec.value("charged_micros", int64_t{0});
        ++records;
      }
    }
    EXPECT_GE(records, 60) << "a record a minute";
    // Exact: the workload burned a quarter core for exactly the hour it ran.
    EXPECT_EQ(cpu_ns, kBurnMillicores * ran_ms * 1000) << o.name;
    if (prices) {
      const double want = expected_micros(prices->rates, ran_ms);
      // Each record's eight terms are rounded down to the micro-credit: never more than the
      // exact price, and less by at most one micro-credit per term per record.
      EXPECT_LE(static_cast<double>(charged), want) << o.name;
      EXPECT_GE(static_cast<double>(charged), want - static_cast<double>(8 * records)) << o.name;
      std::printf("%s: charged %lld micro-credits for one simulated hour, %.0f by hand from its prices\n",
                  o.name.c_str(), static_cast<long long>(charged), want);
    }
    out.servers.push_back(o.server);
    out.po_ids.push_back(o.po_id);
    out.sessions.push_back(o.session);
    out.charged.push_back(charged);
    out.cpu_ns.push_back(cpu_ns);
    total += charged;
  }
  // Money moved, none made or lost: the user paid exactly what was charged and holds nothing.
  out.user_balance = statement.value("balance_micros", int64_t{-1});
  out.statement = statement.dump();
  EXPECT_EQ(out.user_balance, deposit - total);
  EXPECT_EQ(statement.value("held_micros", int64_t{-1}), 0);
  auto check = p.corp().check_ledger();
  EXPECT_TRUE(check) << (check ? "" : check.error().message);
  if (check) {
    EXPECT_TRUE(check->balanced);
  }
  return out;
}

std::string burner_image(const TempDir& t) {
  const std::string dir = t.file("image");
  EXPECT_FALSE(testing::build_burner_image(dir).empty()) << "scripts/build-image failed";
  return dir;
}

TEST(SimPlatformTest, AnHourOfAWholePlatformIsChargedExactlyAndRepeatsWithItsSeed) {
  TempDir t;
  const std::string image = burner_image(t);
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome first = run_scenario(t.file("run1"), 42, image);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("one simulated hour (3 servers, 2 sessions) took %.2f s of wall time\n", wall);
  ASSERT_EQ(first.servers.size(), 2u);
  const Outcome again = run_scenario(t.file("run2"), 42, image);
  EXPECT_EQ(first, again) << "the same seed gives the same placement, charges, balances and ids";
  EXPECT_EQ(first.statement, again.statement) << "byte for byte, transaction ids and times included";
  const Outcome other = run_scenario(t.file("run3"), 7, image);
  EXPECT_NE(first.servers, other.servers) << "another seed, other server identities";
  EXPECT_NE(first.po_ids, other.po_ids) << "another seed, other ids";
  EXPECT_NE(first.sessions, other.sessions);
}

TEST(SimPlatformTest, AdvertsExpireWhileAServerIsUnreachableAndReturnWithIt) {
  TempDir t;
  SimScenario s(t.path(), 1);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.adverts(), 3);
  // The third server's host goes down: it neither runs nor answers (XIS cannot check it either).
  s.p().set_down(2, true);
  // XIS caps an advert's life at a minute; after two, the silent server is gone.
  s.p().advance(120'000);
  auto xis = s.client(s.p().xis_url(), std::nullopt);
  auto ads = xis.call("GET", "/v1/adverts");
  ASSERT_TRUE(ads);
  std::set<std::string> names;
  for (const auto& a : ads->value("adverts", Json::array())) {
    names.insert(a.value("body", Json::object()).value("name", ""));
  }
  EXPECT_EQ(names.size(), 2u) << ads->dump();
  EXPECT_FALSE(names.contains(s.p().servers()[2].name));
  EXPECT_TRUE(names.contains(s.p().servers()[0].name));
  // Back up: its next advert is accepted.
  s.p().set_down(2, false);
  s.p().advance(60'000);
  EXPECT_EQ(s.adverts(), 3);
}

TEST(SimPlatformTest, ABadOptionIsRefused) {
  TempDir t;
  SimulatedClock clock;
  PlatformOptions o = sim_options(t.path(), clock, 1);
  o.servers = 0;
  auto p = Platform::start(o);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace xop
