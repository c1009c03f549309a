// `xop server --check`: what this host gives the configured server, without starting it. Runs the
// real binary; changes nothing on the host (a claim file under /run/xop at most).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "crypto/keys.h"
#include "integration/run_xop.h"
#include "server/net_probe.h"
#include "server/session_network.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

std::vector<std::string> check_args(const TempDir& t, std::vector<std::string> more) {
  std::vector<std::string> a = {"server",     "--check",
                                "--data-dir", t.file("data"),
                                "--corp-url", "http://127.0.0.1:1",
                                "--owner",    KeyPair::generate().account_id()};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

TEST(ServerCheckTest, ReportsTheHostAndTheNetworkAndRefusesAClashingPool) {
  TempDir t;
  // The mock runtime: nothing of the host is needed, and it says so.
  auto mock = run_xop(check_args(t, {"--runtime", "mock"}));
  EXPECT_EQ(mock.code, 0) << mock.out << mock.err;
  EXPECT_NE(mock.out.find("runtime      mock"), std::string::npos) << mock.out;
  EXPECT_NE(mock.out.find("network      not with the mock runtime"), std::string::npos) << mock.out;
  EXPECT_NE(mock.out.find("the server would start"), std::string::npos) << mock.out;
  EXPECT_FALSE(std::filesystem::exists(t.file("data")));  // nothing started, nothing written

  // A bad deny list is a configuration error.
  auto bad = run_xop(check_args(t, {"--network-deny", "10.0.0.0/8,nonsense"}));
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("server.network.deny: 'nonsense'"), std::string::npos) << bad.err;

  auto why = session_network_unavailable_reason();
  // A pool holding the host's loopback address clashes with interface lo: refused (as root), or
  // the network is reported unavailable, not fatal.
  auto clash = run_xop(check_args(t, {"--runtime", "runc", "--network-pool", "127.0.0.0/8"}));
  if (why.empty()) {
    EXPECT_EQ(clash.code, 1) << clash.out << clash.err;
    EXPECT_NE(clash.out.find("network      REFUSED: network.pool 127.0.0.0/8 holds 127.0.0.1/8 of interface lo"),
              std::string::npos)
        << clash.out;
    EXPECT_NE(clash.out.find("the server would NOT start"), std::string::npos) << clash.out;
    auto fine = run_xop(check_args(t, {"--runtime", "runc", "--network-bridge", "xt" + rand_hex(8), "--network-pool",
                                       "10.251." + std::to_string(std::random_device{}() % 256) + ".0/24",
                                       "--network-port-range", "64000-64009"}));
    EXPECT_NE(fine.out.find("network      ok: bridge xt"), std::string::npos) << fine.out << fine.err;
    EXPECT_NE(fine.out.find("(created at start), pool 10.251."), std::string::npos) << fine.out;
    EXPECT_NE(fine.out.find("reserved bandwidth both ways"), std::string::npos) << fine.out;
  } else {
    EXPECT_NE(clash.out.find("session network unavailable: " + why), std::string::npos) << clash.out;
  }
}

}  // namespace
}  // namespace xop::testing
