// The "done when", with real processes and real runc: `xop dev` gives each of its three
// servers a session network of its own (bridge xopdN, pool 10.89.N.0/24, distinct host ports); a
// user deploys the HTTP echo service of examples/echo.yaml (busybox httpd and a CGI script) onto
// the three, reaches each one from the host on its published endpoint, and finds its network bytes
// in the usage records and in `xop statement`. A second `xop dev` (another profile) is refused
// while the first holds the bridges; at exit (SIGTERM, as Ctrl-C) the bridges and chains are gone.
// Root only; skipped with the reason otherwise, and when another `xop dev` holds xopd1..3.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <set>

#include "core/file_lock.h"
#include "core/json_reader.h"
#include "integration/run_xop.h"
#include "server/net_probe.h"
#include "server/sandbox_process.h"
#include "server/session_network.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

Json json_of(const XopRun& r) {
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto j = parse_json(r.out);
  EXPECT_TRUE(j) << r.out << r.err;
  return j ? *j : Json::object();
}

// Why the dev bridges cannot be used now ("" when they can).
std::string dev_bridges_busy() {
  for (int n = 1; n <= 3; ++n) {
    const std::string lock = "/run/xop/bridge-xopd" + std::to_string(n) + ".lock";
    if (!fs::exists(lock)) continue;
    auto l = FileLock::try_acquire(lock, FileLock::Mode::kShared);
    if (l && !l->has_value()) return "another `xop dev` holds bridge xopd" + std::to_string(n);
  }
  return "";
}

TEST(DevNetworkTest, AnEchoServiceOnThreeDevServersIsReachedOnItsEndpointsAndItsNetworkBytesAreCharged) {
  if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  if (auto why = session_network_unavailable_reason(); !why.empty()) GTEST_SKIP() << "session network: " << why;
  if (auto why = dev_bridges_busy(); !why.empty()) GTEST_SKIP() << why;
  TempDir t;
  const std::string home = t.file("home");
  ChildProcess dev({XOP_BINARY, "--home", home, "dev", "--servers", "3", "--data-dir", t.file("platform"),
                    "--port-file", t.file("corp.url"), "--charging-interval-ms", "500"},
                   t.file("dev.log"));
  ASSERT_TRUE(poll_until([&] { return !read_file(t.file("corp.url")).empty() || !dev.running(); }, seconds(60)))
      << dev.log();
  ASSERT_TRUE(dev.running()) << dev.log();
  EXPECT_NE(dev.log().find("session network: server N gets bridge xopdN"), std::string::npos) << dev.log();
  for (int n = 1; n <= 3; ++n) EXPECT_TRUE(fs::exists("/sys/class/net/xopd" + std::to_string(n))) << n;

  // A second platform on this host may not take the same bridges: refused, naming the bridge.
  auto second = run_xop({"--home", home, "--profile", "other", "dev", "--servers", "1", "--data-dir",
                         t.file("platform2"), "--port-file", t.file("corp2.url")});
  EXPECT_EQ(second.code, 1) << second.out << second.err;
  EXPECT_NE(second.err.find("network.bridge xopd1 is used by another live server"), std::string::npos)
      << second.out << second.err;

  ASSERT_EQ(run_xop({"--home", home, "account", "create", "--name", "echo-user"}).code, 0);
  ASSERT_EQ(run_xop({"--home", home, "account", "fund", "10"}).code, 0);
  // The example manifest, with the image of this build.
  std::string manifest = read_file(std::string(XOP_SOURCE_DIR) + "/examples/echo.yaml");
  const std::string image_line = "image: ../build/images/burner";
  ASSERT_NE(manifest.find(image_line), std::string::npos);
  manifest.replace(manifest.find(image_line), image_line.size(),
                   "image: " + std::string(XOP_BUILD_DIR) + "/images/burner");
  write_file(t.file("echo.yaml"), manifest);
  auto deployed = run_xop({"--home", home, "deploy", t.file("echo.yaml")});
  ASSERT_EQ(deployed.code, 0) << deployed.out << deployed.err << dev.log();

  const Json listing = json_of(run_xop({"--home", home, "sessions", "--json"}));
  ASSERT_EQ(listing["sessions"].size(), 3u) << listing.dump();
  std::set<std::string> endpoints;
  std::set<std::string> servers;
  for (const auto& s : listing["sessions"]) {
    ASSERT_TRUE(s.contains("network")) << s.dump();
    const Json& ep = s["network"]["endpoints"][0];
    const std::string endpoint = ep.value("endpoint", "");
    const auto hp = ep.value("host_port", 0);
    EXPECT_EQ(endpoint, "127.0.0.1:" + std::to_string(hp));
    endpoints.insert(endpoint);
    servers.insert(s.value("server", ""));
    // The service answers on its endpoint from the host.
    const std::string want = "echo: from-host-" + std::to_string(hp);
    std::string got;
    EXPECT_TRUE(poll_until(
        [&] {
          got = tcp_exchange("127.0.0.1", static_cast<uint16_t>(hp),
                             "GET /cgi-bin/echo?from-host-" + std::to_string(hp) + " HTTP/1.0\r\n\r\n", seconds(2));
          return got.find(want) != std::string::npos;
        },
        seconds(30)))
        << endpoint << ": " << got << "\n"
        << dev.log();
    std::printf("%s on %s: %s answered \"%s\"\n", s.value("id", "").c_str(), s.value("server_name", "").c_str(),
                endpoint.c_str(), want.c_str());
  }
  EXPECT_EQ(endpoints.size(), 3u);  // three servers, three endpoints
  EXPECT_EQ(servers.size(), 3u);

  ASSERT_EQ(run_xop({"--home", home, "stop", "--all"}).code, 0);
  // Every PO settled: each has usage records with network bytes, charged.
  Json st;
  ASSERT_TRUE(poll_until(
      [&] {
        auto r = run_xop({"--home", home, "statement", "--json"});
        if (r.code != 0) return false;
        auto j = parse_json(r.out);
        if (!j) return false;
        st = (*j)["statement"];
        const Json pos = st.value("purchase_orders", Json::array());
        if (pos.size() != 3) return false;
        for (const auto& po : pos) {
          if (po.value("state", "") != "closed") return false;
        }
        return true;
      },
      seconds(30)))
      << st.dump() << dev.log();
  for (const auto& po : st["purchase_orders"]) {
    int64_t net = 0;
    for (const auto& rec : po["records"]) net += rec["used"].value("net_bytes", int64_t{0});
    // At least the request and the answer of the echo (the HTTP exchange above is some 200 bytes).
    EXPECT_GT(net, 200) << po.dump();
    EXPECT_GT(po.value("charged_micros", int64_t{0}), 0) << po.dump();
  }
  auto text = run_xop({"--home", home, "statement", "--records"});
  EXPECT_EQ(text.code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("NET MiB"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" B  claimed"), std::string::npos) << text.out;

  // Ctrl-C: the platform stops, its bridges and chains go.
  const int code = dev.stop();
  EXPECT_TRUE(WIFEXITED(code) && WEXITSTATUS(code) == 0) << code << dev.log();
  for (int n = 1; n <= 3; ++n) {
    const std::string br = "xopd" + std::to_string(n);
    EXPECT_FALSE(fs::exists("/sys/class/net/" + br)) << br;
    auto chain = run_command({"iptables", "-w", "5", "-t", "nat", "-n", "-L", "XOP-" + br + "-DNAT"}, seconds(10));
    EXPECT_TRUE(chain && chain->exit_code != 0) << br;
  }
}

}  // namespace
}  // namespace xop::testing
