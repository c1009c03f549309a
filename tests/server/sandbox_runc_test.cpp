// Real runc tests: the burner image under RuncSandbox with real cgroups. Skipped (with the reason)
// where containers cannot run; on the project's machines they run as root and must pass.
#include "server/sandbox_runc.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "crypto/keys.h"
#include "image/oci_layout.h"
#include "server/burner_image.h"
#include "server/cgroup.h"
#include "server/image_store.h"
#include "server/sandbox_process.h"
#include "server/seccomp_profile.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::TempDir;

TEST(OomKillCountTest, ReadsV1AndV2Files) {
  EXPECT_EQ(parse_oom_kill_count("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n").value(), 3);
  EXPECT_EQ(parse_oom_kill_count("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n").value(), 2);
  EXPECT_EQ(parse_oom_kill_count("oom_kill_disable 0\nunder_oom 0\n").value(), 0);  // kernels before 4.13
  EXPECT_FALSE(parse_oom_kill_count("oom_kill -1\n"));
  EXPECT_FALSE(parse_oom_kill_count("oom_kill 99999999999999999999\n"));
}

TEST(DiskReadBytesTest, ReadsV1AndV2Files) {
  EXPECT_EQ(parse_disk_read_bytes("254:0 Read 4096\n254:0 Write 8192\n254:0 Total 12288\nTotal 12288\n").value(), 4096);
  EXPECT_EQ(parse_disk_read_bytes("254:0 rbytes=100 wbytes=7 rios=1 wios=1\n7:3 rbytes=20 wbytes=0\n").value(), 120);
  EXPECT_EQ(parse_disk_read_bytes("Total 0\n").value(), 0);
  EXPECT_FALSE(parse_disk_read_bytes("254:0 Read -5\n"));
}

TEST(RuncSandboxOpenTest, CrunOnHybridHostWithV2ControllersIsRefusedWithTheWorkaround) {
  TempDir t;
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "blkio"}) fs::create_directories(t.file(c));
  testing::write_file(t.file("unified/cgroup.controllers"), "hugetlb\n");
  RuncOptions o;
  o.runtime = "/usr/bin/crun";
  o.cgroup_root = t.path();
  auto s = open_runc_sandbox(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find("hugetlb"), std::string::npos);
  o.runtime = "runc";
  EXPECT_TRUE(open_runc_sandbox(o));
  o.cgroup_parent = "../escape";
  EXPECT_FALSE(open_runc_sandbox(o));
  // make_runc_sandbox never fails outright; its calls carry the error.
  RuncOptions bad;
  bad.cgroup_root = t.file("missing");
  auto broken = make_runc_sandbox(bad);
  EXPECT_FALSE(broken->sample("x"));
}

// A runtime that never answers (a script that sleeps forever, in a child of its own too): every
// call fails with kUnavailable naming the command and the deadline once that passed, and neither
// the runtime, nor what it started, nor the shim is left behind.
TEST(RuncSandboxDeadlineTest, AHungRuntimeIsKilledAtTheDeadline) {
  if (auto why = testing::container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir t;
  const std::string pids = t.file("pids");
  const std::string runtime = t.file("hung-runtime");
  testing::write_file(runtime, "#!/bin/sh\necho $$ >> " + pids + "\nsleep 1000 &\necho $! >> " + pids + "\nwait\n");
  fs::permissions(runtime, fs::perms::owner_all);
  fs::create_directories(t.file("rootfs"));
  auto cg = detect_cgroup_layout("/sys/fs/cgroup");
  ASSERT_TRUE(cg) << cg.error().message;

  RuncOptions o;
  o.runtime = runtime;
  o.state_root = t.file("state");
  o.cgroup_parent = "xop-test-" + random_id("").substr(0, 12);
  o.run_deadline = 400ms;
  o.command_deadline = 200ms;
  auto sb = open_runc_sandbox(o);
  ASSERT_TRUE(sb) << sb.error().message;
  SandboxSpec s;
  s.id = "hung-" + random_id("").substr(0, 8);
  s.bundle_dir = t.file("bundle");
  s.rootfs = t.file("rootfs");
  s.args = {"/bin/true"};
  s.reserved.cpu_millis = 100;
  s.reserved.memory_bytes = 16 << 20;
  s.log_path = t.file("log");

  // Orphans re-parent to this process meanwhile, so "no children left" covers every descendant.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  const auto elapsed_since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::steady_clock::now() - t0;
  };
  const auto expect_timeout = [](const Status& st, const std::string& command, const std::string& deadline) {
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::kUnavailable) << st.error().message;
    EXPECT_NE(st.error().message.find(command), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("did not finish within " + deadline), std::string::npos) << st.error().message;
  };

  // start: "run" times out (400 ms), then its cleanup's "delete" does (200 ms).
  auto t0 = std::chrono::steady_clock::now();
  expect_timeout((*sb)->start(s), " run --detach ", "400 ms");
  EXPECT_GE(elapsed_since(t0), 400ms);
  EXPECT_LT(elapsed_since(t0), 400ms + 200ms + 500ms);

  t0 = std::chrono::steady_clock::now();
  auto status = (*sb)->status(s.id);
  expect_timeout(status ? ok_status() : Status(tl::make_unexpected(status.error())), " state " + s.id, "200 ms");
  EXPECT_GE(elapsed_since(t0), 200ms);
  EXPECT_LT(elapsed_since(t0), 200ms + 500ms);

  t0 = std::chrono::steady_clock::now();
  expect_timeout((*sb)->stop(s.id, 100ms), " state " + s.id, "200 ms");
  EXPECT_LT(elapsed_since(t0), 200ms + 500ms);

  t0 = std::chrono::steady_clock::now();
  expect_timeout((*sb)->remove(s.id), " delete --force " + s.id, "200 ms");
  EXPECT_LT(elapsed_since(t0), 200ms + 500ms);

  // Every runtime invocation and its sleeping child are dead and reaped, and so is every shim.
  std::vector<pid_t> started;
  std::istringstream in(testing::read_file(pids));
  for (pid_t p = 0; in >> p;) started.push_back(p);
  EXPECT_GE(started.size(), 4U);  // at least "run" and "state", each with its child
  const bool none_left = testing::poll_until(
      [&] {
        pid_t reaped = 0;
        while ((reaped = ::waitpid(-1, nullptr, WNOHANG)) > 0) {
        }
        if (reaped != -1 || errno != ECHILD) return false;  // 0: a child is still running
        for (const pid_t p : started) {
          if (::kill(p, 0) == 0 || errno != ESRCH) return false;
        }
        return true;
      },
      2s);
  ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
  EXPECT_TRUE(none_left) << "a runtime process or shim outlived its deadline";

  // The failed start removed the session cgroup; only the (empty) parent is left to clean.
  for (const auto& h : cg->v1_hierarchies) {
    EXPECT_FALSE(fs::exists(h + "/" + o.cgroup_parent + "/" + s.id)) << h;
    ::rmdir((h + "/" + o.cgroup_parent).c_str());
  }
  if (!cg->v2_dir.empty()) {
    EXPECT_FALSE(fs::exists(cg->v2_dir + "/" + o.cgroup_parent + "/" + s.id));
    ::rmdir((cg->v2_dir + "/" + o.cgroup_parent).c_str());
  }
}

class RuncSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    manifest_ = testing::build_burner_image(t_.file("img"));
    ASSERT_FALSE(manifest_.empty());
    auto layout = read_oci_layout(t_.file("img"), t_.file("scratch"));
    ASSERT_TRUE(layout) << layout.error().message;
    auto store = ImageStore::open(t_.file("store"));
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(testing::load_layout(*layout, *store_));
    auto layout_cg = detect_cgroup_layout("/sys/fs/cgroup");
    ASSERT_TRUE(layout_cg) << layout_cg.error().message;
    cg_ = *layout_cg;
    opts_.state_root = t_.file("runc-state");
    opts_.cgroup_parent = "xop-test-" + random_id("").substr(0, 12);
#ifdef XOP_SHIM_LAUNCHER
    opts_.shim_launcher = XOP_SHIM_LAUNCHER;  // as the server runs its shims
#endif
    auto sb = open_runc_sandbox(opts_);
    ASSERT_TRUE(sb) << sb.error().message;
    sandbox_ = std::move(*sb);
  }

  void TearDown() override {
    for (const auto& id : started_) (void)sandbox_->remove(id);
    for (const auto& dir : sessions_) (void)store_->release_rootfs(dir);
    if (!opts_.cgroup_parent.empty()) {
      for (const auto& h : cg_.v1_hierarchies) ::rmdir((h + "/" + opts_.cgroup_parent).c_str());
      if (!cg_.v2_dir.empty()) ::rmdir((cg_.v2_dir + "/" + opts_.cgroup_parent).c_str());
    }
  }

  SandboxSpec spec_for(const std::string& name, std::vector<std::string> args) {
    const std::string dir = t_.file(name);
    auto rootfs = store_->prepare_rootfs(manifest_, dir);
    EXPECT_TRUE(rootfs) << rootfs.error().message;
    sessions_.push_back(dir);
    auto img = store_->image(manifest_);
    SandboxSpec s;
    s.id = name + "-" + random_id("").substr(0, 8);
    s.bundle_dir = dir + "/bundle";
    s.rootfs = rootfs.value_or("");
    s.args = args.empty() ? img->cmd : std::move(args);
    s.env = img->env;
    s.cwd = img->working_dir;
    s.reserved.cpu_millis = 500;
    s.reserved.memory_bytes = 64 << 20;
    s.pids_limit = 64;
    s.log_path = dir + "/log";
    return s;
  }

  Status start(const SandboxSpec& s) {
    auto st = sandbox_->start(s);
    if (st) started_.push_back(s.id);
    return st;
  }

  [[nodiscard]] std::string ctr_file(const char* controller, const std::string& id, const char* file) const {
    if (cg_.mode == CgroupMode::kV2) return cg_.v2_dir + "/" + opts_.cgroup_parent + "/" + id + "/ctr/" + file;
    return cg_.v1.at(controller) + "/" + opts_.cgroup_parent + "/" + id + "/ctr/" + file;
  }

  TempDir t_;
  std::string manifest_;
  std::unique_ptr<ImageStore> store_;
  CgroupLayout cg_;
  RuncOptions opts_;
  std::unique_ptr<Sandbox> sandbox_;
  std::vector<std::string> started_;
  std::vector<std::string> sessions_;
};

TEST_F(RuncSandboxTest, BurnerIsLimitedMeteredStoppedAndRemoved) {
  // A CPU burner that ignores SIGTERM, so stop() must escalate to SIGKILL.
  const SandboxSpec s = spec_for("burn", {"/bin/sh", "-c", "trap '' TERM; while :; do :; done"});
  ASSERT_TRUE(start(s)) << "start failed";
  auto st = sandbox_->status(s.id);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->state, SandboxState::kRunning);

  ASSERT_TRUE(testing::poll_until(
      [&] {
        auto u = sandbox_->sample(s.id);
        return u && u->cpu_ns > 300'000'000;
      },
      20s));

  // The limits reached the container's cgroup.
  if (cg_.mode == CgroupMode::kV2) {
    EXPECT_EQ(testing::read_file(ctr_file("cpu", s.id, "cpu.max")), "50000 100000\n");
    EXPECT_EQ(testing::read_file(ctr_file("memory", s.id, "memory.max")), "67108864\n");
  } else {
    EXPECT_EQ(testing::read_file(ctr_file("memory", s.id, "memory.limit_in_bytes")), "67108864\n");
    EXPECT_EQ(testing::read_file(ctr_file("cpu", s.id, "cpu.cfs_quota_us")), "50000\n");
    EXPECT_EQ(testing::read_file(ctr_file("cpu", s.id, "cpu.cfs_period_us")), "100000\n");
    EXPECT_EQ(testing::read_file(ctr_file("pids", s.id, "pids.max")), "64\n");
  }

  // The CPU rate over a 2 s window is about half a core.
  const auto u0 = sandbox_->sample(s.id).value();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(testing::poll_until([&] { return std::chrono::steady_clock::now() - t0 >= 2s; }, 5s));
  const auto u1 = sandbox_->sample(s.id).value();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cores = static_cast<double>(u1.cpu_ns - u0.cpu_ns) / 1e9 / secs;
  RecordProperty("cpu_cores", std::to_string(cores));
  std::printf("measured CPU rate under a 500 milli-core quota: %.3f cores\n", cores);
  EXPECT_GT(cores, 0.2);  // generous: the 2 shared cores may be busy with other work
  EXPECT_LT(cores, 0.7);
  EXPECT_GT(u1.memory_bytes, 0);

  // The workload ignores SIGTERM: stop escalates to SIGKILL after the grace period.
  ASSERT_TRUE(sandbox_->stop(s.id, 300ms));
  st = sandbox_->status(s.id);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, SandboxState::kStopped);
  ASSERT_TRUE(testing::poll_until([&] { return sandbox_->status(s.id)->exit_code.has_value(); }, 5s));
  EXPECT_EQ(sandbox_->status(s.id)->exit_code, 137);
  ASSERT_TRUE(sandbox_->stop(s.id, 300ms));  // idempotent

  // Counters stay readable after the workload exited, and do not go backwards.
  auto after = sandbox_->sample(s.id);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_GE(after->cpu_ns, u1.cpu_ns);

  ASSERT_TRUE(sandbox_->remove(s.id));
  ASSERT_TRUE(sandbox_->remove(s.id));  // idempotent
  EXPECT_EQ(sandbox_->status(s.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(sandbox_->sample(s.id).error().code, ErrorCode::kNotFound);
  for (const auto& h : cg_.v1_hierarchies) EXPECT_FALSE(fs::exists(h + "/" + opts_.cgroup_parent + "/" + s.id)) << h;
  EXPECT_FALSE(fs::exists(opts_.state_root + "/" + s.id));
}

TEST_F(RuncSandboxTest, ImageCommandRunsAndStopsOnSigterm) {
  const SandboxSpec s = spec_for("cmd", {});
  ASSERT_FALSE(s.args.empty());
  ASSERT_TRUE(start(s));
  ASSERT_TRUE(testing::poll_until([&] { return sandbox_->sample(s.id)->cpu_ns > 50'000'000; }, 20s));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(sandbox_->stop(s.id, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);  // stopped by SIGTERM, well before the grace ran out
  ASSERT_TRUE(testing::poll_until([&] { return sandbox_->status(s.id)->exit_code.has_value(); }, 5s));
  const int code = *sandbox_->status(s.id)->exit_code;
  EXPECT_TRUE(code == 0 || code == 128 + 15) << code;
}

TEST_F(RuncSandboxTest, EchoWritesTheLogAndReportsTheExitCode) {
  const SandboxSpec s = spec_for("echo", {"/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"});
  ASSERT_TRUE(start(s));
  ASSERT_TRUE(testing::poll_until(
      [&] {
        auto st = sandbox_->status(s.id);
        return st && st->state == SandboxState::kStopped && st->exit_code.has_value();
      },
      10s));
  EXPECT_EQ(sandbox_->status(s.id)->exit_code, 3);
  const std::string log = testing::read_file(s.log_path);
  EXPECT_NE(log.find("hello\n"), std::string::npos) << log;
  EXPECT_NE(log.find("oops\n"), std::string::npos) << log;
  EXPECT_TRUE(sandbox_->sample(s.id));
  ASSERT_TRUE(sandbox_->remove(s.id));
}

TEST_F(RuncSandboxTest, DirectWritesAreMeteredAsDiskBytes) {
  if (block_device_of(t_.path()).empty() || cg_.mode == CgroupMode::kV2) {
    GTEST_SKIP() << "the v1 blkio check needs the test directory on a block device";
  }
  const SandboxSpec s = spec_for("disk", {"/bin/dd", "if=/dev/zero", "of=/tmp/f", "bs=1M", "count=8", "oflag=direct"});
  ASSERT_TRUE(start(s));
  ASSERT_TRUE(testing::poll_until([&] { return sandbox_->status(s.id)->exit_code.has_value(); }, 20s));
  EXPECT_EQ(sandbox_->status(s.id)->exit_code, 0) << testing::read_file(s.log_path);
  auto u = sandbox_->sample(s.id);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_GE(u->disk_bytes, 8 << 20);
}

TEST_F(RuncSandboxTest, IsolationHoldsInsideTheContainer) {
  // Loopback only, no new privileges, reduced capabilities, read-only /sys, seccomp on.
  const SandboxSpec s =
      spec_for("iso", {"/bin/sh", "-c",
                       "ls /sys/class/net; grep -E '^(NoNewPrivs|Seccomp|CapEff|CapPrm|CapBnd):' /proc/self/status; "
                       "grep -E '^[^ ]+ /sys[ /]' /proc/self/mounts; "
                       "touch /sys/fs/cgroup/xop-probe 2>/dev/null && echo cgroup-writable; hostname; echo done"});
  ASSERT_TRUE(start(s));
  ASSERT_TRUE(testing::poll_until([&] { return sandbox_->status(s.id)->exit_code.has_value(); }, 10s));
  const std::string log = testing::read_file(s.log_path);
  EXPECT_NE(log.find("done"), std::string::npos) << log;
  EXPECT_EQ(log.find("eth"), std::string::npos) << log;
  EXPECT_NE(log.find("lo\n"), std::string::npos) << log;
  EXPECT_NE(log.find("NoNewPrivs:\t1"), std::string::npos) << log;
  EXPECT_NE(log.find("Seccomp:\t2"), std::string::npos) << log;
  // Exactly the bundle's capability set (sandbox_bundle.cpp), in every set that matters: CHOWN 0,
  // DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5, SETGID 6, SETUID 7, SETPCAP 8, NET_BIND_SERVICE 10,
  // SYS_CHROOT 18. Any extra one (SYS_ADMIN, NET_RAW, MKNOD...) changes the mask.
  uint64_t want = 0;
  for (int bit : {0, 1, 3, 4, 5, 6, 7, 8, 10, 18}) want |= uint64_t{1} << bit;
  const std::string mask = fmt::format("{:016x}", want);
  EXPECT_NE(log.find("CapEff:\t" + mask + "\n"), std::string::npos) << mask << "\n" << log;
  EXPECT_NE(log.find("CapPrm:\t" + mask + "\n"), std::string::npos) << mask << "\n" << log;
  EXPECT_NE(log.find("CapBnd:\t" + mask + "\n"), std::string::npos) << mask << "\n" << log;
  // /sys and every mount below it (the cgroup tree) are read-only: the mount options of what is
  // visible at each mount point (the last line for it; a read-only bind may cover a writable
  // mount). Creating a file in sysfs itself fails even where sysfs is writable, so the write probe
  // is on /sys/fs/cgroup, which under v1 is a tmpfs where it would succeed.
  std::map<std::string, std::string> sys_opts;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string dev, dir, type, opts;
    if ((f >> dev >> dir >> type >> opts) && (dir == "/sys" || dir.rfind("/sys/", 0) == 0)) sys_opts[dir] = opts;
  }
  EXPECT_TRUE(sys_opts.count("/sys")) << log;
  EXPECT_GE(sys_opts.size(), 2u) << log;  // /sys and its cgroup tree
  for (const auto& [dir, opts] : sys_opts) {
    EXPECT_TRUE(opts == "ro" || opts.rfind("ro,", 0) == 0) << dir << " " << opts << "\n" << log;
  }
  EXPECT_EQ(log.find("cgroup-writable"), std::string::npos) << log;
  EXPECT_NE(log.find("xop\n"), std::string::npos) << log;
}

// The seccomp_profile key reaches the container: the built-in profile without mkdir/mkdirat makes
// mkdir fail inside while other calls work; a profile that does not parse fails the driver's open.
TEST_F(RuncSandboxTest, AConfiguredSeccompProfileReachesTheContainer) {
  Json p = Json::parse(std::string(default_seccomp_profile_text()));
  for (auto& rule : p["syscalls"]) {
    Json kept = Json::array();
    for (const auto& n : rule["names"]) {
      if (n != "mkdir" && n != "mkdirat") kept.push_back(n);
    }
    rule["names"] = kept;
  }
  const std::string file = t_.file("no-mkdir.json");
  std::ofstream(file) << p.dump();
  RuncOptions o = opts_;
  o.seccomp_profile = file;
  auto sb = open_runc_sandbox(o);
  ASSERT_TRUE(sb) << sb.error().message;
  const SandboxSpec s = spec_for(
      "prof",
      {"/bin/sh", "-c", "mkdir /tmp/d && echo mkdir-ok || echo mkdir-refused; echo x > /tmp/f && echo write-ok"});
  ASSERT_TRUE((*sb)->start(s));
  ASSERT_TRUE(testing::poll_until([&] { return (*sb)->status(s.id)->exit_code.has_value(); }, 10s));
  const std::string log = testing::read_file(s.log_path);
  EXPECT_NE(log.find("mkdir-refused"), std::string::npos) << log;
  EXPECT_NE(log.find("Operation not permitted"), std::string::npos) << log;  // EPERM, the profile's default
  EXPECT_NE(log.find("write-ok"), std::string::npos) << log;
  ASSERT_TRUE((*sb)->remove(s.id));

  std::ofstream(file, std::ios::trunc) << R"({"defaultAction":"SCMP_ACT_ALLOW"})";
  auto broken = open_runc_sandbox(o);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find(file), std::string::npos) << broken.error().message;
}

TEST_F(RuncSandboxTest, FailedStartCleansUp) {
  SandboxSpec s = spec_for("fail", {"/no/such/binary"});
  auto st = sandbox_->start(s);
  ASSERT_FALSE(st);
  EXPECT_FALSE(st.error().message.empty());
  EXPECT_EQ(sandbox_->status(s.id).error().code, ErrorCode::kNotFound);
  for (const auto& h : cg_.v1_hierarchies) EXPECT_FALSE(fs::exists(h + "/" + opts_.cgroup_parent + "/" + s.id)) << h;
}

// The runtime wrapped by a script that counts its "state" calls (ground truth for "no runc
// state per sample"), at the same state root as the fixture's driver.
class CountingRuntime {
 public:
  explicit CountingRuntime(TempDir& t) : count_(t.file("state-calls")) {
    auto real = run_command({"sh", "-c", "command -v runc"}, 5s);
    std::string path = real ? real->out : "";
    while (!path.empty() && path.back() == '\n') path.pop_back();
    fs::create_directories(t.file("bin"));
    path_ = t.file("bin") + "/runc";
    testing::write_file(path_, "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = state ] && echo x >> " + count_ +
                                   "; done\nexec " + path + " \"$@\"\n");
    fs::permissions(path_, fs::perms::owner_all);
  }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] size_t state_calls() const {
    const std::string s = testing::read_file(count_);
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  }

 private:
  std::string count_;
  std::string path_;
};

TEST_F(RuncSandboxTest, AWorkloadExitingBetweenSamplesIsSeenWithoutAskingTheRuntime) {
  CountingRuntime rt(t_);
  RuncOptions o = opts_;
  o.runtime = rt.path();
  auto sb = open_runc_sandbox(o);
  ASSERT_TRUE(sb) << sb.error().message;
  // Exits by itself once the test lets it (a file in its root file system), between two polls.
  SandboxSpec s = spec_for("between", {"/bin/sh", "-c", "while ! test -e /tmp/go; do sleep 0.05; done; exit 7"});
  ASSERT_TRUE((*sb)->start(s));
  started_.push_back(s.id);
  auto st = (*sb)->status(s.id);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->state, SandboxState::kRunning);
#ifdef XOP_SHIM_LAUNCHER
  // Its shim is the tiny launcher, not a copy of this process: small by the kernel's count.
  std::string shim;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string cmd = testing::read_file(e.path().string() + "/cmdline");
    if (cmd.find(s.bundle_dir + "/exit_code") != std::string::npos && cmd.rfind(XOP_SHIM_LAUNCHER, 0) == 0) {
      shim = e.path().string();
    }
  }
  ASSERT_FALSE(shim.empty()) << "no shim process runs " << XOP_SHIM_LAUNCHER;
  EXPECT_EQ(fs::read_symlink(shim + "/exe").string(), fs::canonical(XOP_SHIM_LAUNCHER).string());
  std::istringstream rollup(testing::read_file(shim + "/smaps_rollup"));
  int64_t rss_kib = -1;
  for (std::string line; std::getline(rollup, line);) {
    if (line.rfind("Rss:", 0) == 0) rss_kib = std::stoll(line.substr(4));
  }
  EXPECT_GT(rss_kib, 0);
  EXPECT_LT(rss_kib, 1024) << "the shim's resident memory";
#endif
  testing::write_file(s.rootfs + "/tmp/go", "");
  ASSERT_TRUE(testing::poll_until(
      [&] {
        auto now = (*sb)->status(s.id);
        return now && now->state == SandboxState::kStopped;
      },
      10s));
  EXPECT_EQ((*sb)->status(s.id)->exit_code, 7);
  EXPECT_EQ(testing::read_file(s.bundle_dir + "/exit_code"), "7\n");  // what the shim wrote
  EXPECT_EQ(rt.state_calls(), 0U) << "status() ran the runtime's state";
  ASSERT_TRUE((*sb)->remove(s.id));
  auto gone = (*sb)->status(s.id);  // unknown again: the runtime is asked, and does not know it
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound) << gone.error().message;
}

TEST_F(RuncSandboxTest, StateIsRecoveredFromFilesAfterARestartOfTheDriver) {
  CountingRuntime rt(t_);
  RuncOptions o = opts_;
  o.runtime = rt.path();
  auto first = open_runc_sandbox(o);
  ASSERT_TRUE(first) << first.error().message;
  SandboxSpec keeps = spec_for("keeps", {"/bin/sh", "-c", "trap 'exit 5' TERM; while :; do sleep 0.05; done"});
  SandboxSpec ends = spec_for("ends", {"/bin/sh", "-c", "while ! test -e /tmp/go; do sleep 0.05; done; exit 4"});
  ASSERT_TRUE((*first)->start(keeps));
  started_.push_back(keeps.id);
  ASSERT_TRUE((*first)->start(ends));
  started_.push_back(ends.id);
  first->reset();  // the server goes down; its sessions keep running

  // One of them exits while no driver watches (the shim records it).
  testing::write_file(ends.rootfs + "/tmp/go", "");
  ASSERT_TRUE(testing::poll_until([&] { return fs::exists(ends.bundle_dir + "/exit_code"); }, 10s));

  auto second = open_runc_sandbox(o);
  ASSERT_TRUE(second) << second.error().message;
  Sandbox& sb = **second;
  // The first status of each asks the runtime once (where is its bundle?); after that, files.
  auto a = sb.status(ends.id);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->state, SandboxState::kStopped);
  EXPECT_EQ(a->exit_code, 4);
  auto b = sb.status(keeps.id);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->state, SandboxState::kRunning);
  const size_t after_adoption = rt.state_calls();
  EXPECT_LE(after_adoption, 2U);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(sb.status(keeps.id)->state, SandboxState::kRunning);
    EXPECT_EQ(sb.status(ends.id)->exit_code, 4);
  }
  // Frozen and thawed: the freezer's state, read from the cgroup.
  ASSERT_TRUE(sb.freeze(keeps.id));
  EXPECT_EQ(sb.status(keeps.id)->state, SandboxState::kPaused);
  ASSERT_TRUE(sb.thaw(keeps.id));
  EXPECT_EQ(sb.status(keeps.id)->state, SandboxState::kRunning);
  ASSERT_TRUE(sb.stop(keeps.id, 5s));
  ASSERT_TRUE(testing::poll_until([&] { return sb.status(keeps.id)->exit_code.has_value(); }, 5s));
  EXPECT_EQ(sb.status(keeps.id)->exit_code, 5);
  EXPECT_EQ(rt.state_calls(), after_adoption) << "status() ran the runtime's state after adoption";
}

TEST_F(RuncSandboxTest, ATinyCpuReservationDoesNotThrottleTheStart) {
  SandboxSpec s = spec_for("tiny", {"/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"});
  s.reserved.cpu_millis = 10;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(start(s));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  // The quota is in force once it runs: the session's cgroup and the container's.
  const std::string quota_file = cg_.mode == CgroupMode::kV2 ? "cpu.max" : "cpu.cfs_quota_us";
  const std::string session_dir = cg_.mode == CgroupMode::kV2
                                      ? cg_.v2_dir + "/" + opts_.cgroup_parent + "/" + s.id
                                      : cg_.v1.at("cpu") + "/" + opts_.cgroup_parent + "/" + s.id;
  const std::string want = cg_.mode == CgroupMode::kV2 ? "1000 100000\n" : "1000\n";
  EXPECT_EQ(testing::read_file(session_dir + "/" + quota_file), want);
  EXPECT_EQ(testing::read_file(ctr_file("cpu", s.id, quota_file.c_str())), want);
  ASSERT_TRUE(sandbox_->stop(s.id, 5s));
}

}  // namespace
}  // namespace xop
