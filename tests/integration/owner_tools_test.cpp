// The owner's tools against separate processes (mock sandbox, no root): `xop server status` shows
// registration, advert, capacity in use, the sessions hosted with their users and the earnings;
// `xop earnings` shows what each server earned; neither shows anything to a stranger.
#include <gtest/gtest.h>

#include "deploy/deployer.h"
#include "deploy/user_home.h"
#include "integration/process_platform.h"
#include "integration/xop_run.h"

namespace xop::testing {
namespace {

class OwnerToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_ = std::make_unique<ProcessPlatform>(ProcessPlatformOptions{.servers = 1, .runtime = "mock"});
    const std::string err = platform_->start();
    ASSERT_TRUE(err.empty()) << err;
    ASSERT_EQ(platform_->server_urls().size(), 1u);
  }

  // A home for `key` pointed at the platform; returns its directory.
  std::string home_for(const KeyPair& key, const std::string& name) {
    const std::string dir = platform_->dir().file("home-" + name);
    UserHome home(dir);
    EXPECT_TRUE(home.save_key(key));
    EXPECT_TRUE(home.save_config(UserConfig{platform_->corp_url(), platform_->xis_url()}));
    return dir;
  }

  Json run_json(const std::string& home, const std::vector<std::string>& args, int expect_code = 0) {
    std::vector<std::string> full = {"--json", "--home", home};
    full.insert(full.end(), args.begin(), args.end());
    auto r = run_xop(full);
    EXPECT_EQ(r.code, expect_code) << r.out << r.err;
    auto j = parse_json(r.out);
    return j ? *j : Json::object();
  }

  std::unique_ptr<ProcessPlatform> platform_;
};

TEST_F(OwnerToolsTest, StatusAndEarningsShowTheOwnersServerAndNothingToStrangers) {
  const KeyPair user = platform_->new_user("alice", 10);
  DeployManifest m;
  m.name = "burner";
  m.image = std::string(XOP_BUILD_DIR) + "/images/burner";
  m.command = {"/bin/sh", "-c", "sleep 1000"};
  m.resources.cpu_millis = 500;
  m.resources.memory_bytes = 64LL << 20;
  m.count = 1;
  m.budget = Money::micros(5'000'000);
  Deployer d(user, platform_->corp_url(), platform_->xis_url(), platform_->dir().file("scratch"));
  auto deployed = d.deploy(m, nullptr);
  ASSERT_TRUE(deployed) << deployed.error().message;
  ASSERT_EQ(deployed->outcomes.size(), 1u);
  ASSERT_TRUE(deployed->outcomes[0].ok) << deployed->outcomes[0].error << platform_->logs();

  const std::string owner_home = home_for(platform_->owner(), "owner");
  const std::string url = platform_->server_urls()[0];
  // Wait until the corp settled some usage for the server (the charging interval is 1 s).
  Json earnings;
  ASSERT_TRUE(poll_until(
      [&] {
        earnings = run_json(owner_home, {"earnings"});
        return earnings.value("total", int64_t{0}) > 0;
      },
      std::chrono::seconds(30)))
      << earnings.dump() << platform_->logs();
  ASSERT_EQ(earnings["servers"].size(), 1u);
  EXPECT_EQ(earnings["servers"][0]["name"], "xs-0");

  const Json st = run_json(owner_home, {"server", "status", url});
  EXPECT_EQ(st.value("owner", ""), platform_->owner().account_id());
  EXPECT_TRUE(st["registration"].value("registered", false)) << st.dump();
  EXPECT_EQ(st["advert"].value("state", ""), "accepted") << st.dump();
  EXPECT_TRUE(st["advert"].value("fresh", false)) << st.dump();
  EXPECT_TRUE(st["corp"].value("reachable", false)) << st.dump();
  EXPECT_EQ(st["in_use"].value("cpu_millis", int64_t{0}), 500) << st.dump();
  ASSERT_EQ(st["sessions"].size(), 1u) << st.dump();
  EXPECT_EQ(st["sessions"][0]["user"], user.account_id());
  EXPECT_EQ(st["sessions"][0]["id"], deployed->outcomes[0].session);
  EXPECT_GT(st["earnings"].value("total", int64_t{0}), 0) << st.dump();

  // By identity: its id (a prefix) or its name, resolved through its signed advert at XIS.
  const std::string id = st.value("server", "");
  ASSERT_EQ(id.size(), 41u);
  EXPECT_EQ(run_json(owner_home, {"server", "status", id.substr(0, 10)}).value("server", ""), id);
  EXPECT_EQ(run_json(owner_home, {"server", "status", "xs-0"}).value("server", ""), id);
  auto nobody = run_xop({"--home", owner_home, "server", "status", "xs-nobody"});
  EXPECT_NE(nobody.code, 0);
  EXPECT_NE(nobody.err.find("no live advert"), std::string::npos) << nobody.err;

  // People read the same in a table: the user's short id, the earnings line.
  auto text = run_xop({"--home", owner_home, "server", "status", url});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find(user.account_id().substr(0, 12)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1 session(s) hosted"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("in total"), std::string::npos) << text.out;

  // A stranger (the user who deployed there) sees neither the status nor the owner's earnings.
  const std::string stranger_home = home_for(user, "alice");
  auto denied = run_xop({"--home", stranger_home, "server", "status", url});
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("owner only"), std::string::npos) << denied.err;
  EXPECT_EQ(denied.out.find(user.account_id().substr(0, 12)), std::string::npos) << denied.out;
  const Json theirs = run_json(stranger_home, {"earnings"});
  EXPECT_EQ(theirs["servers"].size(), 0u) << theirs.dump();
  EXPECT_EQ(theirs.value("total", int64_t{-1}), 0);
}

}  // namespace
}  // namespace xop::testing
