// `xop server --check`'s detection: user namespaces from the kernel's limit and the runtime's
// version, and the host report's items.
#include "server/host_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/clock.h"
#include "server/xeno_server.h"
#include "support/test_support.h"

namespace xop {
namespace {

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

TEST(HostCheckTest, TheReportNamesEveryItemAndABrokenProfileFails) {
  ServerConfig mock;
  mock.runtime = "mock";
  const auto m = check_host(mock);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].ok);

  ServerConfig cfg;
  cfg.runtime = "runc";
  auto items = check_host(cfg);
  std::vector<std::string> names;
  for (const auto& i : items) names.push_back(i.name);
  for (const char* n :
       {"root", "runtime", "cgroups", "seccomp", "session disks", "session network", "user namespaces"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  auto item = [&](const std::vector<HostCheckItem>& v, const std::string& n) {
    return *std::find_if(v.begin(), v.end(), [&](const HostCheckItem& i) { return i.name == n; });
  };
  EXPECT_TRUE(item(items, "seccomp").ok) << item(items, "seccomp").detail;
  EXPECT_FALSE(item(items, "user namespaces").required);
  EXPECT_FALSE(item(items, "user namespaces").ok);  // not used: the report says why
  cfg.seccomp_profile = "/nonexistent/seccomp.json";
  items = check_host(cfg);
  EXPECT_FALSE(item(items, "seccomp").ok);
  EXPECT_TRUE(item(items, "seccomp").required);
  EXPECT_NE(item(items, "seccomp").detail.find("/nonexistent/seccomp.json"), std::string::npos)
      << item(items, "seccomp").detail;
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
