// The shim's own code: what runs in the per-session monitor after it detached from the daemon
// (sandbox_process.h, spawn_with_shim). Only system calls and fixed buffers (async-signal-safe),
// so that it runs in a fork of a multi-threaded daemon; and free of the rest of the project, so
// that the tiny static launcher `xop-shim` (src/xop_shim_main.cpp) is built from it alone.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace xop::shim {

// The exit code of a wait status: the code, 128+signal when killed, -1 otherwise.
int decode_wait_status(int st);

// Reads a small decimal pid from a file; -1 when there is none.
pid_t read_pid_file(const char* path);

// Writes the decimal `code` to tmp, then renames it to path.
void write_exit_file(const char* tmp, const char* path, int code);

// CLOCK_MONOTONIC in milliseconds.
int64_t monotonic_ms();

// Waits for the child `pid` to exit until `deadline_ms` (monotonic_ms). Returns true with its
// decoded exit code in *code once reaped, false (the child still running) when the deadline passed.
// A pidfd polled with the remaining time, or 5 ms naps where pidfds are missing.
bool wait_child_until(pid_t pid, int64_t deadline_ms, int* code);

// What the shim writes on its report pipe: first the runtime's pid (int32; -1 when it could not
// fork), then {timed_out, exit code} (two int32) once the runtime exited or was killed.
struct ShimReport {
  int32_t timed_out = 0;
  int32_t code = -1;
};

// The capped, rotated log the shim writes: `path` and, once that reached `half`, its
// predecessor `old_path` (renamed over the older one).
struct LogSink {
  int fd = -1;
  int64_t size = 0;  // of the current file
  int64_t half = 0;  // each of the two files stays within this
  const char* path = nullptr;
  const char* old_path = nullptr;

  void rotate();
  void write_all(const char* buf, int64_t n);
};

// Reads what the output pipe holds now (non-blocking) into the sink, at most `budget` bytes.
// Returns false once the pipe is at end of file.
bool drain_available(int fd, LogSink& sink, int64_t budget, int64_t* taken);

// The shim's main loop once the container runs: copies output within the rate and reaps children
// until init exited, the pipe closed and no child is left. Init's exit code is written once init
// was reaped and its output is all in the log, so a reader of the exit code sees the whole log.
void pump_until_done(int out_fd, LogSink& sink, int64_t rate, pid_t init, const char* exit_tmp, const char* exit_file);

// The shim from the runtime's start on, in a process already set up as a detached subreaper
// with fd 0 and 2 on /dev/null, fd 1 the log (sink.fd) and fd 3 the report pipe: runs `program`
// (`argv`) with its output on a pipe, reports its pid and then its exit (or its kill at
// `deadline_ms`) on fd 3, and once it succeeded pumps the container's output until its init
// exited, writing init's exit code to `exit_file`. Never returns.
[[noreturn]] void run_runtime(const char* program, char* const* argv, const char* pid_file, const char* exit_tmp,
                              const char* exit_file, int64_t deadline_ms, LogSink sink, int64_t rate);

// The launcher's command line after argv[0], in this order (all decimal numbers):
//   pid_file exit_tmp exit_file deadline_ms log_half log_path old_log_path rate program argv0 [args...]
inline constexpr int kLauncherFixedArgs = 9;
// main() of the launcher: fd 0-3 as for run_runtime, fd 4 the shim's liveness lock (kept, not
// inherited further). Returns 2 on a malformed command line; otherwise never returns.
int launcher_main(int argc, char** argv);

}  // namespace xop::shim
