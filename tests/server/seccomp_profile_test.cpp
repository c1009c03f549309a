// The seccomp allow list: the built-in profile parses and says what it must, and the strict
// parser refuses malformed, hostile and oversized profiles naming the field.
#include "server/seccomp_profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "server/sandbox_bundle.h"
#include "support/test_support.h"

namespace xop {
namespace {

// The names of every unconditional ALLOW rule.
std::vector<std::string> allowed(const Json& p) {
  std::vector<std::string> out;
  for (const auto& r : p["syscalls"]) {
    if (r["action"] != "SCMP_ACT_ALLOW" || r.contains("args")) continue;
    for (const auto& n : r["names"]) out.push_back(n.get<std::string>());
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const char* const kMinimal = R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],)"
                             R"("syscalls":[{"names":["execve","exit_group"],"action":"SCMP_ACT_ALLOW"}]})";

TEST(SeccompProfileTest, TheBuiltInProfileIsAnAllowListWithoutTheEscapeCalls) {
  auto p = default_seccomp_profile();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ((*p)["defaultErrnoRet"], 1);
  EXPECT_EQ((*p)["architectures"], Json({"SCMP_ARCH_X86_64"}));  // native only: no ia32 or x32 entry points
  EXPECT_FALSE(p->contains("comment"));                          // comments stay in the data file
  const auto ok = allowed(*p);
  EXPECT_GT(ok.size(), 250u);
  for (const char* need : {"execve", "read", "write", "openat", "mmap", "futex", "epoll_wait", "accept4", "bind",
                           "listen", "sendto", "recvfrom", "wait4", "exit_group", "rt_sigreturn", "nanosleep"}) {
    EXPECT_TRUE(has(ok, need)) << need;
  }
  for (const char* bad : {"mount",
                          "umount2",
                          "pivot_root",
                          "unshare",
                          "setns",
                          "keyctl",
                          "add_key",
                          "request_key",
                          "ptrace",
                          "process_vm_readv",
                          "process_vm_writev",
                          "init_module",
                          "finit_module",
                          "delete_module",
                          "kexec_load",
                          "reboot",
                          "bpf",
                          "perf_event_open",
                          "userfaultfd",
                          "io_uring_setup",
                          "open_by_handle_at",
                          "swapon",
                          "settimeofday",
                          "clock_settime",
                          "iopl",
                          "socket",
                          "clone",
                          "clone3",
                          "personality",
                          "syslog",
                          "acct",
                          "fsopen",
                          "move_mount"}) {
    EXPECT_FALSE(has(ok, bad)) << bad << " is allowed unconditionally";
  }
  // Conditional rules: clone without namespace flags, clone3 -> ENOSYS, socket for four families.
  bool clone_masked = false, clone3_enosys = false;
  std::set<int64_t> families;
  for (const auto& r : (*p)["syscalls"]) {
    if (r["names"] == Json({"clone"})) {
      clone_masked = r["args"][0]["op"] == "SCMP_CMP_MASKED_EQ" && r["args"][0]["value"] == 0x7e020000 &&
                     r["args"][0]["valueTwo"] == 0;
    }
    if (r["names"] == Json({"clone3"})) clone3_enosys = r["action"] == "SCMP_ACT_ERRNO" && r["errnoRet"] == 38;
    if (r["names"] == Json({"socket"})) {
      ASSERT_EQ(r["args"].size(), 1u) << r;
      EXPECT_EQ(r["args"][0]["op"], "SCMP_CMP_EQ") << r;
      EXPECT_EQ(r["args"][0]["index"], 0) << r;
      families.insert(r["args"][0]["value"].get<int64_t>());
    }
  }
  EXPECT_TRUE(clone_masked);
  EXPECT_TRUE(clone3_enosys);
  EXPECT_EQ(families, (std::set<int64_t>{1, 2, 10, 16}));  // AF_UNIX, AF_INET, AF_INET6, AF_NETLINK
}

TEST(SeccompProfileTest, TheBuiltInTextIsTheDataFile) {
  std::ifstream in(std::string(XOP_SOURCE_DIR) + "/data/seccomp/default.json", std::ios::binary);
  ASSERT_TRUE(in);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(std::string(default_seccomp_profile_text()), file);
}

TEST(SeccompProfileTest, TheBundleCarriesTheProfile) {
  SandboxSpec s;
  s.id = "x";
  s.rootfs = "/r";
  s.bundle_dir = "/b";
  s.args = {"/bin/true"};
  auto p = default_seccomp_profile();
  ASSERT_TRUE(p);
  EXPECT_EQ(make_runc_config(s, "/x")["linux"]["seccomp"], *p);
  auto mine = parse_seccomp_profile(kMinimal);
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ(make_runc_config(s, "/x", &*mine)["linux"]["seccomp"], *mine);
}

TEST(SeccompProfileTest, AMinimalProfileParsesAndCommentsAreDropped) {
  auto p = parse_seccomp_profile(
      R"({"comment":["a","b"],"defaultAction":"SCMP_ACT_KILL_PROCESS","architectures":["SCMP_ARCH_X86_64"],)"
      R"("syscalls":[{"comment":"c","names":["execve"],"action":"SCMP_ACT_ALLOW"},)"
      R"({"names":["kill"],"action":"SCMP_ACT_ERRNO","errnoRet":13,"args":[{"index":1,"value":9,"op":"SCMP_CMP_EQ"}]}]})");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(
      p->dump(),
      R"({"architectures":["SCMP_ARCH_X86_64"],"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[)"
      R"({"action":"SCMP_ACT_ALLOW","names":["execve"]},)"
      R"({"action":"SCMP_ACT_ERRNO","args":[{"index":1,"op":"SCMP_CMP_EQ","value":9}],"errnoRet":13,"names":["kill"]}]})");
}

TEST(SeccompProfileTest, MalformedAndHostileProfilesAreRefusedNamingTheField) {
  const std::string arch = R"("architectures":["SCMP_ARCH_X86_64"])";
  const std::string exec = R"({"names":["execve"],"action":"SCMP_ACT_ALLOW"})";
  auto refused = [](const std::string& text, const std::string& want) {
    auto p = parse_seccomp_profile(text);
    if (p) return ::testing::AssertionFailure() << "accepted: " << text.substr(0, 200);
    if (p.error().code != ErrorCode::kInvalidArgument) return ::testing::AssertionFailure() << p.error().message;
    if (p.error().message.find(want) == std::string::npos) {
      return ::testing::AssertionFailure() << "\"" << p.error().message << "\" does not say \"" << want << "\"";
    }
    return ::testing::AssertionSuccess();
  };
  EXPECT_TRUE(refused("", "seccomp profile"));
  EXPECT_TRUE(refused("[]", "expected a JSON object"));
  EXPECT_TRUE(refused("{", "seccomp profile"));
  EXPECT_TRUE(refused(std::string(kMinimal) + "x", "seccomp profile"));
  // A deny list (or a logging "allow everything") is not an allow list.
  EXPECT_TRUE(refused(R"({"defaultAction":"SCMP_ACT_ALLOW",)" + arch + R"(,"syscalls":[)" + exec + "]}",
                      "seccomp.defaultAction"));
  EXPECT_TRUE(refused(R"({"defaultAction":"SCMP_ACT_LOG",)" + arch + R"(,"syscalls":[)" + exec + "]}",
                      "seccomp.defaultAction"));
  EXPECT_TRUE(refused(R"({)" + arch + R"(,"syscalls":[)" + exec + "]}", "seccomp.defaultAction"));
  EXPECT_TRUE(refused(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[)" + exec + "]}", "seccomp.architectures"));
  EXPECT_TRUE(
      refused(R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_VAX"],"syscalls":[)" + exec + "]}",
              "unknown architecture"));
  EXPECT_TRUE(refused(R"({"defaultAction":"SCMP_ACT_ERRNO",)" + arch + R"(,"syscalls":[]})", "seccomp.syscalls"));
  EXPECT_TRUE(
      refused(R"({"defaultAction":"SCMP_ACT_ERRNO",)" + arch + R"(,"syscalls":[)" + exec + R"(],"x":1})", "seccomp.x"));
  EXPECT_TRUE(
      refused(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":0,)" + arch + R"(,"syscalls":[)" + exec + "]}",
              "seccomp.defaultErrnoRet"));
  auto with_rule = [&](const std::string& rule) {
    return R"({"defaultAction":"SCMP_ACT_ERRNO",)" + arch + R"(,"syscalls":[)" + exec + "," + rule + "]}";
  };
  EXPECT_TRUE(refused(with_rule(R"({"names":["read"],"action":"SCMP_ACT_MAYBE"})"), "seccomp.syscalls[1].action"));
  EXPECT_TRUE(refused(with_rule(R"({"names":[],"action":"SCMP_ACT_ALLOW"})"), "seccomp.syscalls[1].names"));
  EXPECT_TRUE(refused(with_rule(R"({"names":["Read"],"action":"SCMP_ACT_ALLOW"})"), "not a system call name"));
  EXPECT_TRUE(refused(with_rule(R"({"names":["re ad"],"action":"SCMP_ACT_ALLOW"})"), "not a system call name"));
  EXPECT_TRUE(refused(with_rule(R"({"names":[""],"action":"SCMP_ACT_ALLOW"})"), "not a system call name"));
  EXPECT_TRUE(refused(with_rule(R"({"names":[7],"action":"SCMP_ACT_ALLOW"})"), "seccomp.syscalls[1].names"));
  EXPECT_TRUE(refused(with_rule(R"({"names":["read"],"action":"SCMP_ACT_ALLOW","errnoRet":1})"), "errnoRet"));
  EXPECT_TRUE(refused(with_rule(R"({"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5000})"), "errnoRet"));
  EXPECT_TRUE(refused(with_rule(R"({"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{}})"),
                      "seccomp.syscalls[1].includes"));
  EXPECT_TRUE(refused(
      with_rule(R"({"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]})"),
      "seccomp.syscalls[1].args[0].index"));
  EXPECT_TRUE(refused(
      with_rule(R"({"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}]})"),
      "args[0].value"));
  EXPECT_TRUE(refused(
      with_rule(R"({"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_LIKE"}]})"),
      "unknown operator"));
  EXPECT_TRUE(refused(
      with_rule(
          R"({"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1e300,"op":"SCMP_CMP_EQ"}]})"),
      "args[0].value"));
  std::string seven = "[";
  for (int i = 0; i < 7; ++i) seven += std::string(i ? "," : "") + R"({"index":0,"value":1,"op":"SCMP_CMP_EQ"})";
  EXPECT_TRUE(
      refused(with_rule(R"({"names":["read"],"action":"SCMP_ACT_ALLOW","args":)" + seven + "]}"), "more than 6"));
  // Without execve no session could start: refused at load, not at the first session.
  EXPECT_TRUE(refused(
      R"({"defaultAction":"SCMP_ACT_ERRNO",)" + arch + R"(,"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]})",
      "execve"));
  // Deep nesting, too many rules, too many names, and oversized text.
  EXPECT_TRUE(refused(std::string(100000, '[') + std::string(100000, ']'), "seccomp profile"));
  std::string many = R"({"defaultAction":"SCMP_ACT_ERRNO",)" + arch + R"(,"syscalls":[)" + exec;
  for (int i = 0; i < 600; ++i) many += R"(,{"names":["read"],"action":"SCMP_ACT_ALLOW"})";
  EXPECT_TRUE(refused(many + "]}", "more than 512"));
  std::string names = R"({"names":["execve")";
  for (int i = 0; i < 1100; ++i) names += R"(,"read")";
  EXPECT_TRUE(refused(with_rule(names + R"(],"action":"SCMP_ACT_ALLOW"})"), "more than 1024"));
  EXPECT_TRUE(refused(
      with_rule(R"({"names":["read"],"action":"SCMP_ACT_ALLOW","comment":")" + std::string(300000, 'a') + R"("})"),
      "larger than"));
}

TEST(SeccompProfileTest, LoadReadsAFileAndNamesItOnError) {
  testing::TempDir t;
  EXPECT_TRUE(load_seccomp_profile(""));
  const std::string good = t.file("good.json");
  const std::string bad = t.file("bad.json");
  std::ofstream(good) << kMinimal;
  std::ofstream(bad) << R"({"defaultAction":"SCMP_ACT_ALLOW"})";
  auto g = load_seccomp_profile(good);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ((*g)["architectures"], Json({"SCMP_ARCH_X86_64"}));
  auto b = load_seccomp_profile(bad);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(b.error().message.find(bad), std::string::npos) << b.error().message;
  auto missing = load_seccomp_profile(t.file("none.json"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace xop
