// `xop server --check` as an operator runs it: the host's runtimes, cgroups, disks and network,
// detected on this machine, with an exit code a provisioning script can test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "core/file_util.h"
#include "core/json_reader.h"
#include "integration/run_xop.h"
#include "server/net_probe.h"
#include "server/session_network.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

TEST(ServerCheckTest, ReportsEveryCheckAndItsVerdictInTextAndJson) {
  auto r = run_xop({"--json", "server", "--check"});
  auto j = parse_json(r.out);
  ASSERT_TRUE(j) << r.out << r.err;
  ASSERT_TRUE((*j)["checks"].is_array());
  std::map<std::string, Json> by_name;
  for (const auto& c : (*j)["checks"]) by_name[c.value("name", "")] = c;
  for (const char* n :
       {"root", "cgroups", "runtime runc", "runtime crun", "runtime in use", "session network", "pidfd"}) {
    EXPECT_TRUE(by_name.contains(n)) << n << "\n" << r.out;
  }
  const bool ready = (*j).value("ready", false);
  EXPECT_EQ(r.code, ready ? 0 : 1) << r.err;
  // As root with runc installed (this machine and CI), the default config is ready and picks a
  // runtime that works here.
  if (::geteuid() == 0 && !find_program("runc").empty()) {
    EXPECT_TRUE(ready) << r.out;
    const std::string rt = (*j).value("runtime", "");
    EXPECT_TRUE(rt == "runc" || rt == "crun") << rt;
    EXPECT_TRUE(by_name["runtime " + rt].value("ok", false)) << by_name["runtime " + rt].dump();
  }
  auto text = run_xop({"server", "--check"});
  EXPECT_EQ(text.code, r.code);
  EXPECT_NE(text.out.find("runtime in use"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(ready ? "ready:" : "NOT READY"), std::string::npos) << text.out;
}

TEST(ServerCheckTest, BadInputIsAUsageErrorOrNamesTheConfigProblem) {
  auto bad = run_xop({"server", "--check", "--runtime", "dockr"});
  EXPECT_EQ(bad.code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("must be auto, runc, crun or mock"), std::string::npos) << bad.err;
  TempDir t;
  const std::string cfg = t.file("server.toml");
  write_file(cfg, "data_dir = \"" + t.file("d") + "\"\nruntim = \"runc\"\n");
  auto unknown = run_xop({"server", "--check", "--config", cfg});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("runtim"), std::string::npos) << unknown.err;
  auto mock = run_xop({"--json", "server", "--check", "--runtime", "mock"});
  EXPECT_EQ(mock.code, 0) << mock.out << mock.err;
  auto mj = parse_json(mock.out);
  ASSERT_TRUE(mj) << mock.out;
  EXPECT_EQ(mj->value("runtime", ""), "mock");
}

// The session network part: a deny list that does not parse and a pool that clashes with the
// host's own addresses would make the server refuse to start; a free bridge, pool and range are
// fine. Only reads (a claim file under /run/xop at most).
TEST(ServerCheckTest, ReportsTheNetworkAndRefusesAClashingPoolOrABadDenyList) {
  TempDir t;
  auto item = [](const std::string& out, const std::string& name) {
    auto j = parse_json(out);
    if (j) {
      for (const auto& c : (*j)["checks"]) {
        if (c.value("name", "") == name) return c;
      }
    }
    ADD_FAILURE() << "no " << name << " in " << out;
    return Json::object();
  };
  auto mock = run_xop({"--json", "server", "--check", "--runtime", "mock", "--data-dir", t.file("data")});
  EXPECT_EQ(mock.code, 0) << mock.out << mock.err;
  EXPECT_NE(item(mock.out, "session network").value("detail", "").find("not with the mock runtime"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(t.file("data"))) << "nothing started, nothing written";

  auto bad = run_xop({"--json", "server", "--check", "--runtime", "runc", "--network-deny", "10.0.0.0/8,nonsense"});
  EXPECT_EQ(bad.code, 1) << bad.out << bad.err;
  EXPECT_NE(item(bad.out, "session network").value("detail", "").find("network.deny: 'nonsense'"), std::string::npos)
      << bad.out;

  const std::string why = session_network_unavailable_reason();
  auto clash = run_xop({"--json", "server", "--check", "--runtime", "runc", "--network-pool", "127.0.0.0/8"});
  if (!why.empty()) {
    EXPECT_NE(item(clash.out, "session network").value("detail", "").find(why), std::string::npos) << clash.out;
    return;
  }
  EXPECT_EQ(clash.code, 1) << clash.out << clash.err;
  EXPECT_NE(item(clash.out, "session network")
                .value("detail", "")
                .find("REFUSED: network.pool 127.0.0.0/8 holds 127.0.0.1/8 of interface lo"),
            std::string::npos)
      << clash.out;
  auto fine = run_xop({"--json", "server", "--check", "--runtime", "runc", "--network-bridge", "xt" + rand_hex(8),
                       "--network-pool", "10.251." + std::to_string(std::random_device{}() % 256) + ".0/24",
                       "--network-port-range", "64000-64009"});
  const std::string d = item(fine.out, "session network").value("detail", "");
  EXPECT_NE(d.find("(created at start), pool 10.251."), std::string::npos) << fine.out << fine.err;
  EXPECT_NE(d.find("reserved bandwidth both ways"), std::string::npos) << d;
}

}  // namespace
}  // namespace xop::testing
