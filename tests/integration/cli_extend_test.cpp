// Credit control as a user meets it, on a platform of real processes and real runc containers: a
// session on a tiny purchase order runs dry and is frozen (STATUS "frozen: top up", no CPU), `xop
// extend PREFIX AMOUNT` pays the arrears and tops the PO up, and the session runs again.
#include <gtest/gtest.h>

#include "core/json_reader.h"
#include "crypto/keys.h"
#include "integration/process_platform.h"
#include "integration/run_xop.h"

namespace xop::testing {
namespace {

class CliExtendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    ProcessPlatformOptions opts;
    opts.servers = 1;
    opts.freeze_grace_ms = 120'000;
    platform_ = std::make_unique<ProcessPlatform>(opts);
    ASSERT_EQ(platform_->start(), "");
    const KeyPair user = platform_->new_user("cli", 20);
    ASSERT_TRUE(save_key_file(user, home_.file("key.json")));
    env_ = {{"XOP_HOME", home_.path()}, {"XOP_CORP_URL", platform_->corp_url()}, {"XOP_XIS_URL", platform_->xis_url()}};
  }

  // The one session of the --json listing.
  Json only_session() {
    auto r = run_xop({"sessions", "--json"}, env_);
    auto j = parse_json(r.out);
    if (r.code != 0 || !j) return Json::object();
    const Json list = j->value("sessions", Json::array());
    return list.size() == 1 ? list[0] : Json::object();
  }

  TempDir home_;
  std::unique_ptr<ProcessPlatform> platform_;
  std::map<std::string, std::string> env_;
};

TEST_F(CliExtendTest, ADrySessionIsFrozenAndExtendResumesIt) {
  // 100 micro-credits: a few seconds of a tenth of a core at the default prices.
  const std::string path = home_.file("dry.yaml");
  write_file(path, "name: dry\nimage: " + std::string(XOP_BUILD_DIR) +
                       "/images/burner\ncommand: [\"/bin/sh\", \"-c\", \"while :; do :; done\"]\n"
                       "resources: {cpu_millis: 100, memory: 32MiB}\ncount: 1\nbudget: \"0.0001\"\n");
  auto r = run_xop({"deploy", path}, env_);
  ASSERT_EQ(r.code, 0) << r.out << r.err << platform_->logs();

  Json s;
  ASSERT_TRUE(poll_until(
      [&] {
        s = only_session();
        return s.value("status", "") == "frozen: top up";
      },
      std::chrono::seconds(60)))
      << s.dump() << platform_->logs();
  EXPECT_EQ(s.value("state", ""), "frozen");
  EXPECT_GT(s.value("frozen_until", int64_t{0}), 0);
  const std::string id = s.value("id", "");
  const std::string po_id = s.value("po_id", "");
  r = run_xop({"sessions"}, env_);
  EXPECT_NE(r.out.find("frozen: top up"), std::string::npos) << r.out;

  // Frozen for real: once a sample after the freeze was taken (the first one still counts what ran
  // between the round's sample and the freeze), the metered CPU stands still for a second of
  // samples (200 ms apart).
  auto wait = [](std::chrono::milliseconds d) {
    const auto t0 = std::chrono::steady_clock::now();
    return poll_until([&] { return std::chrono::steady_clock::now() - t0 >= d; }, d + std::chrono::seconds(5));
  };
  ASSERT_TRUE(wait(std::chrono::milliseconds(500)));
  const int64_t cpu0 = only_session().value("usage", Json::object()).value("cpu_ns", int64_t{-1});
  ASSERT_TRUE(wait(std::chrono::milliseconds(1000)));
  s = only_session();
  ASSERT_EQ(s.value("state", ""), "frozen");
  EXPECT_EQ(s.value("usage", Json::object()).value("cpu_ns", int64_t{-2}), cpu0);

  // Bad amounts are usage errors; an unknown id is not found.
  EXPECT_EQ(run_xop({"extend", id.substr(0, 8), "0"}, env_).code, 2);
  EXPECT_EQ(run_xop({"extend", id.substr(0, 8), "lots"}, env_).code, 2);
  EXPECT_EQ(run_xop({"extend", "szzzz", "0.01"}, env_).code, 1);

  // Extend through the session's prefix: the arrears are paid first, the rest is held.
  r = run_xop({"extend", id.substr(0, 8), "0.01", "--json"}, env_);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto ext = parse_json(r.out);
  ASSERT_TRUE(ext) << r.out;
  EXPECT_EQ((*ext)["purchase_order"].value("po_id", ""), po_id);
  const int64_t arrears = ext->value("arrears_paid_micros", int64_t{-1});
  EXPECT_GT(arrears, 0) << "the frozen session's reservation was owed";
  EXPECT_EQ((*ext)["purchase_order"].value("remaining_micros", int64_t{-1}), 10'000 - arrears);
  EXPECT_FALSE((*ext)["purchase_order"].value("exhausted", true));

  // The next usage round thaws it: it runs and burns again.
  ASSERT_TRUE(poll_until(
      [&] {
        s = only_session();
        return s.value("state", "") == "running" &&
               s.value("usage", Json::object()).value("cpu_ns", int64_t{0}) > cpu0 + 50'000'000;
      },
      std::chrono::seconds(20)))
      << s.dump() << platform_->logs();
  EXPECT_EQ(s.value("frozen_until", int64_t{-1}), 0);

  // The PO prefix works too, in words.
  r = run_xop({"extend", po_id.substr(0, 10), "0.01"}, env_);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("extended " + po_id), std::string::npos) << r.out;

  r = run_xop({"stop", id.substr(0, 8)}, env_);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto check = ApiClient::connect(platform_->corp_url(), platform_->admin())->call("GET", "/v1/ledger/check");
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_TRUE(check->value("balanced", false)) << check->dump();
}

}  // namespace
}  // namespace xop::testing
