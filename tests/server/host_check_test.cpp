// The host check (server/host_check.h): runtime choice on given cgroup layouts, the checks'
// verdict, and `find_program`. The layouts are built by hand; the runtimes are the host's own
// (found on PATH or not: each expectation says what it depends on).
#include "server/host_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/clock.h"
#include "core/file_util.h"
#include "server/sandbox_runc.h"
#include "server/xeno_server.h"
#include "support/test_support.h"

namespace xop {
namespace {

CgroupLayout hybrid_with(std::vector<std::string> v2_controllers) {
  CgroupLayout l;
  l.mode = CgroupMode::kHybrid;
  l.root = "/sys/fs/cgroup";
  l.v2_dir = "/sys/fs/cgroup/unified";
  l.v2_controllers = std::move(v2_controllers);
  return l;
}

CgroupLayout pure_v2() {
  CgroupLayout l;
  l.mode = CgroupMode::kV2;
  l.root = l.v2_dir = "/sys/fs/cgroup";
  l.v2_controllers = {"cpu", "memory", "pids", "io"};
  return l;
}

TEST(FindProgramTest, FindsOnPathAndTakesPathsAsTheyAre) {
  EXPECT_EQ(find_program("sh").empty(), false);
  EXPECT_EQ(find_program("/bin/sh"), "/bin/sh");
  EXPECT_EQ(find_program("no-such-program-xop"), "");
  EXPECT_EQ(find_program("/nonexistent/runc"), "");
  EXPECT_EQ(find_program(""), "");
  EXPECT_EQ(find_program("/etc/passwd"), "") << "not executable";
  EXPECT_EQ(find_program("/bin"), "") << "a directory is not a program";
}

TEST(HostCheckTest, CrunIsRefusedOnAHybridHostWithV2ControllersAndTheFixIsNamed) {
  const std::string why = runtime_layout_refusal("crun", hybrid_with({"hugetlb"}));
  EXPECT_NE(why.find("hybrid"), std::string::npos) << why;
  EXPECT_NE(why.find("mount -t cgroup -o hugetlb"), std::string::npos) << why;
  EXPECT_EQ(runtime_layout_refusal("/usr/bin/crun", hybrid_with({})), "") << "no v2 controllers: crun copes";
  EXPECT_EQ(runtime_layout_refusal("runc", hybrid_with({"hugetlb"})), "") << "runc copes with any layout";
  EXPECT_EQ(runtime_layout_refusal("crun", pure_v2()), "");
}

TEST(HostCheckTest, AMissingRuntimeIsNamed) {
  const std::string why = runtime_unavailable_reason("/nonexistent/runc", pure_v2());
  EXPECT_NE(why.find("not installed"), std::string::npos) << why;
}

TEST(HostCheckTest, AutoTakesCrunOnlyWhereItWorks) {
  std::string why;
  EXPECT_EQ(choose_runtime("auto", hybrid_with({"hugetlb"}), &why), "runc");
  EXPECT_NE(why.find("crun refuses"), std::string::npos) << why;
  const bool crun_installed = !find_program("crun").empty();
  EXPECT_EQ(choose_runtime("auto", pure_v2(), &why), crun_installed ? "crun" : "runc") << why;
  // An explicit choice is kept, whether or not it works (start-up then says why not).
  EXPECT_EQ(choose_runtime("crun", hybrid_with({"hugetlb"})), "crun");
  EXPECT_EQ(choose_runtime("runc", pure_v2()), "runc");
  EXPECT_EQ(choose_runtime("mock", pure_v2()), "mock");
}

TEST(HostCheckTest, RuntimeVersionsAreRead) {
  EXPECT_EQ(runtime_version_of("runc version 1.1.5+ds1"), std::make_pair(1, 1));
  EXPECT_EQ(runtime_version_of("crun version 1.8.1\ncommit: x"), std::make_pair(1, 8));
  EXPECT_EQ(runtime_version_of("runc version 1.2.0-rc.1"), std::make_pair(1, 2));
  EXPECT_EQ(runtime_version_of(""), std::make_pair(0, 0));
  EXPECT_EQ(runtime_version_of("runc version x.y"), std::make_pair(0, 0));
  EXPECT_EQ(runtime_version_of("runc version 1"), std::make_pair(0, 0));
  EXPECT_EQ(runtime_version_of("runc version 99999999999999999999.1"), std::make_pair(0, 0));
}

TEST(HostCheckTest, UserNamespacesAreDetectedButNeverUsedYet) {
  const auto here = user_namespace_support("63936\n", "runc version 1.1.5+ds1");
  EXPECT_TRUE(here.kernel);
  EXPECT_EQ(here.max_namespaces, 63936);
  EXPECT_FALSE(here.runtime_idmap);
  EXPECT_FALSE(here.used);
  EXPECT_NE(here.detail.find("needs runc >= 1.2; have 1.1"), std::string::npos) << here.detail;
  EXPECT_NE(here.detail.find("Fallback"), std::string::npos) << here.detail;

  const auto off = user_namespace_support("0\n", "runc version 1.1.5");
  EXPECT_FALSE(off.kernel);
  EXPECT_NE(off.detail.find("disabled (max_user_namespaces = 0)"), std::string::npos) << off.detail;
  const auto absent = user_namespace_support("", "runc version 1.1.5");
  EXPECT_FALSE(absent.kernel);
  EXPECT_NE(absent.detail.find("no /proc/sys/user/max_user_namespaces"), std::string::npos) << absent.detail;
  EXPECT_FALSE(user_namespace_support("-5", "").kernel);
  EXPECT_FALSE(user_namespace_support("12abc", "").kernel);

  const auto newer = user_namespace_support("100", "runc version 1.2.3");
  EXPECT_TRUE(newer.kernel && newer.runtime_idmap);
  EXPECT_FALSE(newer.used);  // no half-working mapping: not enabled until XOP maps sessions
  EXPECT_NE(newer.detail.find("does not map sessions yet"), std::string::npos) << newer.detail;
}

TEST(HostCheckTest, ABrokenSeccompProfileFailsTheCheck) {
  ServerConfig cfg;
  cfg.runtime = "runc";
  auto item = [](const std::vector<HostCheck>& v, const std::string& n) {
    for (const auto& i : v) {
      if (i.name == n) return i;
    }
    ADD_FAILURE() << "no item " << n;
    return HostCheck{};
  };
  auto items = check_host(cfg);
  EXPECT_TRUE(item(items, "seccomp").ok) << item(items, "seccomp").detail;
  EXPECT_FALSE(item(items, "user namespaces").needed);
  EXPECT_FALSE(item(items, "user namespaces").ok);  // not used: the report says why
  cfg.seccomp_profile = "/nonexistent/seccomp.json";
  items = check_host(cfg);
  EXPECT_FALSE(item(items, "seccomp").ok);
  EXPECT_TRUE(item(items, "seccomp").needed);
  EXPECT_NE(item(items, "seccomp").detail.find("/nonexistent/seccomp.json"), std::string::npos)
      << item(items, "seccomp").detail;
  EXPECT_FALSE(host_ready(items));
}

TEST(HostCheckTest, TheVerdictNeedsEveryNeededCheckOnly) {
  EXPECT_TRUE(host_ready({{"a", true, true, ""}, {"b", false, false, "optional"}}));
  EXPECT_FALSE(host_ready({{"a", true, true, ""}, {"b", false, true, "needed"}}));
  EXPECT_TRUE(host_ready({}));
}

TEST(HostCheckTest, TheMockRuntimeNeedsNothingOfTheHost) {
  ServerConfig cfg;
  cfg.runtime = "mock";
  const auto checks = check_host(cfg);
  EXPECT_TRUE(host_ready(checks));
  for (const auto& c : checks) EXPECT_FALSE(c.needed) << c.name;
  bool has_network = false;
  for (const auto& c : checks) has_network = has_network || c.name == "session network";
  EXPECT_TRUE(has_network);
}

TEST(HostCheckTest, ARealRuntimeNeedsRootCgroupsItsRuntimeAndDisks) {
  ServerConfig cfg;
  cfg.runtime = "runc";
  std::map<std::string, HostCheck> by_name;
  for (const auto& c : check_host(cfg)) by_name[c.name] = c;
  for (const char* n : {"root", "cgroups", "runtime runc", "seccomp", "session disks"}) {
    ASSERT_TRUE(by_name.contains(n)) << n;
    EXPECT_TRUE(by_name[n].needed) << n;
  }
  EXPECT_FALSE(by_name["runtime crun"].needed);
  EXPECT_FALSE(by_name["session network"].needed) << "without it sessions get loopback only";
  EXPECT_EQ(by_name["root"].ok, ::geteuid() == 0);
  EXPECT_EQ(by_name["runtime runc"].ok, !find_program("runc").empty()) << by_name["runtime runc"].detail;
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

// The server refuses to start with a seccomp profile it cannot parse, before it creates a bridge,
// a disk or a session (the profile would otherwise fail every session at its start).
TEST(HostCheckTest, TheServerRefusesToStartWithABrokenSeccompProfile) {
  testing::TempDir t;
  const std::string bad = t.file("seccomp.json");
  std::ofstream(bad) << R"({"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[]})";
  ServerConfig cfg;
  cfg.data_dir = t.file("data");
  std::filesystem::create_directories(cfg.data_dir);
  cfg.key_file = cfg.data_dir + "/server.key";
  cfg.corp_url = "http://127.0.0.1:1";
  cfg.runtime = "runc";
  cfg.network_enabled = false;
  cfg.seccomp_profile = bad;
  auto s = XenoServer::open(cfg, SystemClock::instance());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("server.seccomp_profile: " + bad), std::string::npos) << s.error().message;
  cfg.seccomp_profile = t.file("missing.json");
  auto m = XenoServer::open(cfg, SystemClock::instance());
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("server.seccomp_profile"), std::string::npos) << m.error().message;
}

}  // namespace
}  // namespace xop
