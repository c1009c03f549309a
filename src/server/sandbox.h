// The sandbox driver interface (like Nomad's task drivers): start an isolated workload from a
// prepared root filesystem with cgroup limits for what was reserved, report its state, sample
// its kernel counters, stop and remove it. Implementations: RuncSandbox (runc or crun, real
// cgroups v1 or v2) and MockSandbox (in memory, for unit tests of the code around drivers).
// A microVM driver fits behind the same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/resources.h"
#include "core/result.h"

namespace xop {

// How long one phase of a start took, for the start benchmark's breakdown.
struct TimedPhase {
  std::string name;
  int64_t ns = 0;
};

struct SandboxSpec {
  std::string id;          // the session id; unique per host
  std::string bundle_dir;  // a directory the driver may write its bundle into
  std::string rootfs;      // prepared root filesystem (the driver does not modify it)
  std::vector<std::string> args;
  std::vector<std::string> env;  // "KEY=value"
  std::string cwd = "/";
  uint32_t uid = 0;  // the workload's user and groups (the image's User, resolved)
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  Resources reserved;  // cpu_millis -> CFS quota, memory_bytes -> memory limit
  int64_t pids_limit = 64;
  // A network namespace to join (/run/netns/<name>, prepared by the server's session network);
  // empty: a fresh one with loopback only.
  std::string netns_path;
  std::string log_path;                      // the workload's stdout and stderr go here (and log_path.1 once rotated)
  int64_t log_max_bytes = 8LL << 20;         // both log files together stay within this
  int64_t log_rate_bytes_per_s = 1LL << 20;  // output is read no faster (the writer blocks)
  // When set (not owned), start() appends how long its phases took.
  std::vector<TimedPhase>* phases = nullptr;
};

enum class SandboxState { kRunning, kPaused, kStopped };

struct SandboxStatus {
  SandboxState state = SandboxState::kStopped;
  std::optional<int> exit_code;  // once stopped, when known
  int64_t oom_kills = 0;         // once stopped: processes the kernel's OOM killer killed in the sandbox
};

// Cumulative counters since the sandbox started, plus the current memory level.
struct UsageSample {
  int64_t cpu_ns = 0;
  int64_t memory_bytes = 0;
  int64_t disk_bytes = 0;       // read + written
  int64_t disk_read_bytes = 0;  // the read part of disk_bytes
  int64_t net_bytes = 0;        // sent + received
};

class Sandbox {
 public:
  virtual ~Sandbox() = default;
  [[nodiscard]] virtual std::string kind() const = 0;
  // Creates and starts the workload; returns once it is running.
  virtual Status start(const SandboxSpec& spec) = 0;
  virtual Result<SandboxStatus> status(const std::string& id) = 0;
  // Reads the counters. Must keep working after the workload exited, until remove().
  virtual Result<UsageSample> sample(const std::string& id) = 0;
  // Stops the workload: SIGTERM, then SIGKILL after `grace`. Idempotent. A frozen workload is
  // thawed first (a frozen process cannot act on SIGTERM).
  virtual Status stop(const std::string& id, std::chrono::milliseconds grace) = 0;
  // Freezes every process of the workload (the cgroup freezer; runc/crun "pause"): it keeps its
  // memory, files and sockets but gets no CPU at all until thaw(); status() says kPaused. Returns
  // once the workload is frozen. Idempotent. kNotFound for an unknown id, kConflict when the
  // workload already stopped.
  virtual Status freeze(const std::string& id) = 0;
  // Lets a frozen workload run again ("resume"); status() says kRunning. Idempotent (a running
  // workload is left alone). kNotFound for an unknown id, kConflict when it already stopped.
  virtual Status thaw(const std::string& id) = 0;
  // Deletes the container and its cgroups. Idempotent.
  virtual Status remove(const std::string& id) = 0;
};

// Deadlines on every wait for the OCI runtime process, so that a hung runc or crun cannot block
// session creation or teardown. When one passes, the runtime's process group is killed (SIGKILL)
// and the runtime reaped, and the call fails with kUnavailable naming the command and the deadline;
// whatever the runtime left (container state, cgroups) is for the driver's remove() path.
inline constexpr std::chrono::milliseconds kRuntimeRunDeadline{30'000};      // "run --detach": create + start
inline constexpr std::chrono::milliseconds kRuntimeCommandDeadline{10'000};  // "state", "kill", "delete"

struct RuncOptions {
  std::string runtime = "runc";  // or "crun"; path or name on $PATH
  std::string state_root;        // --root for the runtime
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string cgroup_parent = "xop";  // sessions live under <parent>/<id>
  // The seccomp allow list (server/seccomp_profile.h): a file, or empty for the built-in one.
  std::string seccomp_profile;
  // The per-session shim's launcher (sandbox_process.h, spawn_with_shim): empty finds xop-shim
  // next to the running program (default_shim_launcher()), and without one, or with "none", the
  // shim stays a fork of the daemon (same behaviour, more memory per session).
  std::string shim_launcher;
  // The deadlines above; tests shorten them.
  std::chrono::milliseconds run_deadline = kRuntimeRunDeadline;
  std::chrono::milliseconds command_deadline = kRuntimeCommandDeadline;
};

std::unique_ptr<Sandbox> make_runc_sandbox(RuncOptions opts);
std::unique_ptr<Sandbox> make_mock_sandbox();

}  // namespace xop
