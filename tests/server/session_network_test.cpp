// The session network with real parts: a bridge, iptables chains, named namespaces and veth pairs
// on this host, and real runc sessions (busybox httpd and nc) in them. Root only (skipped with the
// reason otherwise). Every test uses a bridge, pool and port range of its own, sends traffic only to
// loopback and namespaces it created, and removes everything it created.
#include "server/session_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <latch>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "core/file_lock.h"
#include "crypto/keys.h"
#include "image/oci_layout.h"
#include "server/burner_image.h"
#include "server/cgroup.h"
#include "server/image_store.h"
#include "server/net_probe.h"
#include "server/sandbox_process.h"
#include "server/sandbox_runc.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::free_tcp_port;
using testing::rand_hex;
using testing::tcp_exchange;
using testing::TempDir;

bool cmd_ok(const std::vector<std::string>& argv) {
  auto r = run_command(argv, 10s);
  return r && r->exit_code == 0;
}
std::string cmd_out(const std::vector<std::string>& argv) {
  auto r = run_command(argv, 10s);
  return r ? r->out : "";
}

std::string network_skip_reason() {
  if (auto why = session_network_unavailable_reason(); !why.empty()) return "session network: " + why;
  return "";
}

// A one-connection TCP listener inside the network namespace at `netns_path` (a thread that
// joined it): answers `reply` to the first connection and gives the peer's address.
class NetnsListener {
 public:
  NetnsListener(const std::string& netns_path, uint16_t port, std::string reply) {
    std::promise<bool> ready;
    auto ready_f = ready.get_future();
    thread_ = std::thread([this, netns_path, port, reply = std::move(reply), ready = std::move(ready)]() mutable {
      if (!testing::join_netns(netns_path)) {
        ready.set_value(false);
        peer_.set_value("");
        return;
      }
      const int fd = testing::listen_tcp_any(port);
      const bool ok = fd >= 0;
      ready.set_value(ok);
      std::string peer;
      pollfd p{fd, POLLIN, 0};
      if (ok && ::poll(&p, 1, 30'000) == 1) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const int c = ::accept(fd, reinterpret_cast<sockaddr*>(&from), &len);
        if (c >= 0) {
          char buf[64];
          inet_ntop(AF_INET, &from.sin_addr, buf, sizeof buf);
          peer = buf;
          (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
          ::close(c);
        }
      }
      if (fd >= 0) ::close(fd);
      peer_.set_value(peer);
    });
    ok_ = ready_f.get();
    peer_f_ = peer_.get_future();
  }
  ~NetnsListener() {
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] bool ok() const { return ok_; }
  // The first peer's address; empty when none came within the listener's 30 s.
  std::string peer() { return peer_f_.get(); }

 private:
  bool ok_ = false;
  std::promise<std::string> peer_;
  std::future<std::string> peer_f_;
  std::thread thread_;
};

// A one-connection TCP sink inside a namespace: reads until EOF, counting bytes and the time from
// the first byte to the last.
class NetnsSink {
 public:
  struct Result {
    int64_t bytes = 0;
    double seconds = 0;
  };
  NetnsSink(const std::string& netns_path, uint16_t port) {
    std::promise<bool> ready;
    auto ready_f = ready.get_future();
    thread_ = std::thread([this, netns_path, port, ready = std::move(ready)]() mutable {
      Result res;
      if (!testing::join_netns(netns_path)) {
        ready.set_value(false);
        result_.set_value(res);
        return;
      }
      const int fd = testing::listen_tcp_any(port);
      const bool ok = fd >= 0;
      ready.set_value(ok);
      pollfd p{fd, POLLIN, 0};
      if (ok && ::poll(&p, 1, 30'000) == 1) {
        const int c = ::accept(fd, nullptr, nullptr);
        std::optional<std::chrono::steady_clock::time_point> first;
        auto last = std::chrono::steady_clock::now();
        char buf[65536];
        for (;;) {
          pollfd q{c, POLLIN, 0};
          if (::poll(&q, 1, 30'000) != 1) break;
          const ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          last = std::chrono::steady_clock::now();
          if (!first) first = last;
          res.bytes += n;
        }
        if (first) res.seconds = std::chrono::duration<double>(last - *first).count();
        ::close(c);
      }
      if (fd >= 0) ::close(fd);
      result_.set_value(res);
    });
    ok_ = ready_f.get();
    result_f_ = result_.get_future();
  }
  ~NetnsSink() {
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] bool ok() const { return ok_; }
  Result result() { return result_f_.get(); }

 private:
  bool ok_ = false;
  std::promise<Result> result_;
  std::future<Result> result_f_;
  std::thread thread_;
};

// From inside the namespace at `netns_path` (a thread that joined it): connects to `host:port`
// (retrying until the listener is there, within 20 s), sends `bytes` bytes through a 64 KiB send
// buffer, closes its sending side and reads the answer to EOF. `seconds` runs from the connection
// to the answer's end, so it covers the last byte's arrival at the far end.
struct SendResult {
  std::string answer;
  double seconds = 0;
  bool connected = false;
};
SendResult send_from(const std::string& netns_path, const std::string& host, uint16_t port, int64_t bytes) {
  SendResult res;
  std::thread t([&] {
    if (!testing::join_netns(netns_path)) return;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &to.sin_addr);
    int fd = -1;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int buf = 64 << 10;
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) break;
      ::close(fd);
      fd = -1;
      pollfd none{-1, 0, 0};
      ::poll(&none, 0, 20);  // the session's listener is not up yet: a short pause between tries
    }
    if (fd < 0) return;
    res.connected = true;
    const auto start = std::chrono::steady_clock::now();
    std::string chunk(65536, 'x');
    int64_t left = bytes;
    while (left > 0) {
      const ssize_t n = ::send(fd, chunk.data(), static_cast<size_t>(std::min<int64_t>(left, 65536)), MSG_NOSIGNAL);
      if (n <= 0) break;
      left -= n;
    }
    ::shutdown(fd, SHUT_WR);
    char b[256];
    for (;;) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 30'000) != 1) break;
      const ssize_t n = ::recv(fd, b, sizeof b, 0);
      if (n <= 0) break;
      res.answer.append(b, static_cast<size_t>(n));
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ::close(fd);
  });
  t.join();
  return res;
}

// A host TCP listener on 0.0.0.0 (port 0) that counts connections, for "cannot reach the host".
class HostListener {
 public:
  HostListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~HostListener() { ::close(fd_); }
  [[nodiscard]] uint16_t port() const { return port_; }
  // Connections accepted so far (each closed at once).
  int accepted() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return count_;
      ::close(c);
      ++count_;
    }
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  int count_ = 0;
};

class SessionNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = network_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    std::random_device rd;
    opts_.bridge = "xt" + rand_hex(8);
    // 10.(200..249).x.0/24: a pool of this test's own.
    opts_.pool = "10." + std::to_string(200 + rd() % 50) + "." + std::to_string(rd() % 256) + ".0/24";
    const uint16_t first = std::min<uint16_t>(free_tcp_port(), 65000);
    opts_.port_range = std::to_string(first) + "-" + std::to_string(first + 40);
    opts_.state_file = t_.file("network.json");
    opts_.public_host = "127.0.0.1";
    opts_.claim_dir = t_.file("claims");
    world_ = "xtw-" + rand_hex(8);
    world_veth_ = "xw" + rand_hex(8);
    world_subnet_ = "198.18." + std::to_string(rd() % 256);
  }

  void TearDown() override {
    for (auto& n : nets_) {
      for (const auto& s : held_) n->release(s);
      n->shutdown(false);
    }
    nets_.clear();
    if (!world_.empty() && fs::exists("/run/netns/" + world_)) cmd_ok({"ip", "netns", "del", world_});
    if (fs::exists("/sys/class/net/" + world_veth_)) cmd_ok({"ip", "link", "del", world_veth_});
    // Nothing this test created is left.
    EXPECT_FALSE(fs::exists("/sys/class/net/" + opts_.bridge)) << opts_.bridge;
    EXPECT_FALSE(cmd_ok({"iptables", "-w", "5", "-t", "nat", "-n", "-L", "XOP-" + opts_.bridge + "-DNAT"}));
    EXPECT_FALSE(cmd_ok({"iptables", "-w", "5", "-t", "filter", "-n", "-L", "XOP-" + opts_.bridge + "-FWD"}));
    for (const auto& s : held_) EXPECT_FALSE(fs::exists(SessionNetwork::netns_path(s))) << s.netns;
  }

  SessionNetwork* open() {
    auto n = SessionNetwork::open(opts_);
    EXPECT_TRUE(n) << (n ? "" : n.error().message);
    if (!n) return nullptr;
    nets_.push_back(std::move(*n));
    return nets_.back().get();
  }

  SessionNet attach(SessionNetwork& net, const std::string& id, std::vector<PortSpec> ports) {
    auto r = net.reserve(id, ports);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    held_.push_back(*r);
    auto s = net.setup(*r);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return *r;
  }

  // An "outside world": a namespace joined to the host by a veth pair, world_subnet_.2 inside.
  void make_world() {
    ASSERT_TRUE(cmd_ok({"ip", "netns", "add", world_}));
    ASSERT_TRUE(cmd_ok({"ip", "link", "add", world_veth_, "type", "veth", "peer", "name", "eth0", "netns", world_}));
    ASSERT_TRUE(cmd_ok({"ip", "addr", "add", world_subnet_ + ".1/30", "dev", world_veth_}));
    ASSERT_TRUE(cmd_ok({"ip", "link", "set", world_veth_, "up"}));
    ASSERT_TRUE(cmd_ok({"ip", "-n", world_, "addr", "add", world_subnet_ + ".2/30", "dev", "eth0"}));
    ASSERT_TRUE(cmd_ok({"ip", "-n", world_, "link", "set", "eth0", "up"}));
    ASSERT_TRUE(cmd_ok({"ip", "-n", world_, "link", "set", "lo", "up"}));
  }

  TempDir t_;
  NetworkOptions opts_;
  std::vector<std::unique_ptr<SessionNetwork>> nets_;
  std::vector<SessionNet> held_;
  std::string world_, world_veth_, world_subnet_;
};

TEST_F(SessionNetworkTest, PublishedPortReachesTheNamespaceFromLoopbackAndIsReleasedAndReadopted) {
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  EXPECT_TRUE(fs::exists("/sys/class/net/" + opts_.bridge));
  SessionNet a = attach(*net, "s_one", {PortSpec{"web", 8080, "tcp"}});
  ASSERT_EQ(a.ports.size(), 1u);
  const auto pool = *parse_ipv4_cidr(opts_.pool);
  EXPECT_EQ(a.address, ipv4_to_string(pool.network + 2));  // the first session address
  EXPECT_EQ(net->gateway(), ipv4_to_string(pool.network + 1));
  const uint16_t hp = a.ports[0].host_port;
  EXPECT_GE(hp, parse_port_range(opts_.port_range)->first);
  // Its namespace has the address and a default route via the bridge.
  EXPECT_NE(cmd_out({"ip", "-n", a.netns, "-4", "addr", "show", "eth0"}).find(a.address + "/24"), std::string::npos);
  EXPECT_NE(cmd_out({"ip", "-n", a.netns, "route"}).find("default via " + net->gateway()), std::string::npos);
  {
    NetnsListener l(SessionNetwork::netns_path(a), 8080, "hello-1");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(tcp_exchange("127.0.0.1", hp, "x", 10s), "hello-1");
    l.peer();
  }
  // Bytes through its veth are counted.
  auto bytes = net->bytes(a);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_GT(*bytes, 0);

  // A restart that leaves the session running: the next server adopts it, and it stays reachable.
  net->shutdown(/*sessions_left=*/true);
  EXPECT_TRUE(fs::exists("/sys/class/net/" + opts_.bridge));
  SessionNetwork* net2 = open();
  ASSERT_NE(net2, nullptr);
  auto adopted = net2->adopt(a);
  ASSERT_TRUE(adopted) << adopted.error().message;
  {
    NetnsListener l(SessionNetwork::netns_path(a), 8080, "hello-2");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(tcp_exchange("127.0.0.1", hp, "x", 10s), "hello-2");
    l.peer();
  }
  // Adopted address and port are not handed out again.
  auto b = net2->reserve("s_two", {PortSpec{"web", 8080, "tcp"}});
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_NE(b->address, a.address);
  EXPECT_NE(b->ports[0].host_port, hp);
  net2->release(*b);

  // Release: namespace, veth and rule gone; the address and port are free again.
  net2->release(a);
  EXPECT_FALSE(fs::exists(SessionNetwork::netns_path(a)));
  EXPECT_FALSE(fs::exists("/sys/class/net/" + a.veth));
  EXPECT_EQ(cmd_out({"iptables", "-w", "5", "-t", "nat", "-S", net2->chain("DNAT")}).find(std::to_string(hp)),
            std::string::npos);
  EXPECT_EQ(tcp_exchange("127.0.0.1", hp, "x", 1s), "");
  auto c = net2->reserve("s_three", {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->address, a.address);
  net2->release(*c);
}

// Both limits of a session reserving bandwidth are in place after setup, and adopt() (a restart)
// gives back the receiving one when it went missing (a session set up by an older server).
TEST_F(SessionNetworkTest, BothLimitsAreSetUpAndAdoptRestoresTheReceivingOne) {
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  auto r = net->reserve("s_bw", {}, 5'000'000);
  ASSERT_TRUE(r) << r.error().message;
  held_.push_back(*r);
  EXPECT_EQ(r->egress_bps, 5'000'000);
  EXPECT_EQ(r->ingress_bps, 5'000'000);
  ASSERT_TRUE(net->setup(*r));
  EXPECT_NE(cmd_out({"tc", "qdisc", "show", "dev", r->veth}).find("tbf"), std::string::npos);
  EXPECT_NE(cmd_out({"tc", "qdisc", "show", "dev", r->veth}).find("rate 5Mbit"), std::string::npos)
      << cmd_out({"tc", "qdisc", "show", "dev", r->veth});
  EXPECT_NE(cmd_out({"tc", "-n", r->netns, "qdisc", "show", "dev", "eth0"}).find("rate 5Mbit"), std::string::npos);
  // The stored form keeps both.
  auto back = session_net_from_json(to_json(*r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->ingress_bps, 5'000'000);
  ASSERT_TRUE(cmd_ok({"tc", "qdisc", "del", "dev", r->veth, "root"}));
  EXPECT_EQ(cmd_out({"tc", "qdisc", "show", "dev", r->veth}).find("tbf"), std::string::npos);
  net->shutdown(/*sessions_left=*/true);
  SessionNetwork* net2 = open();
  ASSERT_NE(net2, nullptr);
  ASSERT_TRUE(net2->adopt(*r));
  EXPECT_NE(cmd_out({"tc", "qdisc", "show", "dev", r->veth}).find("rate 5Mbit"), std::string::npos);
}

// A published UDP port: a datagram to the host's loopback reaches the namespace and the answer
// comes back.
TEST_F(SessionNetworkTest, APublishedUdpPortAnswersFromLoopback) {
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  SessionNet a = attach(*net, "s_udp", {PortSpec{"dns", 5353, "udp"}});
  ASSERT_EQ(a.ports.size(), 1u);
  std::promise<bool> ready;
  auto ready_f = ready.get_future();
  std::thread echo([path = SessionNetwork::netns_path(a), &ready] {
    const bool joined = testing::join_netns(path);
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(5353);
    ready.set_value(joined && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20'000) == 1) {
      char buf[256];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) {
        const std::string reply = "pong:" + std::string(buf, static_cast<size_t>(n));
        (void)::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    }
    ::close(fd);
  });
  ASSERT_TRUE(ready_f.get());
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(a.ports[0].host_port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::sendto(fd, "ping", 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 4);
  pollfd p{fd, POLLIN, 0};
  std::string got;
  if (::poll(&p, 1, 10'000) == 1) {
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) got.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  echo.join();
  EXPECT_EQ(got, "pong:ping");
}

TEST_F(SessionNetworkTest, AdmissionRefusesWhenNoHostPortIsFree) {
  opts_.port_range = std::to_string(free_tcp_port());
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  auto a = net->reserve("s_a", {PortSpec{"web", 80, "tcp"}});
  ASSERT_TRUE(a) << a.error().message;
  auto b = net->reserve("s_b", {PortSpec{"web", 80, "tcp"}});
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kResourceExhausted);
  EXPECT_NE(b.error().message.find("no free host port"), std::string::npos) << b.error().message;
  // The refused reservation gave its address back.
  net->release(*a);
  auto c = net->reserve("s_c", {});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->address, a->address);
  net->release(*c);
}

TEST_F(SessionNetworkTest, ConcurrentReservationsNeverShareAPortOrAnAddress) {
  const uint16_t first = std::min<uint16_t>(free_tcp_port(), 65000);
  opts_.port_range = std::to_string(first) + "-" + std::to_string(first + 4);  // 5 host ports
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  constexpr int kThreads = 16;
  std::vector<std::optional<SessionNet>> got(kThreads);
  std::vector<ErrorCode> codes(kThreads, ErrorCode::kInternal);
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();  // start together
      auto r = net->reserve("s_" + std::to_string(i), {PortSpec{"game", 7777, "udp"}});
      if (r) {
        got[i] = *r;
      } else {
        codes[i] = r.error().code;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint16_t> ports;
  std::set<std::string> addresses;
  int admitted = 0;
  for (int i = 0; i < kThreads; ++i) {
    if (!got[i]) {
      EXPECT_EQ(codes[i], ErrorCode::kResourceExhausted);
      continue;
    }
    ++admitted;
    ASSERT_EQ(got[i]->ports.size(), 1u);
    EXPECT_TRUE(ports.insert(got[i]->ports[0].host_port).second) << "host port given twice";
    EXPECT_TRUE(addresses.insert(got[i]->address).second) << "address given twice";
  }
  EXPECT_EQ(admitted, 5);
  for (auto& g : got) {
    if (g) net->release(*g);
  }
  // Everything came back: five more fit again.
  for (int i = 0; i < 5; ++i) {
    auto r = net->reserve("again_" + std::to_string(i), {PortSpec{"game", 7777, "udp"}});
    ASSERT_TRUE(r) << r.error().message;
    net->release(*r);
  }
}

// Real runc sessions: busybox httpd published and reached from the host; a prober session reaches
// an outside namespace through NAT but neither the host's own addresses nor the other session.
class RuncSessionNetworkTest : public SessionNetworkTest {
 protected:
  void SetUp() override {
    SessionNetworkTest::SetUp();
    if (IsSkipped()) return;
    if (auto why = testing::container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    manifest_ = testing::build_burner_image(t_.file("img"));
    ASSERT_FALSE(manifest_.empty());
    auto layout = read_oci_layout(t_.file("img"), t_.file("scratch"));
    ASSERT_TRUE(layout) << layout.error().message;
    auto store = ImageStore::open(t_.file("store"));
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    ASSERT_TRUE(testing::load_layout(*layout, *store_));
    auto cg = detect_cgroup_layout("/sys/fs/cgroup");
    ASSERT_TRUE(cg) << cg.error().message;
    cg_ = *cg;
    ro_.state_root = t_.file("runc-state");
    ro_.cgroup_parent = "xop-test-" + random_id("").substr(0, 12);
    auto sb = open_runc_sandbox(ro_);
    ASSERT_TRUE(sb) << sb.error().message;
    sandbox_ = std::move(*sb);
  }
  void TearDown() override {
    if (sandbox_) {
      for (const auto& id : started_) {
        (void)sandbox_->stop(id, 0ms);
        (void)sandbox_->remove(id);
      }
    }
    for (const auto& dir : dirs_) (void)store_->release_rootfs(dir);
    if (!ro_.cgroup_parent.empty()) {
      for (const auto& h : cg_.v1_hierarchies) ::rmdir((h + "/" + ro_.cgroup_parent).c_str());
      if (!cg_.v2_dir.empty()) ::rmdir((cg_.v2_dir + "/" + ro_.cgroup_parent).c_str());
    }
    SessionNetworkTest::TearDown();
  }

  Status start(const std::string& name, const SessionNet& n, std::vector<std::string> args) {
    const std::string dir = t_.file(name);
    XOP_ASSIGN_OR_RETURN(auto rootfs, store_->prepare_rootfs(manifest_, dir));
    dirs_.push_back(dir);
    SandboxSpec s;
    s.id = name + "-" + random_id("").substr(0, 8);
    s.bundle_dir = dir + "/bundle";
    s.rootfs = rootfs;
    s.args = std::move(args);
    s.cwd = "/";
    s.reserved.cpu_millis = 500;
    s.reserved.memory_bytes = 64 << 20;
    s.log_path = dir + "/log";
    s.netns_path = SessionNetwork::netns_path(n);
    logs_[name] = s.log_path;
    XOP_RETURN_IF_ERROR(sandbox_->start(s));
    started_.push_back(s.id);
    return ok_status();
  }
  std::string log(const std::string& name) { return fs::exists(logs_[name]) ? testing::read_file(logs_[name]) : ""; }

  std::string manifest_;
  std::unique_ptr<ImageStore> store_;
  CgroupLayout cg_;
  RuncOptions ro_;
  std::unique_ptr<Sandbox> sandbox_;
  std::vector<std::string> started_, dirs_;
  std::map<std::string, std::string> logs_;
};

TEST_F(RuncSessionNetworkTest, HttpdIsReachedOnItsPublishedPortAndSessionsReachOnlyTheOutside) {
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  make_world();
  SessionNet web = attach(*net, "s_web", {PortSpec{"http", 8080, "tcp"}});
  ASSERT_EQ(web.ports.size(), 1u);
  ASSERT_TRUE(start("web", web,
                    {"/bin/sh", "-c",
                     "mkdir -p /tmp/www && echo hello-from-session > /tmp/www/index.html && "
                     "exec /bin/busybox httpd -f -p 8080 -h /tmp/www"}));
  const uint16_t hp = web.ports[0].host_port;
  std::string answer;
  // From the host's loopback and from the host's address on the bridge, through the published port.
  EXPECT_TRUE(testing::poll_until(
      [&] {
        answer = tcp_exchange("127.0.0.1", hp, "GET /index.html HTTP/1.0\r\n\r\n", 2s);
        return answer.find("hello-from-session") != std::string::npos;
      },
      20s))
      << answer << "\n"
      << log("web");
  EXPECT_NE(tcp_exchange(net->gateway(), hp, "GET /index.html HTTP/1.0\r\n\r\n", 5s).find("hello-from-session"),
            std::string::npos);

  // The prober: the outside world through NAT; not the host (bridge address, another host address),
  // not the web session.
  NetnsListener world(std::string("/run/netns/") + world_, 9000, "hi");
  ASSERT_TRUE(world.ok());
  HostListener host;
  const std::string hostp = std::to_string(host.port());
  SessionNet prober = attach(*net, "s_prober", {});
  const std::string script =
      "r() { if echo x | /bin/busybox nc -w 2 $1 $2 >/dev/null 2>&1; then echo $3=reached; else echo $3=blocked; fi; "
      "}; "
      "r " +
      world_subnet_ + ".2 9000 world; r " + net->gateway() + " " + hostp + " gateway; r " + world_subnet_ + ".1 " +
      hostp + " hostaddr; r " + web.address + " 8080 peer; echo probes-done";
  ASSERT_TRUE(start("prober", prober, {"/bin/sh", "-c", script}));
  EXPECT_TRUE(testing::poll_until([&] { return log("prober").find("probes-done") != std::string::npos; }, 40s))
      << log("prober");
  const std::string out = log("prober");
  EXPECT_NE(out.find("world=reached"), std::string::npos) << out;
  EXPECT_NE(out.find("gateway=blocked"), std::string::npos) << out;
  EXPECT_NE(out.find("hostaddr=blocked"), std::string::npos) << out;
  EXPECT_NE(out.find("peer=blocked"), std::string::npos) << out;
  // The world saw the host's address (masqueraded), not the session's.
  EXPECT_EQ(world.peer(), world_subnet_ + ".1");
  EXPECT_EQ(host.accepted(), 0);
  // The web session still answers after all that (the peer probe was blocked, not the service).
  EXPECT_NE(tcp_exchange("127.0.0.1", hp, "GET /index.html HTTP/1.0\r\n\r\n", 5s).find("hello-from-session"),
            std::string::npos);
}

// Reserved bandwidth: a session reserving 8 Mbit/s sends at most that (tbf on its eth0), measured
// by the receiving end in the outside namespace; an unlimited session sends far faster.
TEST_F(RuncSessionNetworkTest, ReservedBandwidthLimitsWhatTheSessionSends) {
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  make_world();
  constexpr int64_t kRateBps = 8'000'000;      // 1,000,000 bytes/s
  constexpr int64_t kBytes = 4 * 1024 * 1024;  // 4 MiB: about 4.2 s at the rate
  auto send_through = [&](const std::string& name, int64_t bps, uint16_t port) -> NetnsSink::Result {
    auto r = net->reserve("s_" + name, {}, bps);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    held_.push_back(*r);
    EXPECT_TRUE(net->setup(*r));
    NetnsSink sink(std::string("/run/netns/") + world_, port);
    EXPECT_TRUE(sink.ok());
    const std::string script = "/bin/busybox dd if=/dev/zero bs=65536 count=" + std::to_string(kBytes / 65536) +
                               " 2>/dev/null | /bin/busybox nc " + world_subnet_ + ".2 " + std::to_string(port) +
                               "; echo sent";
    EXPECT_TRUE(start(name, *r, {"/bin/sh", "-c", script}));
    return sink.result();
  };
  const auto limited = send_through("slow", kRateBps, 9001);
  const auto unlimited = send_through("fast", 0, 9002);
  const double limited_bps = 8.0 * static_cast<double>(limited.bytes) / std::max(limited.seconds, 1e-6);
  const double free_bps = 8.0 * static_cast<double>(unlimited.bytes) / std::max(unlimited.seconds, 1e-6);
  std::printf("egress limited to %lld bit/s: %lld bytes in %.2f s = %.0f bit/s; unlimited: %lld bytes in %.3f s\n",
              static_cast<long long>(kRateBps), static_cast<long long>(limited.bytes), limited.seconds, limited_bps,
              static_cast<long long>(unlimited.bytes), unlimited.seconds);
  EXPECT_EQ(limited.bytes, kBytes);
  EXPECT_EQ(unlimited.bytes, kBytes);
  // The burst (at most 32 KiB) lets the first bytes through at once; the rest comes at the rate.
  EXPECT_LE(limited_bps, 1.10 * kRateBps);
  EXPECT_GE(limited_bps, 0.70 * kRateBps);
  EXPECT_GE(free_bps, 3.0 * kRateBps);
}

// The other direction: a session reserving 8 Mbit/s receives at most that (tbf on the host end of
// its veth). The outside namespace sends 4 MiB to the session's published port; the session counts
// them (busybox nc -e wc -c) and answers the count, so the sender's clock stops only after the last
// byte arrived. An unlimited session receives the same far faster.
TEST_F(RuncSessionNetworkTest, ReservedBandwidthLimitsWhatTheSessionReceives) {
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  make_world();
  constexpr int64_t kRateBps = 8'000'000;      // 1,000,000 bytes/s
  constexpr int64_t kBytes = 4 * 1024 * 1024;  // 4 MiB: about 4.2 s at the rate
  auto receive_into = [&](const std::string& name, int64_t bps) -> SendResult {
    auto r = net->reserve("s_" + name, {PortSpec{"sink", 9000, "tcp"}}, bps);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) return {};
    held_.push_back(*r);
    EXPECT_EQ(r->ingress_bps, std::max<int64_t>(bps, 0));
    EXPECT_TRUE(net->setup(*r));
    EXPECT_TRUE(start(name, *r, {"/bin/busybox", "nc", "-l", "-p", "9000", "-e", "/bin/busybox", "wc", "-c"}));
    // The world reaches the session through the host's address on its link (PREROUTING DNAT).
    return send_from(std::string("/run/netns/") + world_, world_subnet_ + ".1", r->ports[0].host_port, kBytes);
  };
  const auto limited = receive_into("slowin", kRateBps);
  const auto unlimited = receive_into("fastin", 0);
  ASSERT_TRUE(limited.connected) << log("slowin");
  ASSERT_TRUE(unlimited.connected) << log("fastin");
  const double limited_bps = 8.0 * static_cast<double>(kBytes) / std::max(limited.seconds, 1e-6);
  const double free_bps = 8.0 * static_cast<double>(kBytes) / std::max(unlimited.seconds, 1e-6);
  std::printf("ingress limited to %lld bit/s: %lld bytes in %.2f s = %.0f bit/s; unlimited: %.3f s = %.0f bit/s\n",
              static_cast<long long>(kRateBps), static_cast<long long>(kBytes), limited.seconds, limited_bps,
              unlimited.seconds, free_bps);
  // The session received every byte (its own count).
  EXPECT_EQ(std::strtoll(limited.answer.c_str(), nullptr, 10), kBytes) << limited.answer << log("slowin");
  EXPECT_EQ(std::strtoll(unlimited.answer.c_str(), nullptr, 10), kBytes) << unlimited.answer << log("fastin");
  // At least size/rate, less the burst (32 KiB) and the 50 ms queue: 10 % tolerance.
  EXPECT_GE(limited.seconds, 0.90 * 8.0 * kBytes / kRateBps);
  EXPECT_LE(limited_bps, 1.10 * kRateBps);
  EXPECT_GE(limited_bps, 0.70 * kRateBps);
  EXPECT_GE(free_bps, 3.0 * kRateBps);
  // Both limits are in place: the session's eth0 and the host end of its veth.
  const SessionNet& n = held_[held_.size() - 2];
  EXPECT_NE(cmd_out({"tc", "qdisc", "show", "dev", n.veth}).find("tbf"), std::string::npos);
  EXPECT_NE(cmd_out({"tc", "-n", n.netns, "qdisc", "show", "dev", "eth0"}).find("tbf"), std::string::npos);
}

// Several servers on one host: a second live server may not take the same bridge, an overlapping
// pool or an overlapping port range; once the first shuts down, its bridge is free again.
TEST_F(SessionNetworkTest, ASecondServerCannotTakeALiveServersBridgePoolOrPorts) {
  SessionNetwork* first = open();
  ASSERT_NE(first, nullptr);
  auto refused = [&](NetworkOptions o, const std::string& says) {
    auto n = SessionNetwork::open(o);
    ASSERT_FALSE(n) << "opened " << o.bridge;
    EXPECT_EQ(n.error().code, ErrorCode::kConflict) << n.error().message;
    EXPECT_NE(n.error().message.find(says), std::string::npos) << n.error().message;
    if (o.bridge != opts_.bridge) {
      EXPECT_FALSE(fs::exists("/sys/class/net/" + o.bridge)) << o.bridge;
    }
  };
  const auto pool = *parse_ipv4_cidr(opts_.pool);
  const auto range = *parse_port_range(opts_.port_range);
  NetworkOptions same = opts_;
  same.state_file = t_.file("other.json");
  same.pool = ipv4_to_string(pool.network ^ (1u << 16)) + "/24";  // another pool
  same.port_range = std::to_string(range.last + 1) + "-" + std::to_string(range.last + 5);
  refused(same, "network.bridge " + opts_.bridge + " is used by another live server");

  NetworkOptions pool_clash = same;
  pool_clash.bridge = "xt" + rand_hex(8);
  pool_clash.pool = ipv4_to_string(pool.network) + "/25";  // inside the first's pool
  refused(pool_clash, "overlaps the pool " + opts_.pool + " of the live server on bridge " + opts_.bridge);

  NetworkOptions port_clash = same;
  port_clash.bridge = "xt" + rand_hex(8);
  port_clash.port_range = std::to_string(range.last) + "-" + std::to_string(range.last + 5);
  refused(port_clash, "overlaps the range " + opts_.port_range);

  // A server that keeps its claims elsewhere still meets the first's bridge address in the pool.
  NetworkOptions elsewhere = pool_clash;
  elsewhere.claim_dir = t_.file("other-claims");
  refused(elsewhere, "of interface " + opts_.bridge);

  // Claims of live holders that are not what a server writes (hostile or corrupt: wrong types,
  // junk, an enormous file) are no claims: they neither crash the check nor refuse a free network.
  std::vector<FileLock> hostile;
  int k = 0;
  for (const std::string& text :
       {std::string(R"({"bridge":7,"pool":["10.0.0.0/8"],"port_range":{"a":1}})"), std::string("not json {"),
        std::string(R"({"pool":"10.0.0.0/99"})"), std::string(R"([1,2,3])"), std::string(1 << 20, '[')}) {
    const std::string path = opts_.claim_dir + "/bridge-xh" + std::to_string(k++) + ".lock";
    testing::write_file(path, text);
    auto l = FileLock::acquire(path, FileLock::Mode::kExclusive);
    ASSERT_TRUE(l) << l.error().message;
    hostile.push_back(std::move(*l));
  }
  NetworkOptions free_one = same;
  free_one.bridge = "xt" + rand_hex(8);
  free_one.pool = ipv4_to_string(pool.network ^ (2u << 16)) + "/24";
  free_one.state_file = t_.file("free.json");
  auto ok = SessionNetwork::open(free_one);
  ASSERT_TRUE(ok) << ok.error().message;
  (*ok)->shutdown(/*sessions_left=*/false);
  hostile.clear();
  for (int i = 0; i < k; ++i) std::filesystem::remove(opts_.claim_dir + "/bridge-xh" + std::to_string(i) + ".lock");

  // The first goes (sessions left running, as on an upgrade): the next server on its bridge starts.
  first->shutdown(/*sessions_left=*/true);
  SessionNetwork* next = open();
  EXPECT_NE(next, nullptr);
  // The claims left by the refused servers (no live holder) were cleared on the way.
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(opts_.claim_dir)) left.insert(e.path().filename().string());
  EXPECT_EQ(left, (std::set<std::string>{"network.lock", "bridge-" + opts_.bridge + ".lock"}));
}

// The owner's deny list: with the outside namespace's address denied, a session cannot reach the
// service there (rejected in the forward chain); the listener's first connection is then the
// test's own, from inside that namespace.
TEST_F(RuncSessionNetworkTest, TheOwnersDenyListKeepsSessionsFromADestination) {
  auto deny = parse_cidr_list(world_subnet_ + ".2/32, 192.0.2.0/24");
  ASSERT_TRUE(deny) << deny.error().message;
  opts_.deny = *deny;
  SessionNetwork* net = open();
  ASSERT_NE(net, nullptr);
  make_world();
  EXPECT_NE(cmd_out({"iptables", "-w", "5", "-S", net->chain("FWD")}).find("-d " + world_subnet_ + ".2/32"),
            std::string::npos);
  NetnsListener world(std::string("/run/netns/") + world_, 9000, "hi");
  ASSERT_TRUE(world.ok());
  SessionNet prober = attach(*net, "s_denied", {});
  const std::string script = "if echo x | /bin/busybox nc -w 2 " + world_subnet_ +
                             ".2 9000 >/dev/null 2>&1; then echo world=reached; else echo world=blocked; fi; "
                             "echo probes-done";
  ASSERT_TRUE(start("denied", prober, {"/bin/sh", "-c", script}));
  EXPECT_TRUE(testing::poll_until([&] { return log("denied").find("probes-done") != std::string::npos; }, 40s))
      << log("denied");
  EXPECT_NE(log("denied").find("world=blocked"), std::string::npos) << log("denied");
  // The listener is still waiting for its first connection: the test's own, from inside.
  std::thread([&] {
    if (testing::join_netns("/run/netns/" + world_)) (void)tcp_exchange("127.0.0.1", 9000, "x", 5s);
  }).join();
  EXPECT_EQ(world.peer(), "127.0.0.1");
}

TEST(CidrListTest, ParsesAndRefusesWithTheBadEntryNamed) {
  auto ok = parse_cidr_list(" 10.0.0.0/8 ,192.168.1.7, 0.0.0.0/0");
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[1].to_string(), "192.168.1.7/32");
  EXPECT_EQ((*ok)[2].prefix, 0);
  EXPECT_TRUE(parse_cidr_list("")->empty());
  EXPECT_TRUE(parse_cidr_list("   ")->empty());
  for (const char* bad : {"10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.1/8", "10.0.0.0/33", "10.0.0/8", "x", "10.0.0.0/-1",
                          "10.0.0.0/08", "1.2.3.4/", "300.1.1.1"}) {
    auto r = parse_cidr_list(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
  }
  std::string many;
  for (int i = 0; i < 257; ++i) many.append(i ? ",10.0.0.0/8" : "10.0.0.0/8");
  EXPECT_FALSE(parse_cidr_list(many));
  EXPECT_NE(parse_cidr_list("10.0.0.0/8,bogus").error().message.find("'bogus'"), std::string::npos);
}

}  // namespace
}  // namespace xop
