// End to end over separate processes: `xop corp`, `xop xis` and three `xop server` on loopback,
// a real container under runc, real cgroups, real signatures and SQLite.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "deploy/deployer.h"
#include "integration/process_platform.h"
#include "proto/charge.h"
#include "proto/purchase_order.h"
#include "proto/usage_record.h"
#include "server/cgroup.h"

namespace xop::testing {
namespace {

const std::vector<std::string> kBurner = {"/bin/sh", "-c", "trap 'exit 0' TERM; while :; do :; done"};

class PlatformTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!container_skip_reason().empty()) return;
    platform_ = new ProcessPlatform(ProcessPlatformOptions{});
    start_error_ = new std::string(platform_->start());
  }
  static void TearDownTestSuite() {
    delete platform_;
    delete start_error_;
    platform_ = nullptr;
  }
  void SetUp() override {
    if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(start_error_->empty()) << *start_error_;
  }

  static std::string image_dir() { return std::string(XOP_BUILD_DIR) + "/images/burner"; }

  DeployManifest manifest(int64_t cpu_millis, Money budget, const std::string& near_city_lat_lon = "london") const {
    DeployManifest m;
    m.name = "burner";
    m.image = image_dir();
    m.command = kBurner;
    m.resources.cpu_millis = cpu_millis;
    m.resources.memory_bytes = 64LL << 20;
    m.count = 1;
    m.near = near_city_lat_lon == "london" ? GeoPoint{51'507'400, -127'800} : GeoPoint{35'676'200, 139'650'300};
    m.budget = budget;
    return m;
  }

  DeployOutcome deploy_one(const KeyPair& user, const DeployManifest& m) {
    Deployer d(user, platform_->corp_url(), platform_->xis_url(), platform_->dir().file("scratch"));
    auto r = d.deploy(m, nullptr);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    if (!r || r->outcomes.size() != 1) return {};
    EXPECT_TRUE(r->outcomes[0].ok) << r->outcomes[0].error << "\n" << platform_->logs();
    return r->outcomes[0];
  }

  static Json statement(const KeyPair& user) {
    auto corp = ApiClient::connect(platform_->corp_url(), user);
    auto r = corp->call("GET", "/v1/statements/" + user.account_id());
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : Json::object();
  }

  static Json po_state(const KeyPair& user, const std::string& po) {
    auto corp = ApiClient::connect(platform_->corp_url(), user);
    auto r = corp->call("GET", "/v1/purchase-orders/" + po);
    return r ? *r : Json::object();
  }

  static void expect_ledger_balanced() {
    // The admin key gets a fresh check (an anonymous caller may get one cached for a few seconds).
    auto corp = ApiClient::connect(platform_->corp_url(), platform_->admin());
    auto r = corp->call("GET", "/v1/ledger/check");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->value("balanced", false)) << r->dump();
    EXPECT_EQ(r->value("total_micros", int64_t{-1}), 0);
  }

  static ProcessPlatform* platform_;
  static std::string* start_error_;
};

ProcessPlatform* PlatformTest::platform_ = nullptr;
std::string* PlatformTest::start_error_ = nullptr;

// The CPU charged matches what the session's cgroup measured, within 2%.
TEST_F(PlatformTest, CpuChargedMatchesCgroupMeasurement) {
  const KeyPair user = platform_->new_user("cpu-user", 100);
  const auto out = deploy_one(user, manifest(500, Money::micros(50'000'000)));
  ASSERT_FALSE(out.session.empty());

  auto server = ApiClient::connect(out.endpoint, user);
  auto info = server->call("GET", "/v1/info");
  ASSERT_TRUE(info.has_value());
  const std::string rel = "xop-" + info->value("server", std::string()).substr(1, 12) + "/" + out.session;
  auto layout = detect_cgroup_layout("/sys/fs/cgroup");
  ASSERT_TRUE(layout.has_value()) << layout.error().message;

  // Watch the kernel's counter as fast as we can until the cgroup disappears; the last value
  // read is the final one (the server samples it after the workload died, then removes it).
  std::atomic<int64_t> last_kernel_ns{0};
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      auto u = read_session_usage(*layout, rel);
      if (u) last_kernel_ns.store(u->cpu_ns);
      std::this_thread::yield();
    }
  });
  // Let it burn for a while (at least 1.5 CPU-seconds at half a core), then stop it.
  EXPECT_TRUE(poll_until([&] { return last_kernel_ns.load() > 1'500'000'000; }, std::chrono::seconds(30)));
  auto stopped = server->call("DELETE", "/v1/sessions/" + out.session);
  ASSERT_TRUE(stopped.has_value()) << stopped.error().message;
  EXPECT_EQ(stopped->value("session", Json::object()).value("state", ""), "stopped");
  EXPECT_TRUE(
      poll_until([&] { return po_state(user, out.po_id).value("state", "") == "closed"; }, std::chrono::seconds(20)));
  done = true;
  watcher.join();

  // Sum the CPU in the usage records the corp settled, and their charges.
  const Json st = statement(user);
  int64_t charged_cpu_ns = 0;
  int64_t charged = 0;
  int records = 0;
  bool saw_final = false;
  for (const auto& po : st.value("purchase_orders", Json::array())) {
    if (po.value("po_id", "") != out.po_id) continue;
    for (const auto& rec : po.value("records", Json::array())) {
      charged_cpu_ns += rec.value("used", Json::object()).value("cpu_ns", int64_t{0});
      charged += rec.value("charged_micros", int64_t{0});
      saw_final = saw_final || rec.value("final", false);
      ++records;
    }
  }
  const int64_t kernel = last_kernel_ns.load();
  ASSERT_GT(kernel, 1'000'000'000);
  EXPECT_TRUE(saw_final);
  EXPECT_GE(records, 2);
  EXPECT_GT(charged, 0);
  const double ratio = static_cast<double>(charged_cpu_ns) / static_cast<double>(kernel);
  std::printf("cpu charged %lld ns, cgroup measured %lld ns, ratio %.5f over %d records\n",
              static_cast<long long>(charged_cpu_ns), static_cast<long long>(kernel), ratio, records);
  EXPECT_NEAR(ratio, 1.0, 0.02) << "charged " << charged_cpu_ns << " ns, cgroup measured " << kernel << " ns";
  // The hold was released: nothing stays held for this user.
  EXPECT_EQ(st.value("held_micros", int64_t{-1}), 0);
  expect_ledger_balanced();
}

// A purchase order that runs dry stops its session within two charging intervals.
TEST_F(PlatformTest, ExhaustedPurchaseOrderStopsSession) {
  const KeyPair user = platform_->new_user("dry-user", 10);
  // 0.0004 credits lasts a few seconds at the default rates for 1000 milli-cores.
  const auto out = deploy_one(user, manifest(1000, Money::micros(400), "tokyo"));
  ASSERT_FALSE(out.session.empty());
  int64_t exhausted_seen_at = 0;
  ASSERT_TRUE(poll_until(
      [&] {
        auto p = po_state(user, out.po_id);
        if (p.value("remaining_micros", int64_t{-1}) == 0) {
          exhausted_seen_at = SystemClock::instance().now_ms();
          return true;
        }
        return false;
      },
      std::chrono::seconds(60)))
      << platform_->logs();
  auto server = ApiClient::connect(out.endpoint, user);
  Json session;
  ASSERT_TRUE(poll_until(
      [&] {
        auto r = server->call("GET", "/v1/sessions/" + out.session);
        if (!r) return false;
        session = r->value("session", Json::object());
        return session.value("state", "") == "stopped";
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(session.value("reason", ""), "funds-exhausted") << "freeze_grace_ms = 0: stopped at once";
  // Two charging intervals (1 s each) plus the stop grace (0.5 s).
  EXPECT_LE(session.value("stopped_at", int64_t{0}) - exhausted_seen_at, 2 * 1000 + 500);
  const Json st = statement(user);
  for (const auto& po : st.value("purchase_orders", Json::array())) {
    if (po.value("po_id", "") == out.po_id) {
      EXPECT_EQ(po.value("charged_micros", int64_t{0}), 400);
    }
  }
  expect_ledger_balanced();
}

// Through the real daemons: a session writing past its reserved disk gets ENOSPC, its writes are
// metered and charged, and once it ended only its log is left on the server; a memory bomb is
// reported as oom-killed in the session view.
TEST_F(PlatformTest, DiskIsBoundedMeteredAndReclaimedAndOomKillsAreNamed) {
  const KeyPair user = platform_->new_user("disk-user", 100);
  DeployManifest fill = manifest(500, Money::micros(50'000'000));
  fill.command = {"/bin/sh", "-c", "dd if=/dev/zero of=/fill bs=1M count=64; echo dd-exit=$?"};
  fill.resources.disk_bytes = 16LL << 20;
  const auto out = deploy_one(user, fill);
  ASSERT_FALSE(out.session.empty());
  auto server = ApiClient::connect(out.endpoint, user);
  Json session;
  const auto ended = [&](const std::string& id) {
    return poll_until(
        [&] {
          auto r = server->call("GET", "/v1/sessions/" + id);
          if (!r) return false;
          session = r->value("session", Json::object());
          return session.value("state", "") == "stopped";
        },
        std::chrono::seconds(30));
  };
  ASSERT_TRUE(ended(out.session)) << platform_->logs();
  auto logs = server->call("GET", "/v1/sessions/" + out.session + "/logs");
  ASSERT_TRUE(logs.has_value());
  const std::string log = logs->value("logs", "");
  EXPECT_NE(log.find("No space left on device"), std::string::npos) << log;
  EXPECT_EQ(session.value("exit_reason", ""), "exited");
  // What dd managed to write before the disk was full: most of the 16 MiB, metered as such.
  const int64_t disk = session.value("usage", Json::object()).value("disk_bytes", int64_t{0});
  std::printf("a session with 16 MiB of disk trying to write 64 MiB was metered %lld disk bytes\n",
              static_cast<long long>(disk));
  EXPECT_GE(disk, 12LL << 20);
  EXPECT_LE(disk, 17LL << 20);
  // Only the log is left of it on the server (whichever server it ran on).
  int found = 0;
  for (int i = 0; i < 3; ++i) {
    const std::string dir = platform_->dir().file("server" + std::to_string(i)) + "/sessions/" + out.session;
    if (!std::filesystem::exists(dir)) continue;
    ++found;
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().filename().string());
    EXPECT_EQ(left, std::vector<std::string>{"output.log"});
  }
  EXPECT_EQ(found, 1);

  DeployManifest bomb = manifest(500, Money::micros(50'000'000));
  bomb.command = {"/bin/sh", "-c", "x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while :; do x=$x$x; done"};
  bomb.resources.memory_bytes = 16LL << 20;
  const auto oom = deploy_one(user, bomb);
  ASSERT_FALSE(oom.session.empty());
  server = ApiClient::connect(oom.endpoint, user);
  ASSERT_TRUE(ended(oom.session)) << platform_->logs();
  EXPECT_EQ(session.value("exit_reason", ""), "oom-killed") << session.dump();
  EXPECT_EQ(session.value("exit_code", 0), 137);
}

// A user cannot read another user's statement, nor see, read or stop her sessions. The victim
// has a running session and a purchase order, so there is something to leak: her own requests
// see them (the positive control), the stranger's must not.
TEST_F(PlatformTest, StatementsArePrivate) {
  const KeyPair alice = platform_->new_user("alice", 1);
  const KeyPair mallory = platform_->new_user("mallory", 1);
  const auto out = deploy_one(alice, manifest(250, Money::micros(500'000)));
  ASSERT_FALSE(out.session.empty());
  auto alice_server = ApiClient::connect(out.endpoint, alice);
  auto mine = alice_server->call("GET", "/v1/sessions");
  ASSERT_TRUE(mine.has_value()) << mine.error().message;
  ASSERT_EQ(mine->value("sessions", Json::array()).size(), 1u) << mine->dump();
  EXPECT_EQ(mine->value("sessions", Json::array())[0].value("id", ""), out.session) << mine->dump();
  bool alice_sees_po = false;
  for (const auto& po : statement(alice).value("purchase_orders", Json::array())) {
    alice_sees_po = alice_sees_po || po.value("po_id", "") == out.po_id;
  }
  EXPECT_TRUE(alice_sees_po);

  auto corp = ApiClient::connect(platform_->corp_url(), mallory);
  auto r = corp->call("GET", "/v1/statements/" + alice.account_id());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  auto po = corp->call("GET", "/v1/purchase-orders/" + out.po_id);
  EXPECT_FALSE(po.has_value()) << po->dump();

  auto server = ApiClient::connect(out.endpoint, mallory);
  auto list = server->call("GET", "/v1/sessions");
  ASSERT_TRUE(list.has_value()) << list.error().message;
  EXPECT_TRUE(list->value("sessions", Json::array()).empty()) << list->dump();
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/sessions/" + out.session},
                                                        {"GET", "/v1/sessions/" + out.session + "/logs"},
                                                        {"DELETE", "/v1/sessions/" + out.session}}) {
    auto peek = server->call(method, path);
    EXPECT_FALSE(peek.has_value()) << method << " " << path << ": " << peek->dump();
  }
  // Mallory's DELETE stopped nothing.
  auto still = alice_server->call("GET", "/v1/sessions/" + out.session);
  ASSERT_TRUE(still.has_value()) << still.error().message;
  EXPECT_EQ(still->value("session", Json::object()).value("state", ""), "running") << still->dump();
  ASSERT_TRUE(alice_server->call("DELETE", "/v1/sessions/" + out.session).has_value());
}

}  // namespace
}  // namespace xop::testing
