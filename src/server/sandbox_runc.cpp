// RuncSandbox: sessions as OCI containers under runc (or crun), with session cgroups of our own
// around the container's for metering that survives the container.
#include "server/sandbox_runc.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/file_util.h"
#include "core/ignore_error.h"
#include "core/json_reader.h"
#include "core/log.h"
#include "server/cgroup.h"
#include "server/sandbox.h"
#include "server/sandbox_bundle.h"
#include "server/sandbox_process.h"
#include "server/seccomp_profile.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

// Waits on the workload (not on the runtime: those deadlines are RuncOptions' run_deadline and
// command_deadline, see sandbox.h).
constexpr auto kKillDeadline = std::chrono::seconds(10);
constexpr auto kCgroupRemoveDeadline = std::chrono::seconds(10);

std::string tail_of_file(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max) s = s.substr(s.size() - max);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Appends the time since the previous mark to `out` (when set) under each mark's name.
class PhaseTimer {
 public:
  explicit PhaseTimer(std::vector<TimedPhase>* out) : out_(out), last_(std::chrono::steady_clock::now()) {}
  void mark(const char* name) {
    if (out_ == nullptr) return;
    const auto now = std::chrono::steady_clock::now();
    out_->push_back(TimedPhase{name, std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count()});
    last_ = now;
  }

 private:
  std::vector<TimedPhase>* out_;
  std::chrono::steady_clock::time_point last_;
};

// In the bundle: the shim's liveness lock (spawn_with_shim).
constexpr const char* kShimLock = "shim.lock";

bool runtime_is_crun(const std::string& runtime) { return fs::path(runtime).filename() == "crun"; }

// A container the runtime does not know: its state/kill/delete error says so.
bool says_not_found(const CommandResult& r) {
  const std::string& e = r.err;
  return e.find("does not exist") != std::string::npos || e.find("not found") != std::string::npos ||
         e.find("No such file") != std::string::npos;
}

class RuncSandbox final : public Sandbox {
 public:
  RuncSandbox(RuncOptions opts, CgroupLayout layout, Json seccomp)
      : opts_(std::move(opts)), layout_(std::move(layout)), seccomp_(std::move(seccomp)) {}
  // The driver's parent cgroup goes with it unless sessions still live there.
  ~RuncSandbox() override { remove_parent_cgroup_if_empty(layout_, opts_.cgroup_parent); }
  RuncSandbox(const RuncSandbox&) = delete;
  RuncSandbox& operator=(const RuncSandbox&) = delete;

  [[nodiscard]] std::string kind() const override { return runtime_is_crun(opts_.runtime) ? "crun" : "runc"; }

  Status start(const SandboxSpec& spec) override {
    XOP_RETURN_IF_ERROR(validate_sandbox_spec(spec));
    std::error_code ec;
    fs::create_directories(spec.bundle_dir, ec);
    if (ec) return make_error(ErrorCode::kInternal, spec.bundle_dir + ": " + ec.message());
    if (!fs::is_directory(spec.rootfs, ec)) return invalid("sandbox rootfs " + spec.rootfs + " is not a directory");

    PhaseTimer timer(spec.phases);
    const std::string rel = session_rel(spec.id);
    CgroupLimits limits;
    limits.memory_bytes = spec.reserved.memory_bytes;
    // The CFS quota comes once the runtime is done (below): under a tiny reservation the
    // runtime's own set-up in the container's cgroup would otherwise be throttled for seconds.
    limits.cpu_quota_us = 0;
    limits.cpu_period_us = kCpuPeriodUs;
    limits.pids = spec.pids_limit;
    limits.block_device = block_device_of(spec.bundle_dir);
    XOP_RETURN_IF_ERROR(create_session_cgroup(layout_, rel, limits));
    timer.mark("cgroup");

    Json config = make_runc_config(spec, "/" + rel + "/ctr", &seccomp_);
    if (config.contains("linux") && config["linux"].contains("resources")) config["linux"]["resources"].erase("cpu");
    XOP_RETURN_IF_ERROR(write_file_atomic(spec.bundle_dir + "/config.json", config.dump(2)));
    const std::string pid_file = spec.bundle_dir + "/init.pid";
    const std::string exit_file = spec.bundle_dir + "/exit_code";
    const std::string runtime_log = spec.bundle_dir + "/runtime.log";
    const std::string alive_lock = spec.bundle_dir + "/" + kShimLock;
    fs::remove(pid_file, ec);
    fs::remove(exit_file, ec);
    fs::remove(runtime_log, ec);
    timer.mark("bundle");

    std::vector<std::string> argv = base_argv();
    argv.insert(argv.end(), {"--log", runtime_log, "run", "--detach", "--no-new-keyring", "--pid-file", pid_file,
                             "--bundle", spec.bundle_dir, spec.id});
    OutputLimits out_limits;
    out_limits.max_bytes = spec.log_max_bytes;
    out_limits.rate_bytes_per_s = spec.log_rate_bytes_per_s;
    auto code = spawn_with_shim(argv, spec.log_path, pid_file, exit_file, opts_.run_deadline, out_limits, alive_lock,
                                opts_.shim_launcher);
    timer.mark("runtime");
    Status quota = ok_status();
    if (code && *code == 0) {
      // The session cgroup bounds the container's (hierarchically); the container's own gets the
      // same so that the runtime's view (runc state, update) agrees.
      const int64_t q = cpu_quota_us(spec.reserved.cpu_millis);
      quota = set_cgroup_cpu_quota(layout_, rel, q, kCpuPeriodUs);
      if (quota) quota = set_cgroup_cpu_quota(layout_, rel + "/ctr", q, kCpuPeriodUs);
      timer.mark("quota");
    }
    if (!code || *code != 0 || !quota) {
      std::string why = !quota ? "cannot apply the CPU quota: " + quota.error().message
                        : code ? tail_of_file(runtime_log, 2000)
                               : code.error().message;
      if (why.empty()) why = tail_of_file(spec.log_path, 2000);
      auto deleted = run_command(with_base({"delete", "--force", spec.id}), opts_.command_deadline);
      if (!deleted)
        XOP_LOGN_WARN("server", "sandbox {}: cleanup after a failed start: {}", spec.id, deleted.error().message);
      ignore_error(remove_session_cgroup(layout_, rel, kCgroupRemoveDeadline),
                   "cleanup after a failed start; the start error is what the caller gets");
      // A runtime that could not be run or did not finish in time (kUnavailable) keeps its code.
      const ErrorCode ec_out = code ? ErrorCode::kInternal : code.error().code;
      return make_error(ec_out, kind() + " could not start " + spec.id + ": " + why);
    }
    {
      std::lock_guard lock(mu_);
      bundles_[spec.id] = spec.bundle_dir;
    }
    XOP_LOGN_INFO("server", "sandbox started id={} runtime={} cpu_millis={} memory_bytes={}", spec.id, opts_.runtime,
                  spec.reserved.cpu_millis, spec.reserved.memory_bytes);
    return ok_status();
  }

  // From the files the shim and the kernel keep (the exit file, the shim's lock, the freezer
  // state), without running the runtime; the runtime's "state" only when those cannot tell: a
  // bundle this driver did not start (after a restart of the server, once per session), or a
  // shim that died without writing the exit code.
  Result<SandboxStatus> status(const std::string& id) override {
    std::string bundle;
    {
      std::lock_guard lock(mu_);
      if (auto it = bundles_.find(id); it != bundles_.end()) bundle = it->second;
    }
    if (!bundle.empty()) {
      if (auto st = status_from_files(id, bundle)) return *st;
    }
    return status_from_runtime(id);
  }

  std::optional<SandboxStatus> status_from_files(const std::string& id, const std::string& bundle) {
    SandboxStatus st;
    auto stopped = [&](int code) {
      st.state = SandboxState::kStopped;
      st.exit_code = code;
      st.oom_kills = oom_kills(id);
      return st;
    };
    if (auto code = read_exit_code(bundle + "/exit_code")) return stopped(*code);
    const int alive = shim_alive(bundle + "/" + kShimLock);
    if (alive == 0) {
      // The shim writes the exit file before it exits: it may have done both since the read above.
      if (auto code = read_exit_code(bundle + "/exit_code")) return stopped(*code);
    }
    if (alive != 1) return std::nullopt;
    auto frozen = frozen_now(id);
    if (!frozen) return std::nullopt;
    st.state = *frozen ? SandboxState::kPaused : SandboxState::kRunning;
    return st;
  }

  // The container cgroup's freezer: v1 freezer.state (FROZEN, FREEZING or THAWED), v2
  // cgroup.freeze (1 or 0); nullopt when unreadable.
  [[nodiscard]] std::optional<bool> frozen_now(const std::string& id) const {
    const std::string ctr = session_rel(id) + "/ctr";
    if (layout_.mode == CgroupMode::kV2) {
      auto t = read_file_capped(layout_.v2_dir + "/" + ctr + "/cgroup.freeze", 64);
      if (!t || t->empty()) return std::nullopt;
      return (*t)[0] == '1';
    }
    auto it = layout_.v1.find("freezer");
    if (it == layout_.v1.end()) return std::nullopt;
    auto t = read_file_capped(it->second + "/" + ctr + "/freezer.state", 64);
    if (!t || t->empty()) return std::nullopt;
    return t->rfind("THAWED", 0) != 0;
  }

  Result<SandboxStatus> status_from_runtime(const std::string& id) {
    XOP_ASSIGN_OR_RETURN(CommandResult r, run_command(with_base({"state", id}), opts_.command_deadline));
    if (r.exit_code != 0) {
      if (says_not_found(r)) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
      return make_error(ErrorCode::kInternal, "runtime state " + id + ": " + r.err);
    }
    auto j = parse_json(r.out);
    if (!j || !j->is_object() || !j->contains("status") || !(*j)["status"].is_string()) {
      return make_error(ErrorCode::kInternal, "runtime state " + id + ": unexpected output");
    }
    const std::string s = (*j)["status"].get<std::string>();
    if (j->contains("bundle") && (*j)["bundle"].is_string()) {
      std::lock_guard lock(mu_);
      bundles_[id] = (*j)["bundle"].get<std::string>();
    }
    SandboxStatus st;
    if (s == "running" || s == "created" || s == "creating") {
      st.state = SandboxState::kRunning;
    } else if (s == "paused" || s == "pausing") {
      st.state = SandboxState::kPaused;
    } else {
      st.state = SandboxState::kStopped;
      if (j->contains("bundle") && (*j)["bundle"].is_string()) {
        st.exit_code = read_exit_code((*j)["bundle"].get<std::string>() + "/exit_code");
      }
      st.oom_kills = oom_kills(id);
    }
    return st;
  }

  Result<UsageSample> sample(const std::string& id) override {
    XOP_ASSIGN_OR_RETURN(CgroupUsage u, read_session_usage(layout_, session_rel(id)));
    UsageSample s;
    s.cpu_ns = u.cpu_ns;
    s.memory_bytes = u.memory_bytes;
    s.disk_bytes = u.disk_bytes;
    s.disk_read_bytes = std::min(parse_disk_read_bytes(u.io_text).value_or(0), s.disk_bytes);
    s.net_bytes = 0;  // no veth yet: the session has loopback only
    return s;
  }

  Status stop(const std::string& id, std::chrono::milliseconds grace) override {
    XOP_ASSIGN_OR_RETURN(SandboxStatus st, status_or_stopped(id));
    if (st.state == SandboxState::kStopped) return ok_status();
    // A frozen workload would not run its SIGTERM handler (nor die of SIGKILL under the v1
    // freezer) until thawed.
    if (st.state == SandboxState::kPaused) XOP_RETURN_IF_ERROR(thaw(id));
    // A failed kill (the workload exited meanwhile) is fine; a runtime that hangs or is missing is not.
    XOP_RETURN_IF_ERROR(run_command(with_base({"kill", id, "TERM"}), opts_.command_deadline));
    XOP_ASSIGN_OR_RETURN(bool stopped, wait_stopped(id, grace));
    if (stopped) return ok_status();
    XOP_RETURN_IF_ERROR(run_command(with_base({"kill", "--all", id, "KILL"}), opts_.command_deadline));
    XOP_ASSIGN_OR_RETURN(stopped, wait_stopped(id, kKillDeadline));
    if (stopped) return ok_status();
    return make_error(ErrorCode::kInternal, "sandbox " + id + " did not stop after SIGKILL");
  }

  // "pause" and "resume": the runtime drives the container cgroup's freezer (v1: freezer.state,
  // v2: cgroup.freeze) and returns once the cgroup is FROZEN (resp. THAWED).
  Status freeze(const std::string& id) override { return set_frozen(id, true); }
  Status thaw(const std::string& id) override { return set_frozen(id, false); }

  Status remove(const std::string& id) override {
    {
      std::lock_guard lock(mu_);
      bundles_.erase(id);
    }
    XOP_ASSIGN_OR_RETURN(CommandResult r, run_command(with_base({"delete", "--force", id}), opts_.command_deadline));
    if (r.exit_code != 0 && !says_not_found(r)) {
      return make_error(ErrorCode::kInternal, "runtime delete " + id + ": " + r.err);
    }
    return remove_session_cgroup(layout_, session_rel(id), kCgroupRemoveDeadline);
  }

 private:
  [[nodiscard]] std::string session_rel(const std::string& id) const { return opts_.cgroup_parent + "/" + id; }

  [[nodiscard]] std::vector<std::string> base_argv() const {
    std::vector<std::string> v{opts_.runtime};
    if (!opts_.state_root.empty()) v.insert(v.end(), {"--root", opts_.state_root});
    return v;
  }
  [[nodiscard]] std::vector<std::string> with_base(std::initializer_list<std::string> rest) const {
    auto v = base_argv();
    v.insert(v.end(), rest);
    return v;
  }

  // OOM kills recorded by the kernel for the session. v1 counts them only in the cgroup whose
  // limit was hit (the container's, usually), v2 also in every ancestor.
  [[nodiscard]] int64_t oom_kills(const std::string& id) const {
    std::vector<std::string> files;
    const std::string rel = session_rel(id);
    if (layout_.mode == CgroupMode::kV2) {
      files.push_back(layout_.v2_dir + "/" + rel + "/memory.events");
    } else if (auto it = layout_.v1.find("memory"); it != layout_.v1.end()) {
      files.push_back(it->second + "/" + rel + "/memory.oom_control");
      files.push_back(it->second + "/" + rel + "/ctr/memory.oom_control");
    }
    int64_t total = 0;
    for (const auto& f : files) {
      auto text = read_file_capped(f, 4096);
      if (!text) continue;
      auto n = parse_oom_kill_count(*text);
      if (n && *n <= INT64_MAX - total) total += *n;
    }
    return total;
  }

  static std::optional<int> read_exit_code(const std::string& path) {
    std::ifstream in(path);
    int code = -1;
    if (in >> code && code >= 0 && code < 256 + 128) return code;
    return std::nullopt;
  }

  Status set_frozen(const std::string& id, bool frozen) {
    XOP_ASSIGN_OR_RETURN(SandboxStatus st, status(id));
    if (st.state == SandboxState::kStopped) return make_error(ErrorCode::kConflict, "sandbox " + id + " has stopped");
    if ((st.state == SandboxState::kPaused) == frozen) return ok_status();
    const char* verb = frozen ? "pause" : "resume";
    XOP_ASSIGN_OR_RETURN(CommandResult r, run_command(with_base({verb, id}), opts_.command_deadline));
    if (r.exit_code == 0) return ok_status();
    // The workload may have exited (or been frozen or thawed) meanwhile: judge by its state now.
    XOP_ASSIGN_OR_RETURN(SandboxStatus now, status(id));
    if (now.state == SandboxState::kStopped) return make_error(ErrorCode::kConflict, "sandbox " + id + " has stopped");
    if ((now.state == SandboxState::kPaused) == frozen) return ok_status();
    return make_error(ErrorCode::kInternal, "runtime " + std::string(verb) + " " + id + ": " + r.err);
  }

  Result<SandboxStatus> status_or_stopped(const std::string& id) {
    auto st = status(id);
    if (!st && st.error().code == ErrorCode::kNotFound) return SandboxStatus{};
    return st;
  }

  // True once the workload stopped, false when `deadline` passed first; the runtime's own failures
  // to answer (kUnavailable: it hung past command_deadline or cannot be run) end the wait as errors.
  Result<bool> wait_stopped(const std::string& id, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (true) {
      auto st = status_or_stopped(id);
      if (!st && st.error().code == ErrorCode::kUnavailable) return tl::make_unexpected(st.error());
      if (st && st->state == SandboxState::kStopped) return true;
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling runc state with a deadline
    }
  }

  RuncOptions opts_;
  CgroupLayout layout_;
  Json seccomp_;                                // linux.seccomp of every bundle
  std::mutex mu_;                               // guards bundles_
  std::map<std::string, std::string> bundles_;  // id -> bundle directory, of containers it knows
};

class FailedSandbox final : public Sandbox {
 public:
  FailedSandbox(std::string kind, Error e) : kind_(std::move(kind)), error_(std::move(e)) {}
  [[nodiscard]] std::string kind() const override { return kind_; }
  Status start(const SandboxSpec&) override { return tl::make_unexpected(error_); }
  Result<SandboxStatus> status(const std::string&) override { return tl::make_unexpected(error_); }
  Result<UsageSample> sample(const std::string&) override { return tl::make_unexpected(error_); }
  Status stop(const std::string&, std::chrono::milliseconds) override { return tl::make_unexpected(error_); }
  Status remove(const std::string&) override { return tl::make_unexpected(error_); }
  Status freeze(const std::string&) override { return tl::make_unexpected(error_); }
  Status thaw(const std::string&) override { return tl::make_unexpected(error_); }

 private:
  std::string kind_;
  Error error_;
};

}  // namespace

Result<int64_t> parse_oom_kill_count(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string key;
  std::string value;
  while (in >> key >> value) {
    if (key != "oom_kill") continue;
    if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos) {
      return invalid("oom_kill: bad count \"" + value + "\"");
    }
    return std::stoll(value);
  }
  return int64_t{0};
}

Result<int64_t> parse_disk_read_bytes(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  int64_t total = 0;
  auto add = [&](const std::string& v) -> Status {
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      return invalid("disk read bytes: bad count \"" + v + "\"");
    }
    const int64_t n = std::stoll(v);
    if (n > INT64_MAX - total) return invalid("disk read bytes: total out of range");
    total += n;
    return ok_status();
  };
  while (std::getline(in, line)) {
    std::istringstream ws(line);
    std::vector<std::string> w;
    for (std::string x; ws >> x;) w.push_back(x);
    if (w.size() == 3 && w[1] == "Read") XOP_RETURN_IF_ERROR(add(w[2]));
    for (size_t i = 1; i < w.size(); ++i) {
      if (w[i].rfind("rbytes=", 0) == 0) XOP_RETURN_IF_ERROR(add(w[i].substr(7)));
    }
  }
  return total;
}

Result<std::unique_ptr<Sandbox>> open_runc_sandbox(RuncOptions opts) {
  if (opts.cgroup_parent.empty() || opts.cgroup_parent.find("..") != std::string::npos ||
      opts.cgroup_parent.front() == '/') {
    return invalid("cgroup_parent must be a relative path without \"..\"");
  }
  XOP_ASSIGN_OR_RETURN(Json seccomp, load_seccomp_profile(opts.seccomp_profile));
  XOP_ASSIGN_OR_RETURN(CgroupLayout layout, detect_cgroup_layout(opts.cgroup_root));
  if (auto why = runtime_layout_refusal(opts.runtime, layout); !why.empty()) {
    return make_error(ErrorCode::kUnavailable, why);
  }
  if (opts.shim_launcher.empty()) {
    opts.shim_launcher = default_shim_launcher();
    if (opts.shim_launcher.empty()) {
      XOP_LOGN_WARN("server",
                    "sandbox: no xop-shim next to this program; session monitors stay forks of the daemon (more "
                    "memory per session)");
    }
  } else if (opts.shim_launcher == "none") {
    opts.shim_launcher.clear();
  }
  if (!opts.state_root.empty()) {
    std::error_code ec;
    fs::create_directories(opts.state_root, ec);
    if (ec) return make_error(ErrorCode::kInternal, opts.state_root + ": " + ec.message());
  }
  return std::unique_ptr<Sandbox>(
      std::make_unique<RuncSandbox>(std::move(opts), std::move(layout), std::move(seccomp)));
}

std::string runtime_layout_refusal(const std::string& runtime, const CgroupLayout& layout) {
  if (!runtime_is_crun(runtime) || layout.mode != CgroupMode::kHybrid || layout.v2_controllers.empty()) return "";
  std::string ctrls;
  for (const auto& c : layout.v2_controllers) ctrls += (ctrls.empty() ? "" : ",") + c;
  return "crun refuses this host's hybrid cgroup layout: the cgroup2 mount " + layout.v2_dir + " has controllers (" +
         ctrls +
         "). Use runc, or have the administrator move them to v1, e.g. for hugetlb: mkdir "
         "/sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb";
}

std::unique_ptr<Sandbox> make_runc_sandbox(RuncOptions opts) {
  const std::string kind = runtime_is_crun(opts.runtime) ? "crun" : "runc";
  auto s = open_runc_sandbox(std::move(opts));
  if (!s) {
    XOP_LOGN_ERROR("server", "sandbox driver unavailable: {}", s.error().message);
    return std::make_unique<FailedSandbox>(kind, s.error());
  }
  return std::move(*s);
}

}  // namespace xop
