// Process helpers for the sandbox drivers: run a command and capture its output (no shell), and
// launch an OCI runtime under a detached monitor ("shim") that records the container's exit code.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace xop {

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up on $PATH when it has no '/') in a process group of its own, with stdin
// from /dev/null, capturing up to 1 MiB of stdout and stderr each. When `deadline` passes first,
// kills the process group (SIGKILL), reaps the process and fails with kUnavailable naming the
// command and the deadline.
Result<CommandResult> run_command(const std::vector<std::string>& argv, std::chrono::milliseconds deadline);

// How the shim keeps a workload's output: `log_path` and, once that reached half of `max_bytes`,
// its predecessor `log_path`.1 (renamed over the older one, whose data is dropped), so the two
// together never exceed max_bytes. The shim reads the output pipe at most `rate_bytes_per_s`
// (token bucket, one second of burst): a workload writing faster blocks on its full pipe, so a
// flood costs the host bounded CPU and disk.
struct OutputLimits {
  int64_t max_bytes = 8LL << 20;         // >= 2 * kMinLogFile
  int64_t rate_bytes_per_s = 1LL << 20;  // > 0
};
inline constexpr int64_t kMinLogFile = 4096;

// Starts `argv` (an OCI runtime "run --detach --pid-file <pid_file> ...") under a shim: a
// double-forked, setsid'd child subreaper. The runtime's stdout/stderr (inherited by the
// container) are a pipe the shim copies into `log_path` within `limits`. The shim waits for the
// runtime; when it succeeded, it reads the container init's pid from `pid_file`, keeps copying
// output until the init exited and the pipe is closed, and writes init's exit code (decimal;
// 128+signal) atomically to `exit_file` as soon as it was reaped. Returns the runtime's own exit
// code once it exited (0: the container is running), after the runtime's own output reached the
// log. The shim is independent of the calling process, which may restart meanwhile.
//
// The runtime runs in a process group of its own. When it has not exited within `deadline`, the
// shim kills that group (SIGKILL), reaps the runtime and exits, and this call fails with
// kUnavailable naming the command and the deadline; a container the runtime may have begun is
// left for the caller's cleanup (runtime delete, cgroup removal). Should the shim itself not
// report in time (deadline plus a short grace), this call kills the shim and the runtime's group.
//
// With `launcher` set (the path of the xop-shim program, src/xop_shim_main.cpp), the shim
// re-executes itself as that tiny static program once detached, so that it does not keep a copy
// of the caller's memory; where the exec fails it carries on as a fork of the caller. Behaviour is
// the same either way.
//
// With `alive_lock` set, the shim holds an exclusive flock(2) on that file (created) from before
// the runtime starts until the shim exits; shim_alive() tests it. Together with `exit_file` this
// tells a reader, without asking the runtime and across restarts of the caller, whether the
// workload still runs: the exit file is written before the shim exits, so "lock free and no exit
// file" means the shim died abnormally (then ask the runtime).
Result<int> spawn_with_shim(const std::vector<std::string>& argv, const std::string& log_path,
                            const std::string& pid_file, const std::string& exit_file,
                            std::chrono::milliseconds deadline, OutputLimits limits = {},
                            const std::string& alive_lock = "", const std::string& launcher = "");

// Whether the shim holding `alive_lock` (spawn_with_shim) still lives: 1 yes, 0 no (the lock is
// free), -1 unknown (no such file, or it cannot be locked).
int shim_alive(const std::string& alive_lock);

// The xop-shim launcher next to the running program (<dir of /proc/self/exe>/xop-shim), or empty
// when there is none.
std::string default_shim_launcher();

}  // namespace xop
