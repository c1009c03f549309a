// Published ports through the whole platform with real processes and real runc: `xop deploy` of a
// manifest with `ports:` onto an `xop server` with a session network of the test's own; the
// server's session answer lists the endpoint, the host reaches busybox httpd there, across a
// kill -9 and restart of the server (re-adopted from its state store), and `xop stop` releases it.
// Root only; skipped with the reason otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "client/api_client.h"
#include "client/corp_client.h"
#include "deploy/user_home.h"
#include "integration/process_platform.h"
#include "proto/charge.h"
#include "server/net_probe.h"
#include "server/sandbox_process.h"
#include "server/server_config.h"
#include "server/session_network.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

int run_xop(const std::vector<std::string>& args, const std::string& log, std::string* output = nullptr) {
  std::vector<std::string> argv{XOP_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv, log);
  if (!poll_until([&] { return !p.running(); }, seconds(60))) return -1;
  const int st = p.stop();
  if (output != nullptr) *output = p.log();
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// The user's one session as the server reports it.
Json the_session(const std::string& server_url, const KeyPair& user) {
  auto c = ApiClient::connect(server_url, user);
  auto r = c->call("GET", "/v1/sessions");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (!r) return Json::object();
  const Json all = r->value("sessions", Json::array());
  EXPECT_EQ(all.size(), 1u) << r->dump();
  return all.empty() ? Json::object() : all[0];
}

bool cmd_ok(const std::vector<std::string>& argv) {
  auto r = run_command(argv, seconds(10));
  return r && r->exit_code == 0;
}

// Runs `fn` on a thread that joined the network namespace at `path`; false when it could not.
bool in_netns(const std::string& path, const std::function<void()>& fn) {
  bool joined = false;
  std::thread t([&] {
    joined = join_netns(path);
    if (joined) fn();
  });
  t.join();
  return joined;
}

// Reads one connection on `fd` (a listening socket) to EOF: the bytes received.
int64_t drain_one(int fd, int accept_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, accept_ms) != 1) return -1;
  const int c = ::accept(fd, nullptr, nullptr);
  if (c < 0) return -1;
  int64_t total = 0;
  char buf[65536];
  for (;;) {
    pollfd q{c, POLLIN, 0};
    if (::poll(&q, 1, 30'000) != 1) break;
    const ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0) break;
    total += n;
  }
  ::close(c);
  return total;
}

// Connects to host:port (retrying within 60 s), sends `bytes`, closes the sending side and reads
// the answer to EOF.
std::string send_all(const std::string& host, uint16_t port, int64_t bytes) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &to.sin_addr);
  int fd = -1;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) break;
    ::close(fd);
    fd = -1;
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 50);  // the session's listener is not up yet: a short pause between tries
  }
  if (fd < 0) return "";
  const std::string chunk(65536, 'y');
  for (int64_t left = bytes; left > 0;) {
    const ssize_t n = ::send(fd, chunk.data(), static_cast<size_t>(std::min<int64_t>(left, 65536)), MSG_NOSIGNAL);
    if (n <= 0) break;
    left -= n;
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char b[256];
  for (;;) {
    pollfd q{fd, POLLIN, 0};
    if (::poll(&q, 1, 30'000) != 1) break;
    const ssize_t n = ::recv(fd, b, sizeof b, 0);
    if (n <= 0) break;
    answer.append(b, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

int64_t counter(const std::string& netns, const std::string& dev, const char* which) {
  auto r =
      run_command({"ip", "netns", "exec", netns, "cat", "/sys/class/net/" + dev + "/statistics/" + which}, seconds(10));
  return r && r->exit_code == 0 ? std::strtoll(r->out.c_str(), nullptr, 10) : -1;
}

// A bridge, pool and host-port range of the test's own (10.200-249.x.0/24, 41 free-looking ports).
struct TestNetwork {
  std::string bridge, pool, range;
};
TestNetwork random_test_network() {
  std::random_device rd;
  TestNetwork n;
  n.bridge = "xt" + rand_hex(8);
  n.pool = "10." + std::to_string(200 + rd() % 50) + "." + std::to_string(rd() % 256) + ".0/24";
  const uint16_t first = std::min<uint16_t>(free_tcp_port(), 65000);
  n.range = std::to_string(first) + "-" + std::to_string(first + 40);
  return n;
}

// One real `xop server` (runc) whose session network is `n`.
ProcessPlatformOptions one_runc_server_on(const TestNetwork& n) {
  ProcessPlatformOptions o;
  o.servers = 1;
  o.runtime = "runc";
  o.network_toml = [=](int) {
    return "enabled = true\nbridge = \"" + n.bridge + "\"\npool = \"" + n.pool + "\"\nport_range = \"" + n.range +
           "\"\n";
  };
  return o;
}

// A user home at `dir` with `user`'s key, pointed at the platform.
bool save_home(const std::string& dir, const KeyPair& user, const ProcessPlatform& p) {
  UserHome h(dir);
  return h.save_key(user).has_value() && h.save_config(UserConfig{p.corp_url(), p.xis_url()}).has_value();
}

TEST(SessionNetworkPlatformTest, ADeployedServiceIsReachedOnItsEndpointAcrossARestartAndReleasedOnStop) {
  if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  if (auto why = session_network_unavailable_reason(); !why.empty()) GTEST_SKIP() << "session network: " << why;
  const TestNetwork net = random_test_network();
  TempDir tmp;
  std::string netns;
  {
    ProcessPlatform p(one_runc_server_on(net));
    const std::string err = p.start();
    ASSERT_TRUE(err.empty()) << err;
    KeyPair user = p.new_user("net", 1000);
    const std::string home = tmp.file("home");
    ASSERT_TRUE(save_home(home, user, p));
    const std::string manifest = tmp.file("web.yaml");
    write_file(manifest, "name: web\nimage: " + std::string(XOP_BUILD_DIR) +
                             "/images/burner\ncommand: [/bin/sh, -c, \"mkdir -p /tmp/www && echo hello-from-platform "
                             "> /tmp/www/index.html && exec /bin/busybox httpd -f -p 8080 -h /tmp/www\"]\n"
                             "resources:\n  cpu_millis: 100\n  memory_mib: 32\n  pids: 16\ncount: 1\n"
                             "ports:\n  - {name: http, port: 8080}\nmax_price_per_hour: \"5.0\"\nbudget: \"1.0\"\n");
    std::string out;
    ASSERT_EQ(run_xop({"--home", home, "deploy", manifest}, tmp.file("deploy.log"), &out), 0) << out << p.logs();

    Json s = the_session(p.server_urls()[0], user);
    ASSERT_TRUE(s.contains("network")) << s.dump();
    const Json& ep = s["network"]["endpoints"][0];
    EXPECT_EQ(ep["name"], "http");
    EXPECT_EQ(ep["port"], 8080);
    const auto hp = ep["host_port"].get<uint16_t>();
    EXPECT_EQ(ep["endpoint"], "127.0.0.1:" + std::to_string(hp));
    netns = "/run/netns/xop-" + s["id"].get<std::string>();
    EXPECT_TRUE(fs::exists(netns));
    auto fetch = [&](std::chrono::milliseconds d) {
      return tcp_exchange("127.0.0.1", hp, "GET /index.html HTTP/1.0\r\n\r\n", d);
    };
    std::string got;
    EXPECT_TRUE(poll_until(
        [&] {
          got = fetch(std::chrono::seconds(2));
          return got.find("hello-from-platform") != std::string::npos;
        },
        seconds(30)))
        << got;

    // kill -9 of the server and a new one over its data directory: the session is re-adopted.
    const std::string restarted = p.restart_server(0);
    ASSERT_TRUE(restarted.empty()) << restarted;
    Json again = the_session(p.server_urls()[0], user);
    EXPECT_EQ(again.value("state", ""), "running");
    EXPECT_EQ(again["network"]["endpoints"][0]["host_port"], hp);
    const std::string after = fetch(std::chrono::seconds(10));
    EXPECT_NE(after.find("hello-from-platform"), std::string::npos) << after;
    std::printf("session %s on %s: endpoint %s answered before and after the server's restart\n",
                s["id"].get<std::string>().c_str(), net.bridge.c_str(), ep["endpoint"].get<std::string>().c_str());

    // `xop sessions` shows the endpoint; `xop stop` releases it.
    ASSERT_EQ(run_xop({"--home", home, "sessions"}, tmp.file("sessions.log"), &out), 0) << out;
    EXPECT_NE(out.find("endpoint: "), std::string::npos) << out;
    EXPECT_NE(out.find("127.0.0.1:" + std::to_string(hp)), std::string::npos) << out;
    ASSERT_EQ(run_xop({"--home", home, "stop", "--all"}, tmp.file("stop.log"), &out), 0) << out;
    Json stopped = the_session(p.server_urls()[0], user);
    EXPECT_FALSE(stopped.contains("network")) << stopped.dump();
    EXPECT_FALSE(fs::exists(netns));
    EXPECT_EQ(fetch(std::chrono::seconds(1)), "");
  }
  // The server shut down (SIGTERM) with no session left: its bridge and chains are gone.
  EXPECT_FALSE(fs::exists("/sys/class/net/" + net.bridge));
  auto chain =
      run_command({"iptables", "-w", "5", "-t", "nat", "-n", "-L", "XOP-" + net.bridge + "-DNAT"}, seconds(10));
  EXPECT_TRUE(chain && chain->exit_code != 0);
  // Backstop for a failed run: nothing of this test stays on the host.
  if (fs::exists("/sys/class/net/" + net.bridge)) (void)run_command({"ip", "link", "del", net.bridge}, seconds(10));
}

// Metering against ground truth: a deployed session sends exactly 8 MiB to a namespace the test
// made (the test counts what arrives there) and receives exactly 8 MiB from it through its
// published port (the session counts them, busybox wc -c). The usage records in the statement
// carry the session's net_bytes, within 2 % of the frames the outside namespace's own interface
// counted both ways, and at least the 16 MiB of payload plus at most 10 % of header overhead; each
// record's amount is the price sheet's formula, the network term included.
TEST(SessionNetworkPlatformTest, NetworkBytesAreMeteredAgainstGroundTruthAndCharged) {
  if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  if (auto why = session_network_unavailable_reason(); !why.empty()) GTEST_SKIP() << "session network: " << why;
  std::random_device rd;
  const TestNetwork net = random_test_network();
  const std::string world = "xtw-" + rand_hex(8);
  const std::string world_veth = "xw" + rand_hex(8);
  const std::string sub = "198.18." + std::to_string(rd() % 256);
  constexpr int64_t kBytes = 8 << 20;
  TempDir tmp;
  // The outside world: a namespace joined to the host by a veth pair, sub.2 inside.
  ASSERT_TRUE(cmd_ok({"ip", "netns", "add", world}));
  ASSERT_TRUE(cmd_ok({"ip", "link", "add", world_veth, "type", "veth", "peer", "name", "eth0", "netns", world}));
  ASSERT_TRUE(cmd_ok({"ip", "addr", "add", sub + ".1/30", "dev", world_veth}));
  ASSERT_TRUE(cmd_ok({"ip", "link", "set", world_veth, "up"}));
  ASSERT_TRUE(cmd_ok({"ip", "-n", world, "addr", "add", sub + ".2/30", "dev", "eth0"}));
  ASSERT_TRUE(cmd_ok({"ip", "-n", world, "link", "set", "eth0", "up"}));
  struct Cleanup {
    std::string world, veth;
    ~Cleanup() {
      (void)run_command({"ip", "netns", "del", world}, seconds(10));
      if (fs::exists("/sys/class/net/" + veth)) (void)run_command({"ip", "link", "del", veth}, seconds(10));
    }
  } cleanup{world, world_veth};
  {
    ProcessPlatform p(one_runc_server_on(net));
    const std::string err = p.start();
    ASSERT_TRUE(err.empty()) << err;
    KeyPair user = p.new_user("meter", 1000);
    const std::string home = tmp.file("home");
    ASSERT_TRUE(save_home(home, user, p));

    // The world's sink listens before the session starts sending.
    std::promise<int> listening;
    auto listening_f = listening.get_future();
    auto sunk = std::async(std::launch::async, [&] {
      int64_t got = -1;
      const bool joined = in_netns("/run/netns/" + world, [&] {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(9001);
        const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 4) == 0;
        listening.set_value(ok ? 1 : 0);
        if (ok) got = drain_one(fd, 120'000);
        ::close(fd);
      });
      if (!joined) listening.set_value(0);
      return got;
    });
    ASSERT_EQ(listening_f.get(), 1);
    const std::string manifest = tmp.file("meter.yaml");
    write_file(manifest, "name: meter\nimage: " + std::string(XOP_BUILD_DIR) +
                             "/images/burner\ncommand: [/bin/sh, -c, \"/bin/busybox nc -l -p 9000 -e /bin/busybox wc "
                             "-c & /bin/busybox dd if=/dev/zero bs=65536 count=" +
                             std::to_string(kBytes / 65536) + " 2>/dev/null | /bin/busybox nc " + sub +
                             ".2 9001; echo sent; wait; echo received; exec /bin/busybox sleep 3600\"]\n"
                             "resources:\n  cpu_millis: 250\n  memory_mib: 32\n  pids: 16\ncount: 1\n"
                             "ports:\n  - {name: sink, port: 9000}\nmax_price_per_hour: \"5.0\"\nbudget: \"1.0\"\n");
    std::string out;
    ASSERT_EQ(run_xop({"--home", home, "deploy", manifest}, tmp.file("deploy.log"), &out), 0) << out << p.logs();
    Json s = the_session(p.server_urls()[0], user);
    ASSERT_TRUE(s.contains("network")) << s.dump();
    const auto hp = s["network"]["endpoints"][0]["host_port"].get<uint16_t>();

    // Into the session: from the world to the host's address on its link, the published port.
    std::string answer;
    ASSERT_TRUE(in_netns("/run/netns/" + world, [&] { answer = send_all(sub + ".1", hp, kBytes); }));
    const int64_t world_received = sunk.get();
    EXPECT_EQ(std::strtoll(answer.c_str(), nullptr, 10), kBytes) << answer;  // the session's own count
    EXPECT_EQ(world_received, kBytes);                                       // the world's count
    // The world's interface: every frame of both transfers, counted outside the session's reach.
    const int64_t world_frames = counter(world, "eth0", "rx_bytes") + counter(world, "eth0", "tx_bytes");

    ASSERT_EQ(run_xop({"--home", home, "stop", "--all"}, tmp.file("stop.log"), &out), 0) << out;
    auto corp = CorpClient::connect(p.corp_url(), user);
    ASSERT_TRUE(corp);
    StatementView st;
    ASSERT_TRUE(poll_until(
        [&] {
          auto r = corp->statement(user.account_id());
          if (!r) return false;
          st = *r;
          return st.purchase_orders.size() == 1 && st.purchase_orders[0].state == "closed";
        },
        seconds(30)))
        << p.logs();
    const auto& po = st.purchase_orders[0];
    int64_t metered = 0;
    int64_t charged_net_term = 0;
    const Rates rates = ServerConfig{}.rates;  // the test servers' price sheet (no [rates] table)
    for (const auto& r : po.records) {
      metered += r.used.net_bytes;
      auto b = compute_charge(rates, r.reserved, r.used, r.period_end - r.period_start);
      ASSERT_TRUE(b) << b.error().message;
      EXPECT_EQ(r.amount, b->total.micros()) << "seq " << r.seq;
      charged_net_term += b->net_io;
    }
    const double truth = 2.0 * kBytes;
    std::printf(
        "net: payload %lld bytes both ways; world interface %lld bytes; metered %lld bytes (%+.2f %% of the "
        "payload, %+.2f %% of the world's frames) in %zu records; network charge %lld micros at %lld micros/GiB\n",
        static_cast<long long>(2 * kBytes), static_cast<long long>(world_frames), static_cast<long long>(metered),
        100.0 * (static_cast<double>(metered) / truth - 1), 100.0 * (static_cast<double>(metered) / world_frames - 1),
        po.records.size(), static_cast<long long>(charged_net_term), static_cast<long long>(rates.net_io_per_gib));
    EXPECT_GE(metered, 2 * kBytes);
    // Headers: at most 66 bytes per 1448-byte segment, and as much again for an ACK per segment.
    EXPECT_LE(static_cast<double>(metered), 1.10 * truth);
    EXPECT_NEAR(static_cast<double>(metered), static_cast<double>(world_frames), 0.02 * world_frames);
    EXPECT_GT(charged_net_term, 0);
    // Each record rounds its own term down: the sum is within one micro per record of the whole.
    // metered < 2^31 and the rate < 2^20 here: the product fits in 64 bits.
    const int64_t whole = (metered * rates.net_io_per_gib) >> 30;
    EXPECT_LE(charged_net_term, whole);
    EXPECT_GE(charged_net_term, whole - static_cast<int64_t>(po.records.size()));

    // `xop statement` shows the network bytes.
    ASSERT_EQ(run_xop({"--home", home, "statement"}, tmp.file("statement.log"), &out), 0) << out;
    EXPECT_NE(out.find("NET MiB"), std::string::npos) << out;
  }
  EXPECT_FALSE(fs::exists("/sys/class/net/" + net.bridge));
  if (fs::exists("/sys/class/net/" + net.bridge)) (void)run_command({"ip", "link", "del", net.bridge}, seconds(10));
}

}  // namespace
}  // namespace xop::testing
