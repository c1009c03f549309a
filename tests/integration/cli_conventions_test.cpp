// The command line behaves as people expect: global flags anywhere, environment variables,
// documented exit codes (0, 1, 2 usage, 3 partial), JSON errors under --json, shell completion.
// Runs the real binary.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/json_reader.h"
#include "crypto/keys.h"
#include "integration/process_platform.h"
#include "integration/run_xop.h"

namespace xop::testing {
namespace {

// The one JSON error document on stderr: {"error":{"code","message"}}.
Json json_error(const XopRun& r) {
  auto j = parse_json(r.err);
  EXPECT_TRUE(j) << "stderr is not JSON: " << r.err;
  if (!j) return Json::object();
  EXPECT_TRUE(j->contains("error")) << r.err;
  return j->value("error", Json::object());
}

TEST(CliConventions, TyposAreUsageErrorsWithASuggestion) {
  TempDir home;
  auto r = run_xop({"acount", "show"}, {{"XOP_HOME", home.path()}});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("unknown verb 'acount'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'account'"), std::string::npos) << r.err;

  r = run_xop({"account", "shw"}, {{"XOP_HOME", home.path()}});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("did you mean 'show'"), std::string::npos) << r.err;

  r = run_xop({"stop", "--al"}, {{"XOP_HOME", home.path()}});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("did you mean --all"), std::string::npos) << r.err;

  r = run_xop({"logs"}, {{"XOP_HOME", home.path()}});  // a missing argument
  EXPECT_EQ(r.code, 2) << r.err;
  r = run_xop({"account"}, {{"XOP_HOME", home.path()}});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("create"), std::string::npos) << r.err;
  r = run_xop({"account", "show", "--profile"}, {{"XOP_HOME", home.path()}});  // a flag without its value
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--profile"), std::string::npos) << r.err;
  r = run_xop({"search", "--count", "many"}, {{"XOP_HOME", home.path()}});
  EXPECT_EQ(r.code, 2) << r.err;
  // Sizes and money in one syntax: malformed values are usage errors, whatever the verb.
  for (const auto& bad : std::vector<std::vector<std::string>>{{"search", "--memory", "1.5.3"},
                                                               {"search", "--memory", "9999999999TiB"},
                                                               {"search", "--max-price", "-1"},
                                                               {"search", "--max-price", "0.0000001"},
                                                               {"search", "--within-ms", "10"},
                                                               {"account", "fund", "1.5.3"},
                                                               {"account", "fund", "abc"}}) {
    r = run_xop(bad, {{"XOP_HOME", home.path()}, {"XOP_CORP_URL", "http://127.0.0.1:1"}});
    EXPECT_EQ(r.code, 2) << bad[0] << " " << bad[2] << ": " << r.err;
  }
  r = run_xop({"account", "fund", "-3"}, {{"XOP_HOME", home.path()}});  // parses, then refused
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(CliConventions, HelpAndVersionSucceed) {
  auto r = run_xop({"--help"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
  r = run_xop({"account", "show", "--help"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = run_xop({"--version"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(CliConventions, JsonErrorsOnStderrWhereverTheFlagIs) {
  TempDir home;
  for (const auto& args : std::vector<std::vector<std::string>>{{"--json", "acount"}, {"acount", "--json"}}) {
    auto r = run_xop(args, {{"XOP_HOME", home.path()}});
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(json_error(r).value("code", ""), "usage");
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // A failure that is not a usage error: no key in the home (exit 1, code not_found).
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--json", "account", "show"}, {"account", "show", "--json"}, {"account", "--json", "show"}}) {
    auto r = run_xop(args, {{"XOP_HOME", home.path()}});
    EXPECT_EQ(r.code, 1) << r.err;
    const Json e = json_error(r);
    EXPECT_EQ(e.value("code", ""), "not_found") << r.err;
    EXPECT_NE(e.value("message", "").find("xop account create"), std::string::npos) << r.err;
  }
  auto r = run_xop({"account", "show"}, {{"XOP_HOME", home.path()}, {"XOP_OUTPUT", "json"}});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(json_error(r).value("code", ""), "not_found");
  // Without --json errors are text.
  r = run_xop({"account", "show"}, {{"XOP_HOME", home.path()}});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
}

TEST(CliConventions, HomeAfterTheVerbAndEnvUrls) {
  ProcessPlatformOptions opts;
  opts.servers = 0;
  ProcessPlatform p(opts);
  ASSERT_EQ(p.start(), "");
  const KeyPair user = p.new_user("conv", 25);
  TempDir home;
  ASSERT_TRUE(save_key_file(user, home.file("key.json")));

  // No config.toml: XOP_CORP_URL suffices; --home after the verb and --json at the end.
  auto r = run_xop({"account", "show", "--home", home.path(), "--json"}, {{"XOP_CORP_URL", p.corp_url()}});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = parse_json(r.out);
  ASSERT_TRUE(j) << r.out;
  EXPECT_EQ(j->value("balance_micros", int64_t{0}), 25'000'000);

  // The variable wins over config.toml (which points nowhere).
  write_file(home.file("config.toml"), "corp_url = \"http://127.0.0.1:1\"\nxis_url = \"\"\n");
  r = run_xop({"--home", home.path(), "account", "show"}, {{"XOP_CORP_URL", p.corp_url()}});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("balance   25.00\n"), std::string::npos) << r.out;  // credits as people write them
  r = run_xop({"account", "show", "--home", home.path(), "--log-level", "error"});
  EXPECT_EQ(r.code, 1) << r.out;  // config.toml's corp is unreachable
  r = run_xop({"account", "show"}, {{"XOP_HOME", home.path()}, {"XOP_OUTPUT", "json"}, {"XOP_CORP_URL", p.corp_url()}});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(parse_json(r.out)) << r.out;
}

// Runs `script` with bash; its stdout.
std::string bash(const std::string& script, const TempDir& dir) {
  write_file(dir.file("t.sh"), script);
  const std::string cmd = "bash " + dir.file("t.sh") + " > " + dir.file("t.out") + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_file(dir.file("t.out"));
  return read_file(dir.file("t.out"));
}

TEST(CliConventions, ShellCompletionFromTheCommandTree) {
  TempDir dir;
  auto r = run_xop({"completion", "bash"});
  ASSERT_EQ(r.code, 0) << r.err;
  write_file(dir.file("xop.bash"), r.out);
  // Completes verbs, nested verbs and flags (a verb's own and the global ones) as bash would.
  const std::string out = bash("source " + dir.file("xop.bash") +
                                   R"(
t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _xop; echo "${COMPREPLY[*]}"; }
t xop acc
t xop account f
t xop stop --a
t xop --json logs --t
t xop sessions --pro
t xop de
)",
                               dir);
  EXPECT_EQ(out, "account\nfund\n--all\n--tail\n--profile\ndeploy dev\n");
  r = run_xop({"completion", "zsh"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("#compdef xop\n", 0), 0u);
  EXPECT_NE(r.out.find("'xop account') echo 'create show fund payout'"), std::string::npos) << r.out;
  r = run_xop({"completion", "fish"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("-a 'deploy'"), std::string::npos);
  EXPECT_NE(r.out.find("-l 'follow'"), std::string::npos);
  for (const char* shell : {"zsh", "fish"}) {
    // Their syntax is checked where the shell is installed (not in the base image).
    if (std::system((std::string("command -v ") + shell + " >/dev/null 2>&1").c_str()) != 0) continue;
    r = run_xop({"completion", shell});
    write_file(dir.file(std::string("xop.") + shell), r.out);
    EXPECT_EQ(std::system((std::string(shell) + " -n " + dir.file(std::string("xop.") + shell)).c_str()), 0) << shell;
  }
  r = run_xop({"completion", "tcsh"});
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace xop::testing
