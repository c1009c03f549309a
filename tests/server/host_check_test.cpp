// The host check (server/host_check.h): runtime choice on given cgroup layouts, the checks'
// verdict, and `find_program`. The layouts are built by hand; the runtimes are the host's own
// (found on PATH or not: each expectation says what it depends on).
#include "server/host_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "core/file_util.h"
#include "server/sandbox_runc.h"

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
  for (const char* n : {"root", "cgroups", "runtime runc", "session disks"}) {
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
