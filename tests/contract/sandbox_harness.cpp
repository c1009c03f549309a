// The mock and runc/crun harnesses of the Sandbox contract suite.
#include "contract/sandbox_harness.h"

#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "crypto/keys.h"
#include "image/oci_layout.h"
#include "server/burner_image.h"
#include "server/cgroup.h"
#include "server/image_store.h"
#include "server/sandbox_mock.h"
#include "server/sandbox_runc.h"
#include "sim/sim_sandbox.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Burns until its own utime+stime (USER_HZ ticks, /proc/<pid>/stat fields 14 and 15) reach 1 s,
// in the shell itself (builtins only: no child whose CPU would escape the count).
constexpr const char* kBurnScript =
    "while :; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; read -r l < /proc/$$/stat; set -- $l; "
    "[ $((${14}+${15})) -ge 100 ] && exit 0; done";
static_assert(kKnownBurnNs == 1'000'000'000, "kBurnScript burns 100 ticks of 10 ms");

std::vector<std::string> workload_args(Workload w) {
  switch (w) {
    case Workload::kExit3:
      return {"/bin/sh", "-c", "exit 3"};
    case Workload::kBurnKnownCpu:
      return {"/bin/sh", "-c", kBurnScript};
    case Workload::kSpinExitingOnTerm:
      return {"/bin/sh", "-c", "trap 'exit 0' TERM; while :; do :; done"};
    case Workload::kSpinIgnoringTerm:
      return {"/bin/sh", "-c", "trap '' TERM; while :; do :; done"};
    case Workload::kExceedMemory:
      return {"/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"};
  }
  return {};
}

SandboxSpec base_spec(const std::string& id, const std::string& dir, Workload w) {
  SandboxSpec s;
  s.id = id;
  s.bundle_dir = dir + "/bundle";
  s.rootfs = dir + "/rootfs";
  s.args = workload_args(w);
  s.env = {"PATH=/bin"};
  s.reserved.cpu_millis = 1000;  // the burn takes about 1 s of wall time on an idle core
  s.reserved.memory_bytes = w == Workload::kExceedMemory ? 32 << 20 : 64 << 20;
  s.pids_limit = 64;
  s.log_path = dir + "/log";
  return s;
}

std::string next_id() {
  static int n = 0;
  return "ct" + std::to_string(++n) + "-" + random_id("").substr(0, 8);
}

// The mock: the harness plays the kernel, driving each workload through MockSandbox's controls.
class MockHarness final : public SandboxHarness {
 public:
  Sandbox& sandbox() override { return mock_; }
  SandboxSpec spec(Workload w) override {
    const std::string id = next_id();
    workloads_[id] = Run{w, {}, {}, 0};
    return base_spec(id, t_.file(id), w);
  }
  void drive() override {
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, run] : workloads_) {
      auto st = mock_.status(id);
      if (!st || st->state != SandboxState::kRunning) {
        run.last.reset();  // frozen or stopped: no CPU accrues
        continue;
      }
      if (!run.started) {
        run.started = now;
        if (run.w == Workload::kSpinIgnoringTerm) mock_.ignore_term(id);
      }
      // One core's worth of CPU for the time it ran (between drives while running).
      if (run.last) run.cpu += std::chrono::duration_cast<std::chrono::nanoseconds>(now - *run.last).count();
      run.last = now;
      int64_t cpu = run.cpu;
      if (run.w == Workload::kBurnKnownCpu) cpu = std::min(cpu, kKnownBurnNs + 2'000'000);
      mock_.set_usage(id, UsageSample{cpu, 1 << 20, 0, 0, 0});
      switch (run.w) {
        case Workload::kExit3:
          mock_.exit(id, 3);
          break;
        case Workload::kExceedMemory:
          mock_.oom_kill(id);
          break;
        case Workload::kBurnKnownCpu:
          if (cpu >= kKnownBurnNs) mock_.exit(id, 0);
          break;
        default:
          break;
      }
    }
  }
  std::vector<std::string> leftovers(const std::string& id) override {
    if (mock_.spec(id)) return {"the mock still holds " + id};
    return {};
  }

 private:
  struct Run {
    Workload w;
    std::optional<std::chrono::steady_clock::time_point> started;
    std::optional<std::chrono::steady_clock::time_point> last;  // the last drive that saw it running
    int64_t cpu = 0;
  };
  TempDir t_;
  MockSandbox mock_;
  std::map<std::string, Run> workloads_;
};

// The burner image's layout, built once per process.
const std::string& burner_layout_dir(std::string& manifest) {
  static TempDir dir;
  static const std::string digest = build_burner_image(dir.file("img"));
  manifest = digest;
  static const std::string path = dir.file("img");
  return path;
}

// runc or crun over real cgroups, with the burner image's rootfs.
class RuncHarness final : public SandboxHarness {
 public:
  // Empty on success, else why the driver cannot run here.
  std::string init(const std::string& runtime) {
    if (auto why = container_skip_reason(); !why.empty()) return why;
    if (std::system(("command -v " + runtime + " >/dev/null 2>&1").c_str()) != 0) {
      return runtime + " is not installed";
    }
    const std::string& img = burner_layout_dir(manifest_);
    if (manifest_.empty()) return "scripts/build-image failed to build the burner image";
    auto layout = read_oci_layout(img, t_.file("scratch"));
    if (!layout) return "burner image: " + layout.error().message;
    auto store = ImageStore::open(t_.file("store"));
    if (!store) return "image store: " + store.error().message;
    store_ = std::move(*store);
    if (!load_layout(*layout, *store_)) return "could not load the burner image";
    auto cg = detect_cgroup_layout("/sys/fs/cgroup");
    if (!cg) return "cgroups: " + cg.error().message;
    cg_ = *cg;
    opts_.runtime = runtime;
    opts_.state_root = t_.file("state");
#ifdef XOP_SHIM_LAUNCHER
    opts_.shim_launcher = XOP_SHIM_LAUNCHER;  // as the server runs its shims
#endif
    opts_.cgroup_parent = "xop-contract-" + random_id("").substr(0, 10);
    auto sb = open_runc_sandbox(opts_);
    if (!sb) return runtime + " driver: " + sb.error().message;
    sandbox_ = std::move(*sb);
    // A trivial container must run, or this runtime does not work on this machine.
    SandboxSpec probe = spec(Workload::kExit3);
    probe.args = {"/bin/true"};
    if (auto st = sandbox_->start(probe); !st)
      return runtime + " cannot run a trivial container: " + st.error().message;
    const bool exited = poll_until(
        [&] {
          auto st = sandbox_->status(probe.id);
          return st && st->state == SandboxState::kStopped && st->exit_code.has_value();
        },
        10s);
    auto st = sandbox_->status(probe.id);
    (void)sandbox_->remove(probe.id);
    if (!exited || !st || st->exit_code != 0) return runtime + " ran /bin/true but did not report exit code 0";
    return "";
  }

  ~RuncHarness() override {
    if (sandbox_) {
      for (const auto& [id, s] : specs_) (void)sandbox_->remove(id);
    }
    sandbox_.reset();  // removes the (empty) parent cgroup
    if (store_) {
      for (const auto& [id, s] : specs_) (void)store_->release_rootfs(t_.file(id));
    }
  }

  Sandbox& sandbox() override { return *sandbox_; }

  SandboxSpec spec(Workload w) override {
    const std::string id = next_id();
    const std::string dir = t_.file(id);
    SandboxSpec s = base_spec(id, dir, w);
    auto rootfs = store_->prepare_rootfs(manifest_, dir);
    EXPECT_TRUE(rootfs) << rootfs.error().message;
    s.rootfs = rootfs.value_or(s.rootfs);
    specs_[id] = s;
    return s;
  }

  // Straight from the cgroup file system: v1 cpuacct.usage (ns), v2 cpu.stat usage_usec.
  std::optional<int64_t> kernel_cpu_ns(const std::string& id) override {
    const std::string rel = "/" + opts_.cgroup_parent + "/" + id;
    if (cg_.mode == CgroupMode::kV2) {
      std::ifstream in(cg_.v2_dir + rel + "/cpu.stat");
      std::string key;
      int64_t v = 0;
      while (in >> key >> v) {
        if (key == "usage_usec") return v * 1000;
      }
      return std::nullopt;
    }
    auto it = cg_.v1.find("cpuacct");
    if (it == cg_.v1.end()) return std::nullopt;
    std::ifstream in(it->second + rel + "/cpuacct.usage");
    int64_t v = 0;
    if (in >> v) return v;
    return std::nullopt;
  }

  void note_processes(const std::string& id) override {
    for (const auto& dir : session_cgroups(id)) {
      for (const char* sub : {"/cgroup.procs", "/ctr/cgroup.procs"}) {
        std::ifstream in(dir + sub);
        for (pid_t p = 0; in >> p;) pids_[id].push_back(p);
      }
    }
  }

  std::vector<std::string> leftovers(const std::string& id) override {
    std::vector<std::string> out;
    for (const auto& dir : session_cgroups(id)) {
      if (fs::exists(dir)) out.push_back("cgroup " + dir);
    }
    if (fs::exists(opts_.state_root + "/" + id)) out.push_back("runtime state " + opts_.state_root + "/" + id);
    for (const pid_t p : pids_[id]) {
      if (::kill(p, 0) == 0) out.push_back("process " + std::to_string(p));
    }
    const std::string bundle = specs_.count(id) ? specs_[id].bundle_dir : "";
    std::ifstream mounts("/proc/self/mountinfo");
    for (std::string line; !bundle.empty() && std::getline(mounts, line);) {
      if (line.find(bundle) != std::string::npos) out.push_back("mount " + line);
    }
    return out;
  }

 private:
  [[nodiscard]] std::vector<std::string> session_cgroups(const std::string& id) const {
    std::vector<std::string> dirs;
    const std::string rel = "/" + opts_.cgroup_parent + "/" + id;
    for (const auto& h : cg_.v1_hierarchies) dirs.push_back(h + rel);
    if (!cg_.v2_dir.empty()) dirs.push_back(cg_.v2_dir + rel);
    return dirs;
  }

  TempDir t_;
  std::string manifest_;
  std::unique_ptr<ImageStore> store_;
  CgroupLayout cg_;
  RuncOptions opts_;
  std::unique_ptr<Sandbox> sandbox_;
  std::map<std::string, SandboxSpec> specs_;
  std::map<std::string, std::vector<pid_t>> pids_;
};

// The simulated platform's driver (sim/sim_sandbox.h): each workload is described by its
// environment and lives on a simulated clock that drive() moves 100 ms per poll; a stop's grace is
// slept for real (the suite times it) and passes on the clock too, as the platform's does.
class SimHarness final : public SandboxHarness {
 public:
  SimHarness()
      : sim_(clock_, [this](std::chrono::milliseconds grace) {
          std::this_thread::sleep_for(grace);
          clock_.advance_ms(grace.count());
        }) {}
  Sandbox& sandbox() override { return sim_; }
  SandboxSpec spec(Workload w) override {
    const std::string id = next_id();
    SandboxSpec s = base_spec(id, t_.file(id), w);
    switch (w) {
      case Workload::kExit3:
        s.env.insert(s.env.end(), {"XOP_SIM_EXIT_AFTER_MS=0", "XOP_SIM_EXIT_CODE=3"});
        break;
      case Workload::kBurnKnownCpu:  // a whole core for exactly kKnownBurnNs
        s.env.insert(s.env.end(), {"XOP_SIM_CPU_MILLICORES=1000",
                                   "XOP_SIM_EXIT_AFTER_MS=" + std::to_string(kKnownBurnNs / 1'000'000)});
        break;
      case Workload::kSpinExitingOnTerm:
        s.env.emplace_back("XOP_SIM_CPU_MILLICORES=1000");
        break;
      case Workload::kSpinIgnoringTerm:
        s.env.insert(s.env.end(), {"XOP_SIM_CPU_MILLICORES=1000", "XOP_SIM_IGNORE_TERM=1"});
        break;
      case Workload::kExceedMemory:
        s.env.emplace_back("XOP_SIM_MEMORY_BYTES=" + std::to_string(s.reserved.memory_bytes + 1));
        break;
    }
    return s;
  }
  void drive() override { clock_.advance_ms(100); }
  std::vector<std::string> leftovers(const std::string& id) override {
    if (sim_.status(id)) return {"the simulated sandbox still holds " + id};
    return {};
  }

 private:
  TempDir t_;
  SimulatedClock clock_;
  SimSandbox sim_;
};

}  // namespace

std::unique_ptr<SandboxHarness> harness_for(const std::string& driver, std::string& why) {
  why.clear();
  if (driver == "mock") return std::make_unique<MockHarness>();
  if (driver == "sim") return std::make_unique<SimHarness>();
  if (driver == "runc" || driver == "crun") {
    auto h = std::make_unique<RuncHarness>();
    why = h->init(driver);
    if (!why.empty()) return nullptr;
    return h;
  }
  why = "no harness for driver " + driver;
  return nullptr;
}

}  // namespace xop::testing
