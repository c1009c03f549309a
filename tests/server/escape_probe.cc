// xop-escape-probe: the escape attempts busybox has no applet for, run INSIDE a session by the
// escape suite (tests/server/escape_suite_test.cpp). Built static (tests/CMakeLists.txt) and put
// into the session's image. Each attempt prints one line:
//   "<name>: blocked <errno name>"  the kernel refused, as it must
//   "<name>: ESCAPED <detail>"      the attempt worked (the suite fails on any)
// `xop-escape-probe fds` lists the open descriptors and the working directory at exec (the
// CVE-2024-21626 class): "fds: 0,1,2" and "cwd: <path>". `xop-escape-probe all [cmd...]` runs
// every attempt (only as pid 1 of a pid namespace: never on a host), then execs cmd (so that the
// session continues with a shell).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char* errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EROFS: return "EROFS";
    case ETXTBSY: return "ETXTBSY";
    case ESRCH: return "ESRCH";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    default: return "other";
  }
}

// One attempt: `rc` < 0 with errno set means blocked.
void report(const char* name, long rc, int err, const std::string& detail = "") {
  if (rc < 0) {
    std::printf("%s: blocked %s (%d)\n", name, errno_name(err), err);
  } else {
    std::printf("%s: ESCAPED rc=%ld %s\n", name, rc, detail.c_str());
  }
  std::fflush(stdout);
}

#define ATTEMPT(name, expr)    \
  do {                         \
    errno = 0;                 \
    const long rc_ = (expr);   \
    report(name, rc_, errno);  \
  } while (0)

int child_exit(pid_t pid) {
  int st = 0;
  ::waitpid(pid, &st, 0);
  return st;
}

// A control: what must keep working under the same profile ("<name>: works" or "fails <errno>").
void control(const char* name, long rc, int err) {
  if (rc >= 0) {
    std::printf("%s: works\n", name);
  } else {
    std::printf("%s: fails %s (%d)\n", name, errno_name(err), err);
  }
  std::fflush(stdout);
}

#define CONTROL(name, expr)    \
  do {                         \
    errno = 0;                 \
    const long rc_ = (expr);   \
    control(name, rc_, errno); \
    if (rc_ > 2) ::close(static_cast<int>(rc_)); \
  } while (0)

void controls() {
  CONTROL("control-socket-tcp", ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  CONTROL("control-socket-udp", ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  CONTROL("control-socket-netlink", ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
  CONTROL("control-personality-query", ::syscall(SYS_personality, 0xffffffffUL) >= 0 ? 0L : -1L);
  {
    errno = 0;
    const pid_t pid = ::fork();  // glibc: clone without namespace flags
    if (pid == 0) ::_exit(0);
    const int err = errno;
    if (pid > 0) child_exit(pid);
    control("control-fork", pid, err);
  }
}

void fds() {
  std::string list;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) {
    std::printf("fds: unreadable\n");
    return;
  }
  const int self = ::dirfd(d);
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (std::atoi(e->d_name) == self) continue;
    char target[512] = {0};
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (!list.empty()) list += ",";
    list += e->d_name;
    if (std::atoi(e->d_name) > 2 && n > 0) list += std::string("=") + target;
  }
  ::closedir(d);
  std::printf("fds: %s\n", list.c_str());
  char cwd[4096] = {0};
  const ssize_t n = ::readlink("/proc/self/cwd", cwd, sizeof cwd - 1);
  std::printf("cwd: %s\n", n > 0 ? cwd : "unreadable");
  std::fflush(stdout);
}

void all() {
  // Kernel keyrings (not namespaced).
  ATTEMPT("keyctl-add-key", ::syscall(SYS_add_key, "user", "xop-escape", "secret", 6, KEY_SPEC_PROCESS_KEYRING));
  ATTEMPT("keyctl-join-session", ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "xop-escape"));
  ATTEMPT("keyctl-read-user", ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0));
  // A user namespace gives every capability inside it; any other namespace a way around the
  // bundle's.
  ATTEMPT("unshare-user", ::unshare(CLONE_NEWUSER));
  ATTEMPT("unshare-mount", ::unshare(CLONE_NEWNS));
  ATTEMPT("unshare-net", ::unshare(CLONE_NEWNET));
  {
    errno = 0;
    const long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid == 0) ::_exit(0);
    const int err = errno;
    if (pid > 0) child_exit(static_cast<pid_t>(pid));
    report("clone-newuser", pid, err);
  }
  {
    clone_args ca{};
    ca.flags = CLONE_NEWUSER;
    ca.exit_signal = SIGCHLD;
    errno = 0;
    const long pid = ::syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) ::_exit(0);
    const int err = errno;
    if (pid > 0) child_exit(static_cast<pid_t>(pid));
    report("clone3-newuser", pid, err);
  }
  ATTEMPT("setns-host-net", [] {
    const int fd = ::open("/proc/1/ns/net", O_RDONLY);  // pid 1 of the session: the session's own
    if (fd < 0) return -1L;
    const long rc = ::setns(fd, 0);
    const int e = errno;
    ::close(fd);
    errno = e;
    return rc;
  }());
  // Raw and packet sockets: spoofing addresses on the bridge.
  ATTEMPT("socket-raw-icmp", ::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
  ATTEMPT("socket-raw-ip", ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW));
  ATTEMPT("socket-packet", ::socket(AF_PACKET, SOCK_RAW, htons(0x0003)));
  ATTEMPT("socket-packet-dgram", ::socket(AF_PACKET, SOCK_DGRAM, htons(0x0806)));
  // Mounting anything, and the new mount API.
  ATTEMPT("mount-tmpfs", ::mount("none", "/tmp", "tmpfs", 0, nullptr));
  ATTEMPT("mount-proc", ::mount("proc", "/tmp", "proc", 0, nullptr));
  ATTEMPT("mount-remount-sys-rw", ::mount(nullptr, "/sys", nullptr, MS_REMOUNT, nullptr));
  ATTEMPT("umount-proc-mask", ::umount2("/proc/kcore", MNT_DETACH));
  ATTEMPT("fsopen", ::syscall(SYS_fsopen, "tmpfs", 0));
  ATTEMPT("pivot-root", ::syscall(SYS_pivot_root, "/tmp", "/tmp"));
  // Other processes' memory: ptrace and process_vm_readv of pid 1, PTRACE_TRACEME.
  ATTEMPT("ptrace-attach-init", ::ptrace(PTRACE_ATTACH, 1, nullptr, nullptr));
  ATTEMPT("ptrace-seize-init", ::ptrace(PTRACE_SEIZE, 1, nullptr, nullptr));
  {
    char buf[16];
    iovec local{buf, sizeof buf};
    iovec remote{reinterpret_cast<void*>(0x400000), sizeof buf};
    ATTEMPT("process-vm-readv-init", ::process_vm_readv(1, &local, 1, &remote, 1, 0));
  }
  // Kernel modules, kexec, reboot, the clock, BPF, perf, io_uring, userfaultfd, handles.
  ATTEMPT("init-module", ::syscall(SYS_init_module, "\x7f" "ELF", 4, ""));
  ATTEMPT("finit-module", [] {
    const int fd = ::open("/bin/busybox", O_RDONLY | O_CLOEXEC);
    const long rc = ::syscall(SYS_finit_module, fd, "", 0);
    const int e = errno;
    if (fd >= 0) ::close(fd);
    errno = e;
    return rc;
  }());
  ATTEMPT("delete-module", ::syscall(SYS_delete_module, "loop", O_NONBLOCK));
  ATTEMPT("kexec-load", ::syscall(SYS_kexec_load, 0, 0, nullptr, 0));
  ATTEMPT("reboot", ::syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc, nullptr));  // RB_POWER_OFF
  {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    ATTEMPT("clock-settime", ::clock_settime(CLOCK_REALTIME, &ts));
  }
  ATTEMPT("bpf", ::syscall(SYS_bpf, 0, nullptr, 0));
  ATTEMPT("perf-event-open", ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0));
  ATTEMPT("io-uring-setup", ::syscall(SYS_io_uring_setup, 1, nullptr));
  ATTEMPT("userfaultfd", ::syscall(SYS_userfaultfd, 0));
  {
    char handle[128] = {0};
    ATTEMPT("open-by-handle-at", ::syscall(SYS_open_by_handle_at, AT_FDCWD, handle, O_RDONLY));
  }
  ATTEMPT("iopl", ::syscall(SYS_iopl, 3));
  ATTEMPT("swapon", ::syscall(SYS_swapon, "/tmp", 0));
  ATTEMPT("mknod-host-disk", ::mknod("/tmp/xop-disk", S_IFBLK | 0600, makedev(254, 0)));
  ATTEMPT("sched-fifo", [] {
    sched_param p{};
    p.sched_priority = 1;
    return static_cast<long>(::sched_setscheduler(0, SCHED_FIFO, &p));
  }());
  // A 32-bit system call (int 0x80, ia32 getpid = 20) from this 64-bit process: the profile allows
  // native calls only. In a child, since a refused architecture may kill the caller.
  {
    const pid_t pid = ::fork();
    if (pid == 0) {
      long ret = 20;
      asm volatile("int $0x80" : "+a"(ret) : : "memory");
      std::printf("ia32-getpid: %s ret=%ld\n", ret > 0 ? "ESCAPED" : "blocked", ret);
      std::fflush(stdout);
      ::_exit(0);
    }
    const int st = pid > 0 ? child_exit(pid) : 0;
    if (pid > 0 && WIFSIGNALED(st)) {
      std::printf("ia32-getpid: blocked signal %d\n", WTERMSIG(st));
      std::fflush(stdout);
    }
  }
  // The runtime binary through /proc/<pid>/exe (CVE-2019-5736): every process this session can
  // see, for writing, directly and through an O_PATH descriptor.
  if (DIR* d = ::opendir("/proc")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      const std::string exe = std::string("/proc/") + e->d_name + "/exe";
      const std::string n1 = "exe-write-" + std::string(e->d_name);
      errno = 0;
      int fd = ::open(exe.c_str(), O_WRONLY | O_CLOEXEC);
      report(n1.c_str(), fd, errno);
      if (fd >= 0) ::close(fd);
      const int p = ::open(exe.c_str(), O_PATH | O_CLOEXEC);
      if (p >= 0) {
        const std::string via = "/proc/self/fd/" + std::to_string(p);
        const std::string n2 = "exe-reopen-" + std::string(e->d_name);
        errno = 0;
        fd = ::open(via.c_str(), O_WRONLY | O_CLOEXEC);
        report(n2.c_str(), fd, errno);
        if (fd >= 0) ::close(fd);
        ::close(p);
      }
    }
    ::closedir(d);
  }
  std::printf("probe-done\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: xop-escape-probe fds|all [cmd...]\n");
    return 2;
  }
  const std::string what = argv[1];
  if (what == "fds") {
    fds();
  } else if (what == "all") {
    // A safety net: the attempts are real (reboot, kexec_load, swapon, ...) and only a sandbox stops
    // them, so they run only as the first process of a pid namespace, never on a host.
    if (::getpid() != 1) {
      std::fprintf(stderr, "xop-escape-probe: refusing: \"all\" runs only as pid 1 of a session\n");
      return 3;
    }
    fds();
    controls();
    all();
  } else {
    std::fprintf(stderr, "xop-escape-probe: unknown attempt %s\n", argv[1]);
    return 2;
  }
  if (argc > 2) {
    ::execv(argv[2], argv + 2);
    std::perror("execv");
    return 127;
  }
  return 0;
}
