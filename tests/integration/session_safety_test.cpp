// Never lose a paying session, through the real `xop` binary on one home: concurrent deploys
// (each records its sessions as soon as their servers answer, under the home's lock, in its own
// scratch directory), and Ctrl-C during a deploy (nothing left charging unseen).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "deploy/user_home.h"
#include "integration/process_platform.h"

namespace xop::testing {
namespace {

using std::chrono::seconds;

class SessionSafetyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ProcessPlatformOptions o;
    o.servers = 3;
    o.runtime = "mock";  // sessions run (and charge) until stopped; no container needed
    platform_ = new ProcessPlatform(o);
    start_error_ = new std::string(platform_->start());
  }
  static void TearDownTestSuite() {
    delete platform_;
    delete start_error_;
    platform_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(start_error_->empty()) << *start_error_; }

  // A home for a fresh funded user, pointing at the platform.
  std::string make_home(const std::string& name, KeyPair& user) {
    user = platform_->new_user(name, 1000);
    const std::string dir = tmp_.file(name + "-home");
    UserHome home(dir);
    EXPECT_TRUE(home.save_key(user).has_value());
    EXPECT_TRUE(home.save_config(UserConfig{platform_->corp_url(), platform_->xis_url()}).has_value());
    return dir;
  }

  // A manifest; `image` is a layout directory or an archive of one.
  std::string make_manifest(const std::string& name, const std::string& image, int count) {
    const std::string path = tmp_.file(name + ".yaml");
    write_file(path,
               "name: " + name + "\nimage: " + image +
                   "\nresources:\n  cpu_millis: 100\n  memory_mib: 16\n  pids: 16\ncount: " + std::to_string(count) +
                   "\nnear: {lat: 51.5, lon: -0.12}\nmax_price_per_hour: \"5.0\"\nbudget: \"1.0\"\n");
    return path;
  }

  static std::string image_dir() { return std::string(XOP_BUILD_DIR) + "/images/burner"; }

  // Runs `xop ARGS...` to completion; returns its exit code (-1 if it did not exit in time).
  int xop(const std::vector<std::string>& args, const std::string& log, std::string* output = nullptr) {
    std::vector<std::string> argv{XOP_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess p(argv, log);
    if (!poll_until([&] { return !p.running(); }, seconds(60))) return -1;
    const int st = p.stop();
    if (output != nullptr) *output = p.log();
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  // The user's sessions as each server's session API reports them: id -> session JSON.
  static std::map<std::string, Json> server_sessions(const KeyPair& user) {
    std::map<std::string, Json> out;
    for (const auto& url : platform_->server_urls()) {
      auto c = ApiClient::connect(url, user);
      auto r = c->call("GET", "/v1/sessions");
      EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
      if (!r) continue;
      for (const auto& s : r->value("sessions", Json::array())) out[s.value("id", "")] = s;
    }
    return out;
  }

  // The user's purchase orders per the corp: po_id -> state.
  static std::map<std::string, std::string> purchase_orders(const KeyPair& user) {
    std::map<std::string, std::string> out;
    auto corp = ApiClient::connect(platform_->corp_url(), user);
    auto r = corp->call("GET", "/v1/statements/" + user.account_id());
    if (!r) return out;
    for (const auto& po : r->value("purchase_orders", Json::array()))
      out[po.value("po_id", "")] = po.value("state", "");
    return out;
  }

  static std::set<std::string> home_sessions(const std::string& home) {
    std::set<std::string> ids;
    auto known = UserHome(home).load_sessions();
    EXPECT_TRUE(known.has_value()) << (known ? "" : known.error().message);
    if (known) {
      for (const auto& d : *known) ids.insert(d.session);
    }
    return ids;
  }

  static ProcessPlatform* platform_;
  static std::string* start_error_;
  TempDir tmp_;
};

ProcessPlatform* SessionSafetyTest::platform_ = nullptr;
std::string* SessionSafetyTest::start_error_ = nullptr;

// Six `xop deploy` at once on one home, from an image archive: every session is recorded,
// `xop sessions` shows them all, and `xop stop --all` stops every one at its server.
TEST_F(SessionSafetyTest, SixConcurrentDeploysOnOneHomeAreAllRecordedAndStopped) {
  KeyPair user;
  const std::string home = make_home("six", user);
  const std::string archive = tmp_.file("burner.tar");
  ASSERT_EQ(std::system(("tar -C " + image_dir() + " -cf " + archive + " .").c_str()), 0);
  const std::string manifest = make_manifest("six", archive, 1);
  std::vector<std::unique_ptr<ChildProcess>> runs;
  for (int i = 0; i < 6; ++i) {
    runs.push_back(
        std::make_unique<ChildProcess>(std::vector<std::string>{XOP_BINARY, "--home", home, "deploy", manifest},
                                       tmp_.file("deploy" + std::to_string(i) + ".log")));
  }
  for (auto& r : runs) {
    ASSERT_TRUE(poll_until([&] { return !r->running(); }, seconds(60)));
    const int st = r->stop();
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << r->log();
  }
  const auto live = server_sessions(user);
  ASSERT_EQ(live.size(), 6u) << platform_->logs();
  const auto recorded = home_sessions(home);
  for (const auto& [id, s] : live) {
    EXPECT_EQ(s.value("state", ""), "running") << id;
    EXPECT_TRUE(recorded.count(id)) << id << " is running but not in the home";
  }
  // Every run removed its own scratch directory.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(home + "/scratch", ec)) ADD_FAILURE() << e.path();

  std::string out;
  ASSERT_EQ(xop({"--home", home, "--json", "sessions"}, tmp_.file("sessions.log"), &out), 0) << out;
  for (const auto& [id, s] : live) EXPECT_NE(out.find(id), std::string::npos) << id << " not listed:\n" << out;

  ASSERT_EQ(xop({"--home", home, "stop", "--all"}, tmp_.file("stop.log"), &out), 0) << out;
  for (const auto& [id, s] : server_sessions(user)) EXPECT_EQ(s.value("state", ""), "stopped") << id;
}

// Ctrl-C right after the first purchase order: nothing keeps charging unseen. Every session
// started is stopped, every purchase order is closed (or closing), the exit code is 130.
TEST_F(SessionSafetyTest, InterruptAfterFirstPurchaseOrderLeavesNothingCharging) {
  KeyPair user;
  const std::string home = make_home("ctrlc", user);
  const std::string manifest = make_manifest("ctrlc", image_dir(), 3);
  ChildProcess p({"/usr/bin/env", "XOP_TEST_PAUSE_AFTER_FIRST_PO=1", XOP_BINARY, "--home", home, "deploy", manifest},
                 tmp_.file("ctrlc.log"));
  ASSERT_TRUE(poll_until([&] { return !purchase_orders(user).empty(); }, seconds(30))) << p.log();
  ASSERT_EQ(::kill(p.pid(), SIGINT), 0);
  ASSERT_TRUE(poll_until([&] { return !p.running(); }, seconds(60))) << p.log();
  const int st = p.stop();
  ASSERT_TRUE(WIFEXITED(st)) << p.log();
  EXPECT_EQ(WEXITSTATUS(st), 130) << p.log();
  const auto recorded = home_sessions(home);
  std::set<std::string> with_session;
  for (const auto& [id, s] : server_sessions(user)) {
    EXPECT_EQ(s.value("state", ""), "stopped") << id << "\n" << p.log();
    EXPECT_TRUE(recorded.count(id)) << id << " not in the home";
    with_session.insert(s.value("po_id", ""));
  }
  // No purchase order stays open: closed by the CLI (no session) or by its session's end.
  EXPECT_TRUE(poll_until(
      [&] {
        for (const auto& [po, state] : purchase_orders(user)) {
          if (state == "open") return false;
        }
        return true;
      },
      seconds(30)))
      << p.log();
}

// Interrupted once the other two workers' sessions run (the first PO's worker is held): by default
// they are stopped (exit 130), with --keep-partial they keep running, each recorded in the home
// (exit 3). Either way the held worker's PO, which has no session, is closed.
class InterruptAfterSessionsTest : public SessionSafetyTest, public ::testing::WithParamInterface<bool> {};

TEST_P(InterruptAfterSessionsTest, StartedSessionsAreStoppedOrKeptAndRecorded) {
  const bool keep = GetParam();
  KeyPair user;
  const std::string name = keep ? "keep" : "stopall";
  const std::string home = make_home(name, user);
  const std::string manifest = make_manifest(name, image_dir(), 3);
  std::vector<std::string> argv{"/usr/bin/env", "XOP_TEST_PAUSE_AFTER_FIRST_PO=1", XOP_BINARY, "--home", home,
                                "deploy"};
  if (keep) argv.push_back("--keep-partial");
  argv.push_back(manifest);
  ChildProcess p(argv, tmp_.file(name + ".log"));
  auto running = [&] {
    size_t n = 0;
    for (const auto& [id, s] : server_sessions(user)) n += s.value("state", "") == "running" ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(poll_until([&] { return running() == 2; }, seconds(30))) << p.log();
  ASSERT_EQ(::kill(p.pid(), keep ? SIGTERM : SIGINT), 0);
  ASSERT_TRUE(poll_until([&] { return !p.running(); }, seconds(60))) << p.log();
  const int st = p.stop();
  ASSERT_TRUE(WIFEXITED(st)) << p.log();
  EXPECT_EQ(WEXITSTATUS(st), keep ? 3 : 130) << p.log();
  const auto recorded = home_sessions(home);
  const auto live = server_sessions(user);
  EXPECT_EQ(live.size(), 2u);
  for (const auto& [id, s] : live) {
    EXPECT_EQ(s.value("state", ""), keep ? "running" : "stopped") << id << "\n" << p.log();
    EXPECT_TRUE(recorded.count(id)) << id << " not in the home";
  }
  // Three POs were bought; the one without a session is closed (or closing) already.
  const auto pos = purchase_orders(user);
  EXPECT_EQ(pos.size(), 3u);
  for (const auto& [po, state] : pos) {
    bool has_session = false;
    for (const auto& [id, s] : live) has_session = has_session || s.value("po_id", "") == po;
    if (!has_session) {
      EXPECT_NE(state, "open") << po << "\n" << p.log();
    }
  }
  if (!keep) {
    EXPECT_TRUE(poll_until(
        [&] {
          for (const auto& [po, state] : purchase_orders(user)) {
            if (state == "open") return false;
          }
          return true;
        },
        seconds(30)));
  }
}

INSTANTIATE_TEST_SUITE_P(StopOrKeep, InterruptAfterSessionsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "KeepPartial" : "StopByDefault";
                         });

// The platform is the source of truth: a session the home lost (its record deleted) is still
// listed by `xop sessions`, "found on" its server, and `xop stop ID` stops it.
TEST_F(SessionSafetyTest, UnrecordedSessionIsFoundOnThePlatformAndStoppable) {
  KeyPair user;
  const std::string home = make_home("lost", user);
  std::string out;
  ASSERT_EQ(xop({"--home", home, "deploy", make_manifest("lost", image_dir(), 1)}, tmp_.file("lost.log"), &out), 0)
      << out;
  const auto live = server_sessions(user);
  ASSERT_EQ(live.size(), 1u);
  const std::string id = live.begin()->first;
  std::filesystem::remove(home + "/sessions.jsonl");
  std::filesystem::remove(home + "/sessions.json");
  ASSERT_TRUE(home_sessions(home).empty());

  ASSERT_EQ(xop({"--home", home, "sessions"}, tmp_.file("lost-sessions.log"), &out), 0) << out;
  EXPECT_NE(out.find(id.substr(0, 12)), std::string::npos) << out;  // tables show short ids
  EXPECT_NE(out.find("found on xs-"), std::string::npos) << out;
  ASSERT_EQ(xop({"--home", home, "--json", "sessions"}, tmp_.file("lost-json.log"), &out), 0) << out;
  auto j = parse_json(out);
  ASSERT_TRUE(j.has_value()) << out;
  ASSERT_EQ((*j)["sessions"].size(), 1u) << out;
  EXPECT_EQ((*j)["sessions"][0].value("id", ""), id);
  EXPECT_EQ((*j)["sessions"][0].value("recorded", true), false);
  EXPECT_EQ((*j)["sessions"][0].value("found_on", "").rfind("xs-", 0), 0u) << out;

  EXPECT_EQ(out.find("has no session"), std::string::npos) << out;

  // A purchase order bought but never used (a deploy killed in between) is named in a note.
  auto xis = ApiClient::connect(platform_->xis_url(), std::nullopt);
  auto adverts = xis->call("GET", "/v1/adverts");
  ASSERT_TRUE(adverts.has_value());
  const Json& ad = (*adverts)["adverts"][0];
  auto corp = ApiClient::connect(platform_->corp_url(), user);
  auto po = corp->call(
      "POST", "/v1/purchase-orders",
      Json{{"server", ad["body"]["server"]}, {"price_sheet", ad["body"]["price_sheet"]}, {"max_amount_micros", 1000}});
  ASSERT_TRUE(po.has_value()) << po.error().message << "\n" << ad.dump();
  const std::string po_id = (*po)["purchase_order"]["body"].value("po_id", "");
  ASSERT_FALSE(po_id.empty());
  ASSERT_EQ(xop({"--home", home, "sessions"}, tmp_.file("lost-po.log"), &out), 0) << out;
  EXPECT_NE(out.find("purchase order " + po_id + " on xs-"), std::string::npos) << out;
  EXPECT_NE(out.find("has no session"), std::string::npos) << out;

  ASSERT_EQ(xop({"--home", home, "stop", id}, tmp_.file("lost-stop.log"), &out), 0) << out;
  EXPECT_EQ(server_sessions(user).at(id).value("state", ""), "stopped");
}

// Servers are addressed by identity: a server restarted on another port is found through its
// signed advert at XIS, and `xop stop` reaches it there (the home still caches the old port).
class FollowServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    ProcessPlatformOptions o;
    o.servers = 1;
    platform_ = std::make_unique<ProcessPlatform>(o);
    const std::string err = platform_->start();
    ASSERT_TRUE(err.empty()) << err;
  }
  std::unique_ptr<ProcessPlatform> platform_;
  TempDir tmp_;
};

TEST_F(FollowServerTest, StopReachesAServerRestartedOnANewPort) {
  const KeyPair user = platform_->new_user("follow", 100);
  const std::string home = tmp_.file("home");
  ASSERT_TRUE(UserHome(home).save_key(user));
  ASSERT_TRUE(UserHome(home).save_config(UserConfig{platform_->corp_url(), platform_->xis_url()}));
  const std::string manifest = tmp_.file("m.yaml");
  write_file(manifest, "name: follow\nimage: " + std::string(XOP_BUILD_DIR) +
                           "/images/burner\nresources:\n  cpu_millis: 100\n  memory_mib: 32\n  pids: 16\ncount: 1\n"
                           "near: {lat: 51.5, lon: -0.12}\nmax_price_per_hour: \"5.0\"\nbudget: \"1.0\"\n");
  auto run = [&](const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> argv{XOP_BINARY, "--home", home};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess p(argv, tmp_.file(log));
    EXPECT_TRUE(poll_until([&] { return !p.running(); }, seconds(60)));
    const int st = p.stop();
    return std::make_pair(WIFEXITED(st) ? WEXITSTATUS(st) : -1, p.log());
  };
  auto [code, log] = run({"deploy", manifest}, "deploy.log");
  ASSERT_EQ(code, 0) << log << platform_->logs();
  auto known = UserHome(home).load_sessions();
  ASSERT_TRUE(known && known->size() == 1u);
  const DeployedSession d = known->front();
  const std::string old_url = platform_->server_urls()[0];
  EXPECT_EQ(d.endpoint, old_url);

  ASSERT_EQ(platform_->restart_server(0), "");
  const std::string new_url = platform_->server_urls()[0];
  ASSERT_NE(new_url, old_url);
  // XIS has the server's new advert.
  auto xis = ApiClient::connect(platform_->xis_url(), std::nullopt);
  ASSERT_TRUE(poll_until(
      [&] {
        auto r = xis->call("GET", "/v1/adverts");
        return r && r->dump().find(new_url) != std::string::npos;
      },
      seconds(20)))
      << platform_->logs();
  auto server = ApiClient::connect(new_url, user);
  auto before = server->call("GET", "/v1/sessions/" + d.session);
  ASSERT_TRUE(before.has_value()) << before.error().message << platform_->logs();
  EXPECT_EQ(before->value("session", Json::object()).value("state", ""), "running");

  std::tie(code, log) = run({"stop", d.session}, "stop.log");
  ASSERT_EQ(code, 0) << log;
  auto after = server->call("GET", "/v1/sessions/" + d.session);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->value("session", Json::object()).value("state", ""), "stopped");
}

}  // namespace
}  // namespace xop::testing
