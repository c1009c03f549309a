#include "server/sandbox_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "core/ignore_error.h"

extern char** environ;

namespace xop {
namespace {

constexpr size_t kMaxCapture = 1 << 20;

// How long past the runtime's deadline spawn_with_shim waits for the shim's report before it
// kills the shim too (the shim reports within milliseconds of the deadline unless it is stuck).
constexpr auto kShimReportGrace = std::chrono::seconds(2);

// A poll(2) timeout covering `left` (rounded up, so that a wait never ends before its deadline).
int poll_timeout_ms(std::chrono::steady_clock::duration left) {
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 0, INT_MAX));
}

// "runc --root /r state x" and "10 s" / "250 ms", for error messages.
std::string describe_command(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s.push_back(' ');
    s += a;
  }
  if (s.size() > 400) s = s.substr(0, 397) + "...";
  return s;
}

std::string describe_deadline(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

Error deadline_error(const std::vector<std::string>& argv, std::chrono::milliseconds deadline) {
  return Error{ErrorCode::kUnavailable, "OCI runtime command \"" + describe_command(argv) +
                                            "\" did not finish within " + describe_deadline(deadline) +
                                            "; it was killed"};
}

int decode_wait_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

// Resolves a program name on $PATH (before any fork: the child may only make async-signal-safe calls).
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string p = path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string cand(p, start, end - start);
    if (cand.empty()) cand.push_back('.');
    cand.push_back('/');
    cand.append(name);
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    start = end + 1;
  }
  return "";
}

std::vector<char*> c_argv(std::vector<std::string>& args) {
  std::vector<char*> out;
  out.reserve(args.size() + 1);
  for (auto& a : args) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
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

// What the shim writes on its report pipe: first the runtime's pid (int32; -1 when it could not
// fork), then {timed_out, exit code} (two int32) once the runtime exited or was killed.
struct ShimReport {
  int32_t timed_out = 0;
  int32_t code = -1;
};

// The capped, rotated log the shim writes (async-signal-safe: fixed buffers and system calls).
struct LogSink {
  int fd = -1;
  int64_t size = 0;  // of the current file
  int64_t half = 0;  // each of the two files stays within this
  const char* path = nullptr;
  const char* old_path = nullptr;

  void rotate() {
    // Replaces the older predecessor: its data is dropped. When the rename fails the current file
    // is truncated below instead, which also keeps the cap.
    ignore_errno_unlogged(::rename(path, old_path), "rotation without a predecessor still keeps the cap");
    const int nfd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (nfd < 0) return;  // keep writing where we were; the cap check stops it
    ::close(fd);
    fd = nfd;
    size = 0;
  }
  void write_all(const char* buf, int64_t n) {
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
};

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

[[noreturn]] void run_shim(const char* program, char* const* argv, int log_fd, int report_fd, const char* pid_file,
                           const char* exit_tmp, const char* exit_file, int64_t deadline_ms, LogSink sink,
                           int64_t rate) {
  ::setsid();
  const pid_t p2 = ::fork();
  if (p2 != 0) ::_exit(p2 < 0 ? 1 : 0);  // the intermediate child: orphans the shim

  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  ::prctl(PR_SET_NAME, "xop-shim", 0, 0, 0);  // what ps and the density benchmark see
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // 0 and 2: /dev/null; 1: the log; 3: the report pipe.
  const int devnull = ::open("/dev/null", O_RDWR);
  ::dup2(log_fd, 1);
  ::dup2(report_fd, 3);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 2);
  }
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  ::close_range(4, ~0U, 0);  // nothing of the calling process stays open in the shim
  sink.fd = 1;
  struct stat lst {};
  sink.size = ::fstat(1, &lst) == 0 ? lst.st_size : 0;

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

}  // namespace

Result<CommandResult> run_command(const std::vector<std::string>& argv_in, std::chrono::milliseconds deadline) {
  if (argv_in.empty()) return invalid("run_command: empty argv");
  std::vector<std::string> args = argv_in;
  auto argv = c_argv(args);
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return make_error(ErrorCode::kInternal, "pipe failed");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return make_error(ErrorCode::kInternal, "pipe failed");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);  // a group of its own: a timeout kills the helpers it started too
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return make_error(ErrorCode::kUnavailable, "cannot run " + args[0] + ": " + std::strerror(rc));
  }
  CommandResult res;
  const auto end = std::chrono::steady_clock::now() + deadline;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&res.out, &res.err};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) {
      timed_out = true;
      break;
    }
    const int n = ::poll(fds, 2, poll_timeout_ms(end - now));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else if (sinks[i]->size() < kMaxCapture) {
        sinks[i]->append(buf, static_cast<size_t>(r));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);  // should the group not have been set up
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return tl::make_unexpected(deadline_error(argv_in, deadline));
  res.exit_code = decode_wait_status(st);
  return res;
}

Result<int> spawn_with_shim(const std::vector<std::string>& argv_in, const std::string& log_path,
                            const std::string& pid_file, const std::string& exit_file,
                            std::chrono::milliseconds deadline, OutputLimits limits) {
  if (argv_in.empty()) return invalid("spawn_with_shim: empty argv");
  if (limits.max_bytes < 2 * kMinLogFile || limits.rate_bytes_per_s <= 0) {
    return invalid("spawn_with_shim: log limits out of range");
  }
  const std::string old_log = log_path + ".1";
  const std::string program = resolve_program(argv_in[0]);
  if (program.empty()) return make_error(ErrorCode::kUnavailable, argv_in[0] + " not found on PATH");
  std::vector<std::string> args = argv_in;
  auto argv = c_argv(args);
  const std::string exit_tmp = exit_file + ".tmp";
  const int64_t shim_deadline_ms = monotonic_ms() + deadline.count() + 1;  // + 1: monotonic_ms() rounds down
  const auto report_end = std::chrono::steady_clock::now() + deadline + kShimReportGrace;
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) return make_error(ErrorCode::kInternal, log_path + ": " + std::strerror(errno));
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ::close(log_fd);
    return make_error(ErrorCode::kInternal, "pipe failed");
  }
  const pid_t p1 = ::fork();
  if (p1 == 0) {
    ::close(report[0]);
    LogSink sink;
    sink.half = limits.max_bytes / 2;
    sink.path = log_path.c_str();
    sink.old_path = old_log.c_str();
    run_shim(program.c_str(), argv.data(), log_fd, report[1], pid_file.c_str(), exit_tmp.c_str(), exit_file.c_str(),
             shim_deadline_ms, sink, limits.rate_bytes_per_s);
  }
  ::close(report[1]);
  ::close(log_fd);
  if (p1 < 0) {
    ::close(report[0]);
    return make_error(ErrorCode::kInternal, std::string("fork failed: ") + std::strerror(errno));
  }
  int st = 0;
  while (::waitpid(p1, &st, 0) < 0 && errno == EINTR) {
  }
  // Reads exactly `n` bytes until report_end: 1 done, 0 end of file or error, -1 deadline passed.
  auto read_exact = [&](void* buf, size_t n) -> int {
    auto* dst = static_cast<char*>(buf);
    size_t got = 0;
    while (got < n) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= report_end) return -1;
      pollfd p{report[0], POLLIN, 0};
      const int rc = ::poll(&p, 1, poll_timeout_ms(report_end - now));
      if (rc < 0 && errno != EINTR) return 0;
      if (rc <= 0) continue;
      const ssize_t r = ::read(report[0], dst + got, n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return 0;
      got += static_cast<size_t>(r);
    }
    return 1;
  };
  int32_t runtime_pid = -1;
  ShimReport rep;
  int rc = read_exact(&runtime_pid, sizeof runtime_pid);
  if (rc == 1) rc = read_exact(&rep, sizeof rep);
  ::close(report[0]);
  if (rc < 0) {
    // The shim is stuck: kill it (it leads no group, but shares the setsid'd group p1) and the runtime's group.
    if (runtime_pid > 0) {
      ::kill(-runtime_pid, SIGKILL);
      ::kill(runtime_pid, SIGKILL);
    }
    ::kill(-p1, SIGKILL);
    return tl::make_unexpected(deadline_error(argv_in, deadline));
  }
  if (rc == 0) return make_error(ErrorCode::kInternal, "the runtime monitor exited without a report");
  if (rep.timed_out != 0) return tl::make_unexpected(deadline_error(argv_in, deadline));
  return rep.code;
}

}  // namespace xop
