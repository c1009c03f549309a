// `xop deploy`, `sessions [-a]`, `logs [-f] [--tail N]` and `stop ID...` as a user runs them, on a
// platform of real processes: short id prefixes, the STATUS column, errors as notes, exit codes.
#include <gtest/gtest.h>
#include <signal.h>

#include "core/json_reader.h"
#include "crypto/keys.h"
#include "integration/process_platform.h"
#include "integration/run_xop.h"

namespace xop::testing {
namespace {

class CliSessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    ProcessPlatformOptions opts;
    opts.servers = 2;
    platform_ = std::make_unique<ProcessPlatform>(opts);
    ASSERT_EQ(platform_->start(), "");
    const KeyPair user = platform_->new_user("cli", 20);
    ASSERT_TRUE(save_key_file(user, home_.file("key.json")));
    env_ = {{"XOP_HOME", home_.path()}, {"XOP_CORP_URL", platform_->corp_url()}, {"XOP_XIS_URL", platform_->xis_url()}};
  }

  std::string manifest(const std::string& name, int count, const std::string& script,
                       const std::string& memory = "32MiB", const std::string& budget = "0.50") {
    const std::string path = home_.file(name + ".yaml");
    write_file(path, "name: " + name + "\nimage: " + std::string(XOP_BUILD_DIR) +
                         "/images/burner\ncommand: [\"/bin/sh\", \"-c\", \"" + script +
                         "\"]\nresources: {cpu_millis: 100, memory: " + memory + "}\ncount: " + std::to_string(count) +
                         "\nbudget: \"" + budget + "\"\n");
    return path;
  }

  // The --json sessions list (every session with -a).
  Json sessions(bool all) {
    std::vector<std::string> args{"sessions", "--json"};
    if (all) args.emplace_back("-a");
    auto r = run_xop(args, env_);
    EXPECT_EQ(r.code, 0) << r.err;
    auto j = parse_json(r.out);
    EXPECT_TRUE(j) << r.out;
    return j ? j->value("sessions", Json::array()) : Json::array();
  }

  TempDir home_;
  std::unique_ptr<ProcessPlatform> platform_;
  std::map<std::string, std::string> env_;
};

TEST_F(CliSessionsTest, PrefixIdsStatusTailFollowAndStopSeveral) {
  // One session that prints three lines and exits 3, two that run until stopped.
  auto r = run_xop({"deploy", manifest("quitter", 1, "echo one; echo two; sleep 1; echo three; exit 3")}, env_);
  ASSERT_EQ(r.code, 0) << r.out << r.err << platform_->logs();
  r = run_xop({"deploy", manifest("runner", 2, "trap 'exit 0' TERM; while :; do sleep 1; done")}, env_);
  ASSERT_EQ(r.code, 0) << r.out << r.err << platform_->logs();

  Json all = sessions(true);
  ASSERT_EQ(all.size(), 3u) << all.dump();
  std::string quitter;
  std::vector<std::string> runners;
  for (const auto& s : all) {
    (s.value("spec", Json::object()).value("name", "") == "quitter" ? quitter : runners.emplace_back()) =
        s.value("id", "");
  }
  ASSERT_FALSE(quitter.empty()) << all.dump();
  ASSERT_EQ(runners.size(), 2u);

  // -f follows until the session ends, printing each line once.
  r = run_xop({"logs", "-f", quitter.substr(0, 8)}, env_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "one\ntwo\nthree\n");
  r = run_xop({"logs", quitter.substr(0, 8), "--tail", "2"}, env_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "two\nthree\n");

  // The ended session leaves the default list and shows its exit status with -a.
  ASSERT_TRUE(poll_until(
      [&] {
        for (const auto& s : sessions(true)) {
          if (s.value("id", "") == quitter && s.value("status", "") == "exited (3)") return true;
        }
        return false;
      },
      std::chrono::seconds(20)))
      << sessions(true).dump();
  Json live = sessions(false);
  EXPECT_EQ(live.size(), 2u) << live.dump();
  r = run_xop({"sessions"}, env_);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("STATUS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AGE"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(quitter.substr(0, 12)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 ended session(s) not shown"), std::string::npos) << r.out;
  r = run_xop({"sessions", "-a"}, env_);
  EXPECT_NE(r.out.find("exited (3)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(quitter.substr(0, 12) + " "), std::string::npos) << r.out;  // short ids

  // "s" names all three: ambiguous, listing the candidates; nothing is stopped.
  r = run_xop({"stop", "s"}, env_);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("ambiguous"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(runners[0]), std::string::npos) << r.err;
  r = run_xop({"logs", "sffff"}, env_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no session sffff"), std::string::npos) << r.err;

  // Several ids at once, by prefix; one unknown id among them makes it a partial success (3).
  r = run_xop({"stop", runners[0].substr(0, 10), runners[1].substr(0, 10), "sffff"}, env_);
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find(runners[0] + " stopped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(runners[1] + " stopped"), std::string::npos) << r.out;
  EXPECT_EQ(sessions(false).size(), 0u);
  r = run_xop({"stop", runners[0], "--all"}, env_);
  EXPECT_EQ(r.code, 2) << r.err;
}

TEST_F(CliSessionsTest, UnreachableServerIsANoteNotACell) {
  auto r = run_xop({"deploy", manifest("runner", 1, "trap 'exit 0' TERM; while :; do sleep 1; done")}, env_);
  ASSERT_EQ(r.code, 0) << r.out << r.err << platform_->logs();
  // The servers go away (kill -9): neither the endpoint in their adverts nor the recorded one
  // answers any more.
  for (size_t i = 0; i < 2; ++i) ::kill(platform_->server_pid(i), SIGKILL);
  ASSERT_TRUE(testing::poll_until(
      [&] {
        r = run_xop({"sessions"}, env_);
        return r.out.find("unknown") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << r.out << r.err;
  // The corp answered, the servers did not: a partial listing (a session missing from it may still
  // charge), exit 3.
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("note: part of the platform did not answer"), std::string::npos) << r.out;
  const auto note = r.out.find("\nnote: ");
  ASSERT_NE(note, std::string::npos) << r.out;
  // The table itself holds no error text; the row says "unknown".
  EXPECT_NE(r.out.substr(0, note).find("unknown"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(0, note).find("refused"), std::string::npos) << r.out;
  auto j = run_xop({"sessions", "--json"}, env_);
  EXPECT_EQ(j.code, 3) << j.out << j.err;
  EXPECT_NE(j.out.find("\"complete\": false"), std::string::npos) << j.out;
  // Nothing answers: the table is only the home's record, exit 1.
  ASSERT_EQ(platform_->kill_corp(), "");
  r = run_xop({"sessions"}, env_);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("note: neither the corp nor any server answered"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unknown"), std::string::npos) << r.out;  // the recorded session is still listed
  ASSERT_EQ(platform_->restart_corp(), "");
  // Back up on new ports: their sessions are re-adopted, and stopped when the platform stops.
  for (size_t i = 0; i < 2; ++i) ASSERT_EQ(platform_->restart_server(i), "");
  ASSERT_TRUE(testing::poll_until(
      [&] {
        r = run_xop({"sessions"}, env_);
        return r.code == 0;
      },
      std::chrono::seconds(20)))
      << r.out << r.err;
  EXPECT_EQ(r.out.find("unknown"), std::string::npos) << r.out;
}

// Before buying, deploy checks count x budget against the balance; when nothing matches it says
// why, in XIS's words. Neither buys anything.
TEST_F(CliSessionsTest, DeployChecksFundsAndExplainsNoMatch) {
  auto r = run_xop({"deploy", manifest("big", 2, "true", "32MiB", "15")}, env_);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("2 x 15.00 = 30.00 credits, but your balance is 20.00 credits"), std::string::npos) << r.err;
  r = run_xop({"deploy", manifest("big", 2, "true", "32MiB", "15"), "--json"}, env_);
  EXPECT_EQ(r.code, 1);
  auto e = parse_json(r.err);
  ASSERT_TRUE(e) << r.err;
  EXPECT_EQ((*e)["error"].value("code", ""), "payment_required") << r.err;

  r = run_xop({"deploy", manifest("huge", 1, "true", "4GiB")}, env_);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("no server matches"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("xs-0: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("xs-1: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("memory"), std::string::npos) << r.err;

  r = run_xop({"statement", "--json"}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  auto st = parse_json(r.out);
  ASSERT_TRUE(st) << r.out;
  EXPECT_TRUE((*st)["statement"].value("purchase_orders", Json::array()).empty()) << r.out;
}

// Three sessions asked for, two servers: the two are placed and the exit code says "partial" (3).
TEST_F(CliSessionsTest, FewerSessionsThanAskedIsAPartialSuccess) {
  auto r = run_xop({"deploy", manifest("runner", 3, "trap 'exit 0' TERM; while :; do sleep 1; done")}, env_);
  EXPECT_EQ(r.code, 3) << r.out << r.err << platform_->logs();
  EXPECT_NE(r.out.find("2 of 2 sessions running"), std::string::npos) << r.out;
  EXPECT_EQ(sessions(false).size(), 2u);
  r = run_xop({"stop", "--all"}, env_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sessions(false).size(), 0u);
}

}  // namespace
}  // namespace xop::testing
