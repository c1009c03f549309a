// The escape and abuse suite (docs/security.md section 9): named attempts run INSIDE real runc
// sessions started by the SessionManager, on the session network when the host has one. Each
// attempt must fail and stay inside its session: afterwards the server samples and creates
// sessions as before and the victim session still runs and answers, its files untouched.
//
// The attempts busybox has no applet for come from a small static probe
// (tests/server/escape_probe.cc) put into the session's image; the others are busybox applets
// in a shell script. Every line the sessions print is "<attempt>: blocked ..." or
// "<attempt>: ESCAPED ...", and the test checks each attempt by name. Root and runc only; skipped
// with the reason elsewhere.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "core/json_reader.h"
#include "image/oci_layout.h"
#include "server/burner_image.h"
#include "server/cgroup.h"
#include "server/net_probe.h"
#include "server/runc_manager_fixture.h"
#include "server/sandbox_runc.h"
#include "server/session_disk.h"
#include "server/session_fixture.h"
#include "server/session_network.h"
#include "server/tar_builder.h"

namespace xop {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::TempDir;

std::string slurp(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "";
  return testing::read_file(path);
}

std::string which(const std::string& prog) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    if (::access((d + "/" + prog).c_str(), X_OK) == 0) return d + "/" + prog;
  }
  return "";
}

// The host's own IPv4 addresses (every interface but the test's bridge), for "reach the host".
std::vector<std::string> host_addresses(const std::string& except_bridge) {
  std::vector<std::string> out;
  ifaddrs* ifa = nullptr;
  if (::getifaddrs(&ifa) != 0) return out;
  for (ifaddrs* i = ifa; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if (except_bridge == i->ifa_name) continue;
    char buf[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    out.emplace_back(buf);
  }
  ::freeifaddrs(ifa);
  return out;
}

// A host TCP listener on 0.0.0.0 (port 0) that counts connections: a "host daemon".
class HostDaemon {
 public:
  HostDaemon() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        if (stop_) {
          ::close(c);
          return;
        }
        ++accepted_;
        ::close(c);
      }
    });
  }
  ~HostDaemon() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  HostDaemon(const HostDaemon&) = delete;
  HostDaemon& operator=(const HostDaemon&) = delete;
  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

class EscapeSuiteTest : public testing::RuncManagerTest {
 protected:
  void SetUp() override {
    RuncManagerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The burner image plus a layer with /xop-escape-probe.
    manifest_ = put_burner_with_layer(
        testing::TarBuilder().file("xop-escape-probe", testing::read_file(XOP_ESCAPE_PROBE), 0755).build());
    ASSERT_FALSE(manifest_.empty());
    opts_.stop_grace_ms = 200;
    opts_.log_max_bytes = 256 << 10;
    opts_.log_rate_bytes_per_s = 1 << 20;
    if (session_network_unavailable_reason().empty()) {
      std::random_device rd;
      NetworkOptions no;
      no.bridge = "xe" + testing::rand_hex(8);
      no.pool = "10." + std::to_string(200 + rd() % 50) + "." + std::to_string(rd() % 256) + ".0/24";
      const uint16_t first = std::min<uint16_t>(testing::free_tcp_port(), 65000);
      no.port_range = std::to_string(first) + "-" + std::to_string(first + 20);
      no.state_file = t_.file("network.json");
      auto n = SessionNetwork::open(no);
      ASSERT_TRUE(n) << n.error().message;
      net_ = std::move(*n);
      bridge_ = no.bridge;
      opts_.network = net_.get();
      opts_.public_host = "127.0.0.1";
    }
    make_manager();
  }

  SessionSpec spec(std::vector<std::string> command, int64_t pids = 32) const {
    SessionSpec s;
    s.name = "escape";
    s.image = manifest_;
    s.command = std::move(command);
    s.resources.cpu_millis = 500;
    s.resources.memory_bytes = 64LL << 20;
    s.resources.disk_bytes = 16LL << 20;
    s.pids = pids;
    return s;
  }
  Result<SessionView> create(const SessionSpec& s) {
    auto po = testing::make_test_po(corp_key_, alice_, server_key_.account_id(), sheet_, clock_.now_ms());
    return manager_->create(alice_.account_id(), CreateSessionRequest{s, po});
  }
  std::string log_of(const std::string& id) { return manager_->logs(alice_.account_id(), id, 1 << 20).value_or(""); }
  bool wait_log(const std::string& id, const std::string& what, std::chrono::milliseconds d = 30s) {
    return testing::poll_until([&] { return log_of(id).find(what) != std::string::npos; }, d);
  }
  [[nodiscard]] std::string state_of(const std::string& id) const {
    auto v = manager_->get(alice_.account_id(), id);
    return v ? v->row.state : "unknown";
  }

  // The server is healthy: sampling works, and a new session starts, runs and exits cleanly.
  void expect_server_healthy() {
    manager_->sample_all();
    auto v = create(spec({"/bin/sh", "-c", "echo still-alive"}));
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_TRUE(wait_log(v->row.id, "still-alive", 20s)) << log_of(v->row.id);
    EXPECT_TRUE(testing::poll_until(
        [&] {
          manager_->sample_all();
          return state_of(v->row.id) == "stopped";
        },
        20s));
    EXPECT_EQ(manager_->get(alice_.account_id(), v->row.id)->row.exit_code, 0);
  }

  std::string manifest_;
  std::string bridge_;
};

// The result line of `attempt` in a session's log ("" when the attempt did not report).
std::string result_of(const std::string& log, const std::string& attempt) {
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(attempt + ": ", 0) == 0) return line.substr(attempt.size() + 2);
  }
  return "";
}

// Every line of the form "<name>: ESCAPED ...".
std::vector<std::string> escaped_lines(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(": ESCAPED") != std::string::npos) out.push_back(line);
  }
  return out;
}

TEST_F(EscapeSuiteTest, AttemptsFromInsideASessionFailAndStayContained) {
  const std::string runc = which("runc");
  ASSERT_FALSE(runc.empty());
  const std::string runc_before = testing::read_file(runc);
  HostDaemon daemon;
  const std::string tag = testing::rand_hex(12);

  // The victim: a web service with a secret file, started as pid 1 through the probe's fd check.
  SessionSpec vs = spec({"/xop-escape-probe", "fds", "/bin/sh", "-c",
                         "echo secret-" + tag + " > /tmp/victim-secret-" + tag +
                             " && mkdir -p /tmp/www && echo victim-page > /tmp/www/index.html && echo victim-ready"
                             " && exec /bin/busybox httpd -f -p 8080 -h /tmp/www"});
  if (net_) vs.ports = {PortSpec{"web", 8080, "tcp"}};
  auto victim = create(vs);
  ASSERT_TRUE(victim) << victim.error().message;
  const std::string vid = victim->row.id;
  ASSERT_TRUE(wait_log(vid, "victim-ready")) << log_of(vid);

  // CVE-2024-21626 class: the workload starts with stdin, stdout and stderr only, in its own root.
  const std::string vlog = log_of(vid);
  EXPECT_NE(vlog.find("fds: 0,1,2\n"), std::string::npos) << vlog;
  EXPECT_NE(vlog.find("cwd: /\n"), std::string::npos) << vlog;

  // The attacker: the probe's attempts, then busybox's, in one session.
  std::vector<std::string> host_ips = host_addresses(bridge_);
  std::string connects;
  int n = 0;
  auto connect_attempt = [&](const std::string& name, const std::string& addr, uint16_t port) {
    connects += "(try " + name + " nc -w 1 " + addr + " " + std::to_string(port) + " </dev/null) & ";
    ++n;
  };
  connect_attempt("host-loopback-daemon", "127.0.0.1", daemon.port());
  for (size_t i = 0; i < host_ips.size(); ++i)
    connect_attempt("host-address-" + std::to_string(i), host_ips[i], daemon.port());
  uint16_t victim_host_port = 0;
  if (net_) {
    // The victim answers before the attack (so that "cannot reach it" below is the network's doing).
    ASSERT_EQ(victim->endpoints.size(), 1u);
    std::string page;
    ASSERT_TRUE(testing::poll_until(
        [&] {
          page = testing::tcp_exchange("127.0.0.1", victim->endpoints[0].port.host_port,
                                       "GET /index.html HTTP/1.0\r\n\r\n", 2s);
          return page.find("victim-page") != std::string::npos;
        },
        20s))
        << page << log_of(vid);
    connect_attempt("host-gateway-daemon", net_->gateway(), daemon.port());
    connect_attempt("other-session-address", victim->address, 8080);
    ASSERT_EQ(victim->endpoints.size(), 1u);
    victim_host_port = victim->endpoints[0].port.host_port;
    connect_attempt("other-session-hairpin", net_->gateway(), victim_host_port);
  }
  const std::string victim_addr = net_ ? victim->address : "10.0.0.2";
  const std::string script =
      "try() { n=$1; shift; if \"$@\" >/dev/null 2>&1; then echo \"$n: ESCAPED\"; else echo \"$n: blocked\"; fi; }\n"
      "ctl() { n=$1; shift; if \"$@\" >/dev/null 2>&1; then echo \"$n: works\"; else echo \"$n: fails\"; fi; }\n"
      // Controls: the same tools succeed where they should (so "blocked" below is the sandbox's doing).
      "busybox httpd -p 127.0.0.1:9999 -h /tmp\n"
      "ctl control-nc-own-loopback busybox nc -w 1 127.0.0.1 9999 </dev/null\n"
      "ctl control-write-tmp sh -c 'echo x > /tmp/x'\n"
      "ctl control-ip-show busybox ip addr show\n"
      // The host's file system: a file at / lands in the session's own disk (checked from outside);
      // the kernel's and devices' files are read-only or absent.
      "echo pwned > /xop-host-marker-" +
      tag +
      " && echo host-marker-$((1+1))-written\n"
      "try write-proc-sys sh -c 'echo 3 > /proc/sys/vm/drop_caches'\n"
      "try write-sysrq sh -c 'echo h > /proc/sysrq-trigger'\n"
      "try sysctl-kernel busybox sysctl -w kernel.randomize_va_space=0\n"
      "try sysctl-net busybox sysctl -w net.ipv4.ip_forward=1\n"
      "try write-sys-cgroup touch /sys/fs/cgroup/xop-probe\n"
      "try write-sys-kernel sh -c 'echo 1 > /sys/kernel/mm/transparent_hugepage/enabled'\n"
      "try mknod-busybox busybox mknod /tmp/vda b 254 0\n"
      "try busybox-mount busybox mount -t tmpfs none /tmp\n"
      "try busybox-mount-bind busybox mount --bind / /tmp\n"
      "try busybox-unshare-user busybox unshare -U -r true\n"
      "try busybox-nsenter busybox nsenter -t 1 -m -u -i -n -p true\n"
      "try busybox-insmod busybox insmod /bin/busybox\n"
      "busybox chroot / true && echo chroot-own-root-$((1+1))-works\n"  // chroot stays inside and is allowed
      // Spoofing on the bridge: another address, another MAC, gratuitous ARP for the victim.
      "try ip-addr-add busybox ip addr add " +
      victim_addr +
      "/32 dev eth0\n"
      "try ip-link-mac busybox ip link set eth0 address 02:00:00:00:00:01\n"
      "try ip-route-add busybox ip route add 1.2.3.0/24 dev eth0\n"
      "try arping-spoof busybox arping -c 1 -w 1 -U -s " +
      victim_addr + " -I eth0 " + victim_addr +
      "\n"
      // Masked kernel files read as empty; /sys/firmware is an empty directory.
      "for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do\n"
      "  if [ -e $p ]; then echo masked:$p=$(wc -c < $p); else echo masked:$p=absent; fi; done\n"
      "echo masked:/sys/firmware=$(ls -A /sys/firmware | wc -l)\n"
      // The bundle's rlimits and read-only /proc paths, as the session sees them.
      "grep -E '^Max (core file size|open files|realtime priority|locked memory)' /proc/self/limits | "
      "sed 's/  */ /g; s/^/limit:/'\n"
      "for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do\n"
      "  if [ -e $p ]; then echo \"ro:$p=$(grep \" $p \" /proc/self/mounts | tail -1 | cut -d' ' -f4 | cut -d, -f1)\";"
      "  else echo ro:$p=absent; fi; done\n"
      // Host processes and other sessions: what this session sees.
      "echo proc-count=$(ls -d /proc/[0-9]* | wc -l)\n"
      "for f in /proc/[0-9]*/cmdline; do echo \"cmdline=$(head -c 60 $f | tr '\\0' ' ')\"; done\n"
      "echo secret-found=[$(find / -path /proc -prune -o -name 'victim-secret-*' -print 2>/dev/null)]\n"
      "echo secret-grep=[$(grep -rl secret-" +
      tag +
      " /tmp /sys/fs/cgroup 2>/dev/null)]\n"
      "echo cgroup-other=[$(find /sys/fs/cgroup -name '" +
      vid +
      "*' 2>/dev/null)]\n"
      "echo cgroup-self=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max 2>/dev/null)\n" +
      connects +
      "wait\n"
      "echo attacker-$((1+1))-done\n";
  auto attacker = create(spec({"/xop-escape-probe", "all", "/bin/sh", "-c", script}));
  ASSERT_TRUE(attacker) << attacker.error().message;
  const std::string aid = attacker->row.id;
  ASSERT_TRUE(wait_log(aid, "\nattacker-2-done\n", 60s)) << log_of(aid);
  const std::string log = log_of(aid);
  std::printf("%s", log.c_str());

  // Nothing got through, and every attempt reported.
  EXPECT_TRUE(escaped_lines(log).empty()) << ::testing::PrintToString(escaped_lines(log));
  for (const char* a : {"keyctl-add-key",
                        "keyctl-join-session",
                        "keyctl-read-user",
                        "unshare-user",
                        "unshare-mount",
                        "unshare-net",
                        "clone-newuser",
                        "clone3-newuser",
                        "setns-host-net",
                        "socket-raw-icmp",
                        "socket-raw-ip",
                        "socket-packet",
                        "socket-packet-dgram",
                        "mount-tmpfs",
                        "mount-proc",
                        "mount-remount-sys-rw",
                        "umount-proc-mask",
                        "fsopen",
                        "pivot-root",
                        "ptrace-attach-init",
                        "ptrace-seize-init",
                        "process-vm-readv-init",
                        "init-module",
                        "finit-module",
                        "delete-module",
                        "kexec-load",
                        "reboot",
                        "clock-settime",
                        "bpf",
                        "perf-event-open",
                        "io-uring-setup",
                        "userfaultfd",
                        "open-by-handle-at",
                        "iopl",
                        "swapon",
                        "mknod-host-disk",
                        "sched-fifo",
                        "exe-write-1",
                        "write-proc-sys",
                        "write-sysrq",
                        "sysctl-kernel",
                        "sysctl-net",
                        "write-sys-cgroup",
                        "write-sys-kernel",
                        "mknod-busybox",
                        "busybox-mount",
                        "busybox-mount-bind",
                        "busybox-unshare-user",
                        "busybox-nsenter",
                        "busybox-insmod",
                        "ip-addr-add",
                        "ip-link-mac",
                        "ip-route-add",
                        "arping-spoof",
                        "host-loopback-daemon"}) {
    const std::string r = result_of(log, a);
    EXPECT_EQ(r.rfind("blocked", 0), 0u) << a << ": [" << r << "]";
  }
  // The syscall-level refusals come from seccomp or the capability set, never "not implemented"
  // by accident (clone3 alone is ENOSYS on purpose: libc then uses clone, which is checked).
  EXPECT_NE(result_of(log, "clone3-newuser").find("ENOSYS"), std::string::npos);
  EXPECT_NE(result_of(log, "keyctl-add-key").find("EPERM"), std::string::npos);
  EXPECT_NE(result_of(log, "ptrace-attach-init").find("EPERM"), std::string::npos);
  for (const char* c :
       {"control-socket-tcp", "control-socket-udp", "control-socket-netlink", "control-personality-query",
        "control-fork", "control-nc-own-loopback", "control-write-tmp", "control-ip-show"}) {
    EXPECT_EQ(result_of(log, c), "works") << c;
  }
  // A positive control: chroot into its own root (CAP_SYS_CHROOT is kept) works.
  EXPECT_NE(log.find("\nchroot-own-root-2-works\n"), std::string::npos);
  // The probe's own fds at exec, too.
  EXPECT_NE(log.find("fds: 0,1,2\n"), std::string::npos) << log;

  // Masked paths read as empty (where the host's kernel has them at all; this one may not have
  // /proc/kcore or /proc/sched_debug), and /sys/firmware is an empty directory, whatever the host's
  // hold.
  for (const char* p : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"}) {
    const bool on_host = fs::exists(p);
    const std::string want = std::string("masked:") + p + "=" + (on_host ? "0" : "absent") + "\n";
    EXPECT_NE(log.find(want), std::string::npos) << want << "host bytes " << (on_host ? slurp(p).size() : 0);
  }
  int host_firmware = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/sys/firmware")) ++host_firmware;
  std::printf("host /sys/firmware entries: %d\n", host_firmware);
  EXPECT_NE(log.find("masked:/sys/firmware=0\n"), std::string::npos) << log;
  // Rlimits (soft and hard) and read-only /proc paths from inside.
  for (const char* l : {"limit:Max core file size 0 0 bytes", "limit:Max open files 4096 4096 files",
                        "limit:Max realtime priority 0 0", "limit:Max locked memory 8388608 8388608 bytes"}) {
    EXPECT_NE(log.find(std::string(l) + " \n"), std::string::npos) << l;
  }
  for (const char* p : {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"}) {
    // This kernel has no /proc/sysrq-trigger (no CONFIG_MAGIC_SYSRQ): expect what the host has.
    const std::string want = std::string("ro:") + p + "=" + (fs::exists(p) ? "ro" : "absent") + "\n";
    EXPECT_NE(log.find(want), std::string::npos) << want;
  }
  // Only its own processes: a handful, none of them the host's (this test binary, runc, init).
  std::istringstream lines(log);
  int procs = -1;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("proc-count=", 0) == 0) procs = std::stoi(line.substr(11));
    if (line.rfind("cmdline=", 0) == 0) {
      EXPECT_EQ(line.find("xop_test"), std::string::npos) << line;
      EXPECT_EQ(line.find("runc"), std::string::npos) << line;
      EXPECT_EQ(line.find("victim"), std::string::npos) << line;
    }
  }
  EXPECT_GT(procs, 0);
  EXPECT_LT(procs, 10);
  EXPECT_NE(log.find("secret-found=[]\n"), std::string::npos) << log;
  EXPECT_NE(log.find("secret-grep=[]\n"), std::string::npos) << log;
  EXPECT_NE(log.find("cgroup-other=[]\n"), std::string::npos) << log;

  // The host's file system: the marker is in the attacker's own disk, nowhere on the host.
  EXPECT_NE(log.find("\nhost-marker-2-written\n"), std::string::npos);
  EXPECT_FALSE(fs::exists("/xop-host-marker-" + tag));
  EXPECT_FALSE(fs::exists("/tmp/xop-host-marker-" + tag));
  // The host daemon saw no connection from any session, on loopback or any host address.
  EXPECT_EQ(daemon.accepted(), 0);
  for (size_t i = 0; i < host_ips.size(); ++i) {
    const std::string name = "host-address-" + std::to_string(i);
    EXPECT_EQ(result_of(log, name).rfind("blocked", 0), 0u) << name << " " << host_ips[i];
  }
  if (net_) {
    for (const char* a : {"host-gateway-daemon", "other-session-address", "other-session-hairpin"}) {
      EXPECT_EQ(result_of(log, a).rfind("blocked", 0), 0u) << a << ": [" << result_of(log, a) << "]";
    }
  }
  // CVE-2019-5736 class: the runtime binary on the host is unchanged.
  EXPECT_TRUE(testing::read_file(runc) == runc_before) << runc << " changed";

  // Contained: the victim still runs and answers on its published port, its secret intact; the
  // server samples and starts sessions as before.
  manager_->sample_all();
  EXPECT_EQ(state_of(vid), "running");
  if (net_) {
    std::string page;
    EXPECT_TRUE(testing::poll_until(
        [&] {
          page = testing::tcp_exchange("127.0.0.1", victim_host_port, "GET /index.html HTTP/1.0\r\n\r\n", 2s);
          return page.find("victim-page") != std::string::npos;
        },
        10s))
        << page;
  }
  EXPECT_FALSE(fs::exists("/tmp/victim-secret-" + tag));
  expect_server_healthy();
}

// Attack: a fork bomb. The pids limit holds it inside its session (the kernel refuses forks
// beyond the limit); meanwhile the server samples and starts other sessions, and stop() ends it.
TEST_F(EscapeSuiteTest, AForkBombIsHeldByThePidsLimitAndTheServerStaysHealthy) {
  constexpr int64_t kPids = 32;
  auto bomb = create(spec({"/bin/sh", "-c", "echo bomb-started; b() { b | b & }; b; sleep 1000"}, kPids));
  ASSERT_TRUE(bomb) << bomb.error().message;
  const std::string id = bomb->row.id;
  ASSERT_TRUE(wait_log(id, "bomb-started"));
  // The session cgroup's pids counters: the limit was hit, and the count never passes it.
  const std::string dir = cg_.mode == CgroupMode::kV2 ? cg_.v2_dir : cg_.v1.at("pids");
  const std::string cgdir = dir + "/" + runc_.cgroup_parent + "/" + id;
  auto events_max = [&] {
    const std::string e = slurp(cgdir + "/pids.events") + slurp(cgdir + "/ctr/pids.events");
    int64_t total = 0;
    std::istringstream in(e);
    for (std::string k; in >> k;) {
      int64_t v = 0;
      if (k == "max" && (in >> v)) total += v;
    }
    return total;
  };
  ASSERT_TRUE(testing::poll_until([&] { return events_max() > 0; }, 20s))
      << slurp(cgdir + "/pids.events") << slurp(cgdir + "/ctr/pids.events");
  int64_t peak = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string cur = slurp(cgdir + "/pids.current");
    if (!cur.empty()) peak = std::max<int64_t>(peak, std::stoll(cur));
    manager_->sample_all();
  }
  std::printf("fork bomb: pids.current peak %lld, limit %lld, refused forks %lld\n", static_cast<long long>(peak),
              static_cast<long long>(kPids), static_cast<long long>(events_max()));
  EXPECT_GT(peak, 0);
  EXPECT_LE(peak, kPids);
  expect_server_healthy();
  const auto t0 = std::chrono::steady_clock::now();
  auto stopped = manager_->stop(alice_.account_id(), id, "test");
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
  EXPECT_EQ(stopped->row.state, "stopped");
}

}  // namespace
}  // namespace xop
