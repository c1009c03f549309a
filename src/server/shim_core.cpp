#include "server/shim_core.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ctime>

#include "core/ignore_error.h"

extern char** environ;

namespace xop::shim {

int decode_wait_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

// Reads a small decimal pid from a file using only async-signal-safe calls.
pid_t read_pid_file(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[32];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  pid_t pid = 0;
  for (ssize_t i = 0; i < n; ++i) {
    if (buf[i] < '0' || buf[i] > '9') break;
    pid = pid * 10 + (buf[i] - '0');
    if (pid > 1 << 22) return -1;
  }
  return pid > 0 ? pid : -1;
}

// Writes the decimal `code` to tmp, then renames it to path (async-signal-safe).
void write_exit_file(const char* tmp, const char* path, int code) {
  char buf[16];
  int len = 0;
  unsigned v = code < 0 ? 0u : static_cast<unsigned>(code);
  char rev[16];
  do {
    rev[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && len < 15);
  for (int i = 0; i < len; ++i) buf[i] = rev[len - 1 - i];
  buf[len++] = '\n';
  const int fd = ::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ignore_errno_unlogged(::write(fd, buf, static_cast<size_t>(len)),
                        "a short or failed write leaves no exit file: the session reads as exit unknown");
  ::fsync(fd);
  ::close(fd);
  ::rename(tmp, path);
}

// CLOCK_MONOTONIC in milliseconds (async-signal-safe).
int64_t monotonic_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// Waits for the child `pid` to exit until `deadline_ms` (monotonic_ms). Returns true with its
// decoded exit code in *code once reaped, false (the child still running) when the deadline passed.
// Async-signal-safe: a pidfd polled with the remaining time, or 5 ms naps where pidfds are missing.
bool wait_child_until(pid_t pid, int64_t deadline_ms, int* code) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  bool exited = false;
  while (true) {
    int st = 0;
    const pid_t w = ::waitpid(pid, &st, WNOHANG);
    if (w == pid) {
      *code = decode_wait_status(st);
      exited = true;
      break;
    }
    if (w < 0 && errno != EINTR) {  // not our child (cannot happen): report a failed runtime
      *code = 127;
      exited = true;
      break;
    }
    const int64_t left = deadline_ms - monotonic_ms();
    if (left <= 0) break;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ignore_errno_unlogged(::poll(&p, 1, static_cast<int>(left < INT_MAX ? left : INT_MAX)),
                            "EINTR or a failed poll only shortens the wait: the loop checks again");
    } else {
      timespec nap{0, 5'000'000};
      ignore_errno_unlogged(::nanosleep(&nap, nullptr), "an interrupted nap only shortens the wait");
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return exited;
}

void LogSink::rotate() {
  // Replaces the older predecessor: its data is dropped. When the rename fails the current file
  // is truncated below instead, which also keeps the cap.
  ignore_errno_unlogged(::rename(path, old_path), "rotation without a predecessor still keeps the cap");
  const int nfd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
  if (nfd < 0) return;  // keep writing where we were; the cap check stops it
  ::close(fd);
  fd = nfd;
  size = 0;
}

void LogSink::write_all(const char* buf, int64_t n) {
  while (n > 0) {
    if (size >= half) {
      rotate();
      if (size >= half) return;  // could not rotate: drop
    }
    const int64_t k = n < half - size ? n : half - size;
    const ssize_t w = ::write(fd, buf, static_cast<size_t>(k));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // e.g. ENOSPC on the host: the output is dropped
    size += w;
    buf += w;
    n -= w;
  }
}

// Reads what the output pipe holds now (non-blocking) into the sink, at most `budget` bytes.
// Returns false once the pipe is at end of file.
bool drain_available(int fd, LogSink& sink, int64_t budget, int64_t* taken) {
  static char buf[1 << 16];  // the shim is single-threaded
  *taken = 0;
  while (*taken < budget) {
    const int64_t want = budget - *taken < static_cast<int64_t>(sizeof buf) ? budget - *taken : sizeof buf;
    const ssize_t r = ::read(fd, buf, static_cast<size_t>(want));
    if (r > 0) {
      sink.write_all(buf, r);
      *taken += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    return r < 0;  // EAGAIN: still open; 0 or another error: closed
  }
  return true;
}

// The shim's main loop once the container runs: copies output within the rate and reaps children
// until init exited, the pipe closed and no child is left. Init's exit code is written once init
// was reaped and its output is all in the log, so a reader of the exit code sees the whole log.
void pump_until_done(int out_fd, LogSink& sink, int64_t rate, pid_t init, const char* exit_tmp, const char* exit_file) {
  const int64_t burst = rate;
  int64_t tokens = burst;
  int64_t last_ms = monotonic_ms();
  bool init_done = init <= 0;
  int init_code = -1;
  bool pipe_open = out_fd >= 0;
  bool reported = init <= 0;
  auto report_if_done = [&] {
    if (!reported && init_done && !pipe_open) {
      write_exit_file(exit_tmp, exit_file, init_code);
      reported = true;
    }
  };
  const int pidfd = init > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, init, 0)) : -1;
  while (true) {
    bool children_left = true;
    while (true) {
      int st = 0;
      const pid_t w = ::waitpid(-1, &st, WNOHANG);
      if (w > 0) {
        if (w == init) {
          init_code = decode_wait_status(st);
          init_done = true;
        }
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      children_left = !(w < 0 && errno == ECHILD);
      break;
    }
    report_if_done();
    if (!pipe_open && !children_left) break;
    if (!pipe_open) {  // only children to wait for
      int st = 0;
      const pid_t w = ::waitpid(-1, &st, 0);
      if (w == init) {
        init_code = decode_wait_status(st);
        init_done = true;
      }
      continue;
    }
    const int64_t now = monotonic_ms();
    const int64_t elapsed = now - last_ms < 1000 ? now - last_ms : 1000;
    last_ms = now;
    tokens = tokens + elapsed * rate / 1000 < burst ? tokens + elapsed * rate / 1000 : burst;
    pollfd fds[2];
    nfds_t n = 0;
    int timeout = -1;
    const int64_t enough = burst < 4096 ? burst : 4096;
    if (tokens >= enough) {
      fds[n++] = pollfd{out_fd, POLLIN, 0};
    } else {
      timeout = static_cast<int>((enough - tokens) * 1000 / rate + 1);
    }
    const bool watch_init = !init_done && pidfd >= 0;
    if (watch_init) fds[n++] = pollfd{pidfd, POLLIN, 0};
    if (!init_done && pidfd < 0 && (timeout < 0 || timeout > 50)) timeout = 50;  // no pidfd: reap by polling
    if (init_done && children_left && (timeout < 0 || timeout > 50)) timeout = 50;
    const int rc = ::poll(fds, n, timeout);
    if (rc <= 0) continue;
    if (tokens >= enough && fds[0].revents != 0) {
      int64_t taken = 0;
      pipe_open = drain_available(out_fd, sink, tokens, &taken);
      tokens -= taken;
      if (!pipe_open) ::close(out_fd);
    }
  }
  if (!pipe_open) report_if_done();
  if (!reported && init_done) write_exit_file(exit_tmp, exit_file, init_code);
  if (pidfd >= 0) ::close(pidfd);
}

[[noreturn]] void run_runtime(const char* program, char* const* argv, const char* pid_file, const char* exit_tmp,
                              const char* exit_file, int64_t deadline_ms, LogSink sink, int64_t rate) {
  // The workload's output pipe: the runtime (and so the container) writes, the shim reads.
  int out[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0) ::_exit(1);
  const pid_t runtime = ::fork();
  if (runtime == 0) {
    ::setpgid(0, 0);  // a group of its own, so that a timeout kills its helpers too
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    struct sigaction d {};
    d.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &d, nullptr);
    ::execve(program, argv, environ);
    ::_exit(127);
  }
  ::close(out[1]);
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  if (runtime > 0) ::setpgid(runtime, runtime);  // whichever of the two runs first sets it
  const int32_t runtime_pid = runtime > 0 ? runtime : -1;
  ignore_errno_unlogged(::write(3, &runtime_pid, sizeof runtime_pid),
                        "the caller reads a short report as a runtime that could not start");
  ShimReport report;
  report.code = 127;
  if (runtime > 0 && !wait_child_until(runtime, deadline_ms, &report.code)) {
    ::kill(-runtime, SIGKILL);
    ::kill(runtime, SIGKILL);
    int st = 0;
    while (::waitpid(runtime, &st, 0) < 0 && errno == EINTR) {
    }
    report.timed_out = 1;
    report.code = decode_wait_status(st);
  }
  // The runtime's own output reaches the log before the caller reads it.
  int64_t taken = 0;
  bool pipe_open = drain_available(out[0], sink, rate, &taken);
  ignore_errno_unlogged(::write(3, &report, sizeof report),
                        "the caller reads a short report as a failed runtime (code 127)");
  ::close(3);
  if (report.timed_out != 0) {
    // Reap what was left of the runtime's group (orphans re-parented to this subreaper).
    int st = 0;
    while (::waitpid(-runtime, &st, 0) > 0 || errno == EINTR) {
    }
  }
  if (report.timed_out != 0 || report.code != 0) ::_exit(0);
  if (!pipe_open) ::close(out[0]);
  pump_until_done(pipe_open ? out[0] : -1, sink, rate, read_pid_file(pid_file), exit_tmp, exit_file);
  ::_exit(0);
}

namespace {
// A non-negative decimal, or -1.
int64_t parse_count(const char* s) {
  if (s == nullptr || *s == '\0') return -1;
  int64_t v = 0;
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}
}  // namespace

int launcher_main(int argc, char** argv) {
  if (argc < 1 + kLauncherFixedArgs + 1) return 2;  // the runtime's argv[0] at least
  const int64_t deadline_ms = parse_count(argv[4]);
  const int64_t half = parse_count(argv[5]);
  const int64_t rate = parse_count(argv[8]);
  if (deadline_ms < 0 || half <= 0 || rate <= 0) return 2;
  // The report pipe and the lock stay with the shim alone.
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  ::fcntl(4, F_SETFD, FD_CLOEXEC);
  LogSink sink;
  sink.fd = 1;
  sink.half = half;
  sink.path = argv[6];
  sink.old_path = argv[7];
  struct stat lst {};
  sink.size = ::fstat(1, &lst) == 0 ? lst.st_size : 0;
  run_runtime(argv[9], argv + 10, argv[1], argv[2], argv[3], deadline_ms, sink, rate);
}

}  // namespace xop::shim
