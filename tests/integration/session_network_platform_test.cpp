// Published ports through the whole platform with real processes and real runc: `xop deploy` of a
// manifest with `ports:` onto an `xop server` with a session network of the test's own; the
// server's session answer lists the endpoint, the host reaches busybox httpd there, across a
// kill -9 and restart of the server (re-adopted from its state store), and `xop stop` releases it.
// Root only; skipped with the reason otherwise.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <random>

#include "client/api_client.h"
#include "deploy/user_home.h"
#include "integration/process_platform.h"
#include "server/net_probe.h"
#include "server/sandbox_process.h"
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

TEST(SessionNetworkPlatformTest, ADeployedServiceIsReachedOnItsEndpointAcrossARestartAndReleasedOnStop) {
  if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  if (auto why = session_network_unavailable_reason(); !why.empty()) GTEST_SKIP() << "session network: " << why;
  std::random_device rd;
  const std::string bridge = "xt" + rand_hex(8);
  const std::string pool = "10." + std::to_string(200 + rd() % 50) + "." + std::to_string(rd() % 256) + ".0/24";
  const uint16_t first = std::min<uint16_t>(free_tcp_port(), 65000);
  const std::string range = std::to_string(first) + "-" + std::to_string(first + 40);
  TempDir tmp;
  std::string netns;
  {
    ProcessPlatformOptions o;
    o.servers = 1;
    o.runtime = "runc";
    o.network_toml = [=](int) {
      return "enabled = true\nbridge = \"" + bridge + "\"\npool = \"" + pool + "\"\nport_range = \"" + range + "\"\n";
    };
    ProcessPlatform p(o);
    const std::string err = p.start();
    ASSERT_TRUE(err.empty()) << err;
    KeyPair user = p.new_user("net", 1000);
    const std::string home = tmp.file("home");
    UserHome h(home);
    ASSERT_TRUE(h.save_key(user).has_value());
    ASSERT_TRUE(h.save_config(UserConfig{p.corp_url(), p.xis_url()}).has_value());
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
                s["id"].get<std::string>().c_str(), bridge.c_str(), ep["endpoint"].get<std::string>().c_str());

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
  EXPECT_FALSE(fs::exists("/sys/class/net/" + bridge));
  auto chain = run_command({"iptables", "-w", "5", "-t", "nat", "-n", "-L", "XOP-" + bridge + "-DNAT"}, seconds(10));
  EXPECT_TRUE(chain && chain->exit_code != 0);
  // Backstop for a failed run: nothing of this test stays on the host.
  if (fs::exists("/sys/class/net/" + bridge)) (void)run_command({"ip", "link", "del", bridge}, seconds(10));
}

}  // namespace
}  // namespace xop::testing
