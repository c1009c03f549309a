// `xop dev` keeps its servers' owner key in a profile of its own (dev-owner), so that the owner's
// verbs work against a dev platform: `xop --profile dev-owner earnings` and `server status`; a
// second `xop dev` on a profile in use is refused. Runs
// the real binary: `xop dev` (mock sandboxes) as a child process, the verbs through run_xop.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>

#include "core/json_reader.h"
#include "crypto/keys.h"
#include "integration/run_xop.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

namespace fs = std::filesystem;

Json json_of(const XopRun& r) {
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto j = parse_json(r.out);
  EXPECT_TRUE(j) << r.out << r.err;
  return j ? *j : Json::object();
}

TEST(DevOwnerTest, DevWritesTheOwnersProfileAndTheOwnersVerbsWorkThroughIt) {
  TempDir t;
  const std::string home = t.file("home");
  ChildProcess dev({XOP_BINARY, "--home", home, "dev", "--runtime", "mock", "--servers", "1", "--data-dir",
                    t.file("platform"), "--port-file", t.file("corp.url"), "--charging-interval-ms", "500"},
                   t.file("dev.log"));
  ASSERT_TRUE(
      poll_until([&] { return !read_file(t.file("corp.url")).empty() || !dev.running(); }, std::chrono::seconds(30)))
      << dev.log();
  ASSERT_TRUE(dev.running()) << dev.log();
  EXPECT_NE(dev.log().find("xop --profile dev-owner earnings"), std::string::npos) << dev.log();

  // The owner's key: its own profile, private, beside the dev profile (which holds no key yet).
  const std::string owner_key = home + "/profiles/dev-owner/key.json";
  ASSERT_TRUE(fs::exists(owner_key)) << dev.log();
  struct stat st {};
  ASSERT_EQ(::stat(owner_key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(fs::exists(home + "/profiles/dev-owner/config.toml"));
  EXPECT_FALSE(fs::exists(home + "/profiles/dev/key.json"));
  auto owner = load_key_file(owner_key);
  ASSERT_TRUE(owner) << owner.error().message;

  // A user (the dev profile, chosen while the default one is empty) runs one session.
  const Json me = json_of(run_xop({"--home", home, "account", "create", "--name", "me", "--json"}));
  const std::string user = me.value("account", "");
  ASSERT_FALSE(user.empty()) << me.dump();
  ASSERT_NE(user, owner->account_id());
  ASSERT_EQ(run_xop({"--home", home, "account", "fund", "10"}).code, 0);
  write_file(t.file("one.yaml"), "name: one\nimage: " + std::string(XOP_BUILD_DIR) +
                                     "/images/burner\nresources:\n  cpu_millis: 250\n  memory: 64MiB\ncount: 1\n"
                                     "max_price_per_hour: \"5.0\"\nbudget: \"1.0\"\n");
  auto deployed = run_xop({"--home", home, "deploy", t.file("one.yaml")});
  ASSERT_EQ(deployed.code, 0) << deployed.out << deployed.err << dev.log();

  // The owner sees the earnings of its server and its status, with the user's session.
  const std::vector<std::string> as_owner = {"--home", home, "--profile", "dev-owner", "--json"};
  auto owner_run = [&](std::vector<std::string> args) {
    std::vector<std::string> full = as_owner;
    full.insert(full.end(), args.begin(), args.end());
    return run_xop(full);
  };
  Json earnings;
  ASSERT_TRUE(poll_until(
      [&] {
        earnings = json_of(owner_run({"earnings"}));
        return earnings.value("total_micros", int64_t{0}) > 0;
      },
      std::chrono::seconds(30)))
      << earnings.dump() << dev.log();
  ASSERT_EQ(earnings["servers"].size(), 1u) << earnings.dump();
  EXPECT_EQ(earnings["servers"][0].value("name", ""), "xs-1-London");

  const Json status = json_of(owner_run({"server", "status", "xs-1-London"}));
  EXPECT_EQ(status.value("owner", ""), owner->account_id()) << status.dump();
  EXPECT_TRUE(status["registration"].value("registered", false)) << status.dump();
  ASSERT_EQ(status["sessions"].size(), 1u) << status.dump();
  EXPECT_EQ(status["sessions"][0].value("user", ""), user);
  EXPECT_GT(status["earnings"].value("total_micros", int64_t{0}), 0) << status.dump();
  // Without a server named: the one server the corp says the owner has.
  const Json mine = json_of(owner_run({"server", "status"}));
  EXPECT_EQ(mine.value("server", ""), status.value("server", "")) << mine.dump();
  EXPECT_EQ(mine.value("name", ""), "xs-1-London") << mine.dump();
  // The user's own profile is not the owner: its server status is refused.
  auto denied = run_xop({"--home", home, "server", "status", "xs-1-London"});
  EXPECT_NE(denied.code, 0) << denied.out;

  // A second `xop dev` on the same profile would repoint it at another platform while this one
  // runs: it is refused, and the profiles still point here.
  const std::string config = read_file(home + "/profiles/dev/config.toml");
  auto second = run_xop({"--home", home, "dev", "--runtime", "mock", "--servers", "1"});
  EXPECT_EQ(second.code, 1) << second.out << second.err;
  EXPECT_NE(second.err.find("another `xop dev` is running with profile dev"), std::string::npos) << second.err;
  EXPECT_EQ(read_file(home + "/profiles/dev/config.toml"), config);
  EXPECT_EQ(load_key_file(owner_key)->account_id(), owner->account_id());

  EXPECT_EQ(run_xop({"--home", home, "stop", "--all"}).code, 0);
  const int code = dev.stop();
  EXPECT_TRUE(WIFEXITED(code) && WEXITSTATUS(code) == 0) << code << dev.log();

  // The platform ended with `xop dev`; both profiles still name it, and say so when used.
  auto gone = run_xop({"--home", home, "account", "show"});
  EXPECT_EQ(gone.code, 1) << gone.out << gone.err;
  EXPECT_NE(gone.err.find("profile dev names the platform of an `xop dev` that has ended"), std::string::npos)
      << gone.err;
  EXPECT_NE(gone.err.find("start `xop dev` again"), std::string::npos) << gone.err;
  auto owner_gone = run_xop({"--home", home, "--profile", "dev-owner", "earnings"});
  EXPECT_EQ(owner_gone.code, 1) << owner_gone.out << owner_gone.err;
  EXPECT_NE(owner_gone.err.find("profile dev-owner names the platform of an `xop dev` that has ended"),
            std::string::npos)
      << owner_gone.err;
  auto listing = run_xop({"--home", home, "sessions"});
  EXPECT_EQ(listing.code, 1) << listing.out << listing.err;
}

// With another profile named, `xop dev` refuses to replace that profile's owner key (NAME-owner)
// as it refuses to replace its config, before starting anything.
TEST(DevOwnerTest, DevNeverOverwritesAnotherOwnerProfile) {
  TempDir t;
  const std::string home = t.file("home");
  const KeyPair mine = KeyPair::generate();
  fs::create_directories(home + "/profiles/work-owner");
  ASSERT_TRUE(save_key_file(mine, home + "/profiles/work-owner/key.json"));
  const std::string before = read_file(home + "/profiles/work-owner/key.json");
  auto r = run_xop({"--home", home, "--profile", "work", "dev", "--runtime", "mock", "--data-dir", t.file("p")});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("would overwrite"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("work-owner"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(home + "/profiles/work-owner/key.json"), before);
  EXPECT_FALSE(fs::exists(t.file("p/corp")));  // nothing started
}

}  // namespace
}  // namespace xop::testing
