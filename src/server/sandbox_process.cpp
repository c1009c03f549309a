#include "server/sandbox_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace xop {
namespace {

constexpr size_t kMaxCapture = 1 << 20;

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
  (void)!::write(fd, buf, static_cast<size_t>(len));
  ::fsync(fd);
  ::close(fd);
  ::rename(tmp, path);
}

[[noreturn]] void run_shim(const char* program, char* const* argv, int log_fd, int report_fd, const char* pid_file,
                           const char* exit_tmp, const char* exit_file) {
  ::setsid();
  const pid_t p2 = ::fork();
  if (p2 != 0) ::_exit(p2 < 0 ? 1 : 0);  // the intermediate child: orphans the shim

  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  ::dup2(report_fd, 3);
  ::fcntl(3, F_SETFD, FD_CLOEXEC);
  ::close_range(4, ~0U, 0);  // nothing of the calling process stays open in the shim

  const pid_t runtime = ::fork();
  if (runtime == 0) {
    ::execve(program, argv, environ);
    ::_exit(127);
  }
  int st = 0;
  int code = 127;
  if (runtime > 0) {
    while (::waitpid(runtime, &st, 0) < 0 && errno == EINTR) {
    }
    code = decode_wait_status(st);
  }
  (void)!::write(3, &code, sizeof code);
  ::close(3);
  if (code != 0) ::_exit(0);

  const pid_t init = read_pid_file(pid_file);
  while (true) {
    const pid_t w = ::waitpid(-1, &st, 0);
    if (w < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left to reap
    }
    if (w == init) write_exit_file(exit_tmp, exit_file, decode_wait_status(st));
  }
  ::_exit(0);
}

}  // namespace

Result<CommandResult> run_command(const std::vector<std::string>& argv_in, std::chrono::milliseconds timeout) {
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
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
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
  const auto end = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&res.out, &res.err};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    const int n = ::poll(fds, 2, static_cast<int>(left.count()));
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
  if (timed_out) ::kill(pid, SIGKILL);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return make_error(ErrorCode::kUnavailable, args[0] + " did not finish in time");
  res.exit_code = decode_wait_status(st);
  return res;
}

Result<int> spawn_with_shim(const std::vector<std::string>& argv_in, const std::string& log_path,
                            const std::string& pid_file, const std::string& exit_file) {
  if (argv_in.empty()) return invalid("spawn_with_shim: empty argv");
  const std::string program = resolve_program(argv_in[0]);
  if (program.empty()) return make_error(ErrorCode::kUnavailable, argv_in[0] + " not found on PATH");
  std::vector<std::string> args = argv_in;
  auto argv = c_argv(args);
  const std::string exit_tmp = exit_file + ".tmp";
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
    run_shim(program.c_str(), argv.data(), log_fd, report[1], pid_file.c_str(), exit_tmp.c_str(), exit_file.c_str());
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
  int code = -1;
  size_t got = 0;
  auto* dst = reinterpret_cast<char*>(&code);
  while (got < sizeof code) {
    const ssize_t r = ::read(report[0], dst + got, sizeof code - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(report[0]);
  if (got != sizeof code) return make_error(ErrorCode::kInternal, "the runtime monitor exited without a report");
  return code;
}

}  // namespace xop
