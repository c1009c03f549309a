// Process helpers for the sandbox drivers: run a command and capture its output (no shell), and
// launch an OCI runtime under a detached monitor ("shim") that records the container's exit code.
#pragma once

#include <chrono>
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

// Starts `argv` (an OCI runtime "run --detach --pid-file <pid_file> ...") under a shim: a
// double-forked, setsid'd child subreaper whose stdout/stderr are `log_path` (inherited by the
// runtime and so by the container). The shim waits for the runtime; when it succeeded, it reads
// the container init's pid from `pid_file`, waits for that process to exit and writes its exit
// code (decimal; 128+signal) atomically to `exit_file`. Returns the runtime's own exit code once
// it exited (0: the container is running). The shim is independent of the calling process, which
// may restart meanwhile.
//
// The runtime runs in a process group of its own. When it has not exited within `deadline`, the
// shim kills that group (SIGKILL), reaps the runtime and exits, and this call fails with
// kUnavailable naming the command and the deadline; a container the runtime may have begun is
// left for the caller's cleanup (runtime delete, cgroup removal). Should the shim itself not
// report in time (deadline plus a short grace), this call kills the shim and the runtime's group.
Result<int> spawn_with_shim(const std::vector<std::string>& argv, const std::string& log_path,
                            const std::string& pid_file, const std::string& exit_file,
                            std::chrono::milliseconds deadline);

}  // namespace xop
