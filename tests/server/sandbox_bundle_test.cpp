#include "server/sandbox_bundle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "server/sandbox_mock.h"

namespace xop {
namespace {

SandboxSpec good_spec() {
  SandboxSpec s;
  s.id = "sess-1";
  s.bundle_dir = "/var/lib/xop/sessions/sess-1/bundle";
  s.rootfs = "/var/lib/xop/sessions/sess-1/rootfs";
  s.args = {"/bin/sh", "-c", "echo hi"};
  s.env = {"PATH=/bin", "A=b=c"};
  s.cwd = "/tmp";
  s.reserved.cpu_millis = 500;
  s.reserved.memory_bytes = 64 << 20;
  s.pids_limit = 64;
  s.log_path = "/var/lib/xop/sessions/sess-1/log";
  return s;
}

bool contains(const Json& arr, const std::string& v) {
  return std::any_of(arr.begin(), arr.end(), [&](const Json& x) { return x == v; });
}

TEST(SandboxBundleTest, ConfigCarriesLimitsNamespacesAndPrivileges) {
  const Json c = make_runc_config(good_spec(), "/xop/sess-1/ctr");
  EXPECT_EQ(c["process"]["terminal"], false);
  EXPECT_EQ(c["process"]["noNewPrivileges"], true);
  EXPECT_EQ(c["process"]["user"]["uid"], 0);
  EXPECT_EQ(c["process"]["args"], Json({"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(c["process"]["env"], Json({"PATH=/bin", "A=b=c"}));
  EXPECT_EQ(c["process"]["cwd"], "/tmp");
  std::map<std::string, int64_t> rlimits;
  for (const auto& r : c["process"]["rlimits"]) {
    EXPECT_EQ(r["soft"], r["hard"]) << r;
    rlimits[r["type"]] = r["hard"];
  }
  EXPECT_EQ(rlimits, (std::map<std::string, int64_t>{{"RLIMIT_NOFILE", kNofileLimit},
                                                     {"RLIMIT_CORE", 0},
                                                     {"RLIMIT_RTPRIO", 0},
                                                     {"RLIMIT_MEMLOCK", kMemlockLimit}}));
  EXPECT_EQ(c["root"]["path"], "/var/lib/xop/sessions/sess-1/rootfs");
  EXPECT_EQ(c["root"]["readonly"], false);

  const Json& caps = c["process"]["capabilities"]["bounding"];
  EXPECT_TRUE(contains(caps, "CAP_CHOWN"));
  EXPECT_EQ(caps.size(), 10u);
  for (const char* bad : {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_MKNOD",
                          "CAP_NET_RAW", "CAP_SYS_RAWIO", "CAP_DAC_READ_SEARCH", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}) {
    EXPECT_FALSE(contains(caps, bad)) << bad;
  }
  EXPECT_FALSE(c["process"]["capabilities"].contains("ambient"));

  const Json& lx = c["linux"];
  std::vector<std::string> ns;
  for (const auto& n : lx["namespaces"]) ns.push_back(n["type"]);
  EXPECT_EQ(ns, (std::vector<std::string>{"pid", "ipc", "uts", "mount", "network"}));
  EXPECT_EQ(lx["cgroupsPath"], "/xop/sess-1/ctr");
  EXPECT_EQ(lx["resources"]["memory"]["limit"], 64 << 20);
  EXPECT_EQ(lx["resources"]["cpu"]["quota"], 50000);
  EXPECT_EQ(lx["resources"]["cpu"]["period"], 100000);
  EXPECT_EQ(lx["resources"]["pids"]["limit"], 64);
  // The OCI runtime spec's default masked and read-only paths (and powercap: CVE-2020-8694).
  for (const char* p :
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/powercap"}) {
    EXPECT_TRUE(contains(lx["maskedPaths"], p)) << p;
  }
  for (const char* p : {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys/fs/cgroup"}) {
    EXPECT_TRUE(contains(lx["readonlyPaths"], p)) << p;
  }
  EXPECT_FALSE(lx.contains("uidMappings"));  // no user namespace (docs/operating.md "Sandbox hardening")
  EXPECT_EQ(lx["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");  // an allow list (SeccompProfileTest)

  bool sys_ro = false;
  for (const auto& m : c["mounts"]) {
    if (m["destination"] == "/sys") sys_ro = contains(m["options"], "ro");
  }
  EXPECT_TRUE(sys_ro);
}

TEST(SandboxBundleTest, TheNetworkNamespaceIsFreshOrTheSessionNetworksOne) {
  const Json fresh = make_runc_config(good_spec(), "/xop/sess-1/ctr");
  EXPECT_EQ(fresh["linux"]["namespaces"][4], Json({{"type", "network"}}));
  SandboxSpec s = good_spec();
  s.netns_path = "/run/netns/xop-sess-1";
  const Json joined = make_runc_config(s, "/xop/sess-1/ctr");
  EXPECT_EQ(joined["linux"]["namespaces"][4], Json({{"type", "network"}, {"path", "/run/netns/xop-sess-1"}}));
  EXPECT_TRUE(validate_sandbox_spec(s));
  for (const std::string& bad : {std::string("run/netns/x"), std::string("/run/netns/x\0y", 14)}) {
    s.netns_path = bad;
    EXPECT_FALSE(validate_sandbox_spec(s)) << bad;
  }
}

TEST(SandboxBundleTest, CpuQuotaFromMillis) {
  EXPECT_EQ(cpu_quota_us(500), 50000);
  EXPECT_EQ(cpu_quota_us(2000), 200000);
  EXPECT_EQ(cpu_quota_us(1), 1000);  // kernel minimum
}

TEST(SandboxBundleTest, ValidationRefusesHostileSpecs) {
  EXPECT_TRUE(validate_sandbox_spec(good_spec()));
  auto bad = [](auto mutate) {
    SandboxSpec s = good_spec();
    mutate(s);
    return !validate_sandbox_spec(s);
  };
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.id = "../etc"; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.id = ""; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.id = std::string(65, 'a'); }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.id = "a/b"; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.rootfs = "relative"; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.cwd = "tmp"; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.args.clear(); }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.args.push_back(std::string("a\0b", 3)); }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.env.push_back("NOEQUALS"); }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.env.push_back("=x"); }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.reserved.cpu_millis = 0; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.reserved.memory_bytes = 1024; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.pids_limit = 0; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.log_path = ""; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.uid = 0x80000000u; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.gid = 0xffffffffu; }));
  EXPECT_TRUE(bad([](SandboxSpec& s) { s.additional_gids.assign(65, 5); }));
}

TEST(SandboxBundleTest, TheProcessRunsAsTheSpecsUserAndGroups) {
  SandboxSpec s = good_spec();
  EXPECT_FALSE(make_runc_config(s, "/x")["process"]["user"].contains("additionalGids"));
  s.uid = 1000;
  s.gid = 1001;
  s.additional_gids = {29, 50};
  const Json c = make_runc_config(s, "/x");
  EXPECT_EQ(c["process"]["user"], Json({{"uid", 1000}, {"gid", 1001}, {"additionalGids", {29, 50}}}));
}

TEST(MockSandboxTest, CountersExitAndLifecycle) {
  MockSandbox m;
  ASSERT_TRUE(m.start(good_spec()));
  EXPECT_EQ(m.start(good_spec()).error().code, ErrorCode::kConflict);
  EXPECT_EQ(m.status("sess-1")->state, SandboxState::kRunning);
  m.set_usage("sess-1", UsageSample{5, 6, 7, 8});
  EXPECT_EQ(m.sample("sess-1")->cpu_ns, 5);
  m.exit("sess-1", 3);
  EXPECT_EQ(m.status("sess-1")->exit_code, 3);
  EXPECT_TRUE(m.stop("sess-1", std::chrono::milliseconds(1)));
  EXPECT_EQ(m.status("sess-1")->exit_code, 3);
  EXPECT_EQ(m.stops("sess-1"), 1);
  EXPECT_TRUE(m.remove("sess-1"));
  EXPECT_TRUE(m.remove("sess-1"));
  EXPECT_EQ(m.status("sess-1").error().code, ErrorCode::kNotFound);
  m.fail_next_start(Error{ErrorCode::kResourceExhausted, "full"});
  EXPECT_EQ(m.start(good_spec()).error().code, ErrorCode::kResourceExhausted);
  EXPECT_TRUE(m.start(good_spec()));
  EXPECT_EQ(m.count(), 1u);
}

}  // namespace
}  // namespace xop
