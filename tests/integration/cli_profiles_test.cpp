// Profiles and the XDG layout as a user meets them: separate keys and configs per profile, key and
// config under XDG_CONFIG_HOME, `xop dev` never overwriting a config it does not own.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/json_reader.h"
#include "integration/process_platform.h"
#include "integration/run_xop.h"

namespace xop::testing {
namespace {

class CliProfilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessPlatformOptions opts;
    opts.servers = 0;
    platform_ = std::make_unique<ProcessPlatform>(opts);
    ASSERT_EQ(platform_->start(), "");
    env_ = {{"HOME", t_.path()},
            {"XDG_CONFIG_HOME", t_.file("config")},
            {"XDG_STATE_HOME", t_.file("state")},
            {"XDG_CACHE_HOME", t_.file("cache")}};
  }
  std::string account_id(const std::vector<std::string>& args, std::map<std::string, std::string> extra = {}) {
    auto env = env_;
    for (const auto& [k, v] : extra) env[k] = v;
    auto r = run_xop(args, env);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    auto j = parse_json(r.out);
    EXPECT_TRUE(j) << r.out;
    return j ? j->value("account", "") : "";
  }

  TempDir t_;
  std::unique_ptr<ProcessPlatform> platform_;
  std::map<std::string, std::string> env_;
};

TEST_F(CliProfilesTest, ProfilesHaveTheirOwnKeyAndConfigUnderXdg) {
  const std::string a = account_id({"account", "create", "--corp", platform_->corp_url(), "--json"});
  const std::string b =
      account_id({"account", "create", "--corp", platform_->corp_url(), "--profile", "work", "--json"});
  const std::string c =
      account_id({"account", "create", "--corp", platform_->corp_url(), "--json"}, {{"XOP_PROFILE", "eu"}});
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(b, c);
  namespace fs = std::filesystem;
  EXPECT_TRUE(fs::exists(t_.file("config/xop/key.json")));
  EXPECT_TRUE(fs::exists(t_.file("config/xop/config.toml")));
  EXPECT_TRUE(fs::exists(t_.file("config/xop/profiles/work/key.json")));
  EXPECT_TRUE(fs::exists(t_.file("config/xop/profiles/eu/config.toml")));
  EXPECT_FALSE(fs::exists(t_.file(".config")));  // nothing under $HOME when XDG is set
  // Each profile reads its own account back.
  auto r = run_xop({"--profile", "work", "account", "show", "--json"}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out)->value("account", Json::object()).value("id", ""), b) << r.out;
  r = run_xop({"account", "show", "--json"}, env_);
  EXPECT_EQ(parse_json(r.out)->value("account", Json::object()).value("id", ""), a) << r.out;
  // A bad profile name is a usage error.
  r = run_xop({"--profile", "../etc", "account", "show"}, env_);
  EXPECT_EQ(r.code, 2) << r.err;
  // --home puts everything of the default profile in one directory.
  r = run_xop({"account", "create", "--corp", platform_->corp_url(), "--home", t_.file("one")}, env_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(t_.file("one/key.json")));
}

TEST_F(CliProfilesTest, DevNeverOverwritesAnotherProfilesConfig) {
  auto r = run_xop({"account", "create", "--corp", platform_->corp_url()}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string before = read_file(t_.file("config/xop/config.toml"));
  r = run_xop({"--profile", "default", "dev", "--runtime", "mock"}, env_);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("would overwrite"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(t_.file("config/xop/config.toml")), before);
}

TEST_F(CliProfilesTest, AnEmptyDefaultProfileFallsBackToDev) {
  const std::string dev =
      account_id({"--profile", "dev", "account", "create", "--corp", platform_->corp_url(), "--json"});
  EXPECT_EQ(account_id({"account", "create", "--json"}), dev);  // no profile named: dev's
  // Once the default profile has a key of its own, it is used.
  const std::string own =
      account_id({"account", "create", "--corp", platform_->corp_url(), "--json"}, {{"XOP_PROFILE", "default"}});
  EXPECT_NE(own, dev);
  EXPECT_EQ(account_id({"account", "create", "--json"}), own);
}

}  // namespace
}  // namespace xop::testing
