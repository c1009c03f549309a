#include "server/sandbox_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
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
#include <filesystem>

#include "core/ignore_error.h"
#include "server/shim_core.h"

extern char** environ;

namespace xop {
namespace {

using shim::decode_wait_status;
using shim::LogSink;
using shim::monotonic_ms;
using shim::ShimReport;

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

[[noreturn]] void run_shim(const char* program, char* const* argv, int log_fd, int report_fd, const char* pid_file,
                           const char* exit_tmp, const char* exit_file, const char* alive_lock, int64_t deadline_ms,
                           LogSink sink, int64_t rate, char* const* launcher_argv) {
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
  // Held for the shim's whole life (released by the kernel when it exits, however it exits): a
  // reader that can lock the file knows the shim is gone. Close-on-exec, so that no runtime or
  // workload process holds it.
  int lock_fd = -1;
  if (alive_lock[0] != '\0') {
    lock_fd = ::open(alive_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd >= 0) ::flock(lock_fd, LOCK_EX);
  }
  if (launcher_argv != nullptr) {
    // The rest runs in the tiny launcher instead of this copy of the daemon: fd 3 (report) and
    // fd 4 (the lock) cross the exec.
    if (lock_fd >= 0 && lock_fd != 4) {
      ::dup2(lock_fd, 4);
      ::close(lock_fd);
    }
    if (lock_fd >= 0) ::fcntl(4, F_SETFD, 0);
    ::fcntl(3, F_SETFD, 0);
    ::execve(launcher_argv[0], launcher_argv, environ);
    // No launcher after all: carry on here, as without one.
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    if (lock_fd >= 0) ::fcntl(4, F_SETFD, FD_CLOEXEC);
  }

  shim::run_runtime(program, argv, pid_file, exit_tmp, exit_file, deadline_ms, sink, rate);
}

}  // namespace

std::string default_shim_launcher() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const std::string cand = (self.parent_path() / "xop-shim").string();
  return ::access(cand.c_str(), X_OK) == 0 ? cand : "";
}

int shim_alive(const std::string& alive_lock) {
  const int fd = ::open(alive_lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int alive = 0;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) alive = errno == EWOULDBLOCK ? 1 : -1;
  ::close(fd);  // releases the shared lock, should it have been taken
  return alive;
}

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
                            std::chrono::milliseconds deadline, OutputLimits limits, const std::string& alive_lock,
                            const std::string& launcher) {
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
  // The launcher's command line (shim_core.h), built before the fork.
  std::vector<std::string> launcher_args;
  if (!launcher.empty()) {
    launcher_args = {launcher,
                     pid_file,
                     exit_tmp,
                     exit_file,
                     std::to_string(shim_deadline_ms),
                     std::to_string(limits.max_bytes / 2),
                     log_path,
                     old_log,
                     std::to_string(limits.rate_bytes_per_s),
                     program};
    launcher_args.insert(launcher_args.end(), argv_in.begin(), argv_in.end());
  }
  auto launcher_argv = c_argv(launcher_args);
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
             alive_lock.c_str(), shim_deadline_ms, sink, limits.rate_bytes_per_s,
             launcher.empty() ? nullptr : launcher_argv.data());
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
