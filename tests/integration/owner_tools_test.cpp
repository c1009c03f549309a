// The owner's tools against separate processes (mock sandbox, no root): `xop server status` shows
// registration, advert, capacity in use, the sessions hosted with their users and the earnings;
// `xop earnings` shows what each server earned; neither shows anything to a stranger.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"
#include "deploy/deployer.h"
#include "deploy/user_home.h"
#include "integration/process_platform.h"
#include "integration/run_xop.h"
#include "proto/owner_consent.h"

namespace xop::testing {
namespace {

class OwnerToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_ = std::make_unique<ProcessPlatform>(ProcessPlatformOptions{.servers = 1, .runtime = "mock"});
    const std::string err = platform_->start();
    ASSERT_TRUE(err.empty()) << err;
    ASSERT_EQ(platform_->server_urls().size(), 1u);
  }

  // A home for `key` pointed at the platform; returns its directory.
  std::string home_for(const KeyPair& key, const std::string& name) {
    const std::string dir = platform_->dir().file("home-" + name);
    UserHome home(dir);
    EXPECT_TRUE(home.save_key(key));
    EXPECT_TRUE(home.save_config(UserConfig{platform_->corp_url(), platform_->xis_url()}));
    return dir;
  }

  Json run_json(const std::string& home, const std::vector<std::string>& args, int expect_code = 0) {
    std::vector<std::string> full = {"--json", "--home", home};
    full.insert(full.end(), args.begin(), args.end());
    auto r = run_xop(full);
    EXPECT_EQ(r.code, expect_code) << r.out << r.err;
    auto j = parse_json(r.out);
    return j ? *j : Json::object();
  }

  std::unique_ptr<ProcessPlatform> platform_;
};

// Starts one session of `user` on the platform's server; returns its id ("" on failure).
std::string deploy_session(ProcessPlatform& p, const KeyPair& user) {
  DeployManifest m;
  m.name = "burner";
  m.image = std::string(XOP_BUILD_DIR) + "/images/burner";
  m.command = {"/bin/sh", "-c", "sleep 1000"};
  m.resources.cpu_millis = 500;
  m.resources.memory_bytes = 64LL << 20;
  m.count = 1;
  m.budget = Money::micros(5'000'000);
  Deployer d(user, p.corp_url(), p.xis_url(), p.dir().file("scratch-" + user.account_id()));
  auto deployed = d.deploy(m, nullptr);
  EXPECT_TRUE(deployed) << deployed.error().message;
  if (!deployed || deployed->outcomes.size() != 1) return "";
  EXPECT_TRUE(deployed->outcomes[0].ok) << deployed->outcomes[0].error << p.logs();
  return deployed->outcomes[0].ok ? deployed->outcomes[0].session : "";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(OwnerToolsTest, ANewServerWithoutItsOwnersConsentIsRefusedUntilTheOwnerSignsOne) {
  const KeyPair server_key = KeyPair::generate();
  const std::string data_dir = platform_->dir().file("new-server");
  std::filesystem::create_directories(data_dir);
  ASSERT_TRUE(save_key_file(server_key, data_dir + "/server.key"));
  const std::string config = platform_->dir().file("new-server.toml");
  write_file(config, "name = \"xs-new\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"" + data_dir + "\"\ncorp_url = \"" +
                         platform_->corp_url() + "\"\nowner = \"" + platform_->owner().account_id() +
                         "\"\nruntime = \"mock\"\n");
  // No consent: the server does not start, and says what the owner must run.
  auto refused = run_xop({"server", "--config", config});
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("xop server consent " + server_key.account_id()), std::string::npos) << refused.err;

  const std::string owner_home = home_for(platform_->owner(), "owner");
  // A mistyped id is a usage error, and writes nothing.
  const std::string file = data_dir + "/owner-consent.json";
  auto typo = run_xop({"--home", owner_home, "server", "consent", server_key.account_id().substr(1), "--out", file});
  EXPECT_EQ(typo.code, 2) << typo.err;
  EXPECT_FALSE(std::filesystem::exists(file));
  // The owner's consent, written where the server reads it, is the owner's signature for this server.
  auto signed_ = run_xop({"--home", owner_home, "server", "consent", server_key.account_id(), "--out", file});
  ASSERT_EQ(signed_.code, 0) << signed_.err;
  auto text = read_file_capped(file, 65536);
  ASSERT_TRUE(text);
  auto json = parse_json(*text);
  ASSERT_TRUE(json);
  auto doc = SignedDoc::from_json(*json, kOwnerConsentType);
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_TRUE(verify_owner_consent(*doc, platform_->owner().public_key(), server_key.account_id()));
  // The corp takes it: the server's key registers naming the owner.
  auto corp = ApiClient::connect(platform_->corp_url(), server_key);
  ASSERT_TRUE(corp);
  auto reg = corp->call("POST", "/v1/accounts",
                        Json{{"kind", "server"},
                             {"name", "xs-new"},
                             {"owner", platform_->owner().account_id()},
                             {"owner_consent", *json}});
  ASSERT_TRUE(reg) << reg.error().to_string();
  EXPECT_EQ((*reg)["account"]["owner"], platform_->owner().account_id());
}

TEST_F(OwnerToolsTest, StatusAndEarningsShowTheOwnersServerAndNothingToStrangers) {
  const KeyPair user = platform_->new_user("alice", 10);
  const std::string session = deploy_session(*platform_, user);
  ASSERT_FALSE(session.empty());

  const std::string owner_home = home_for(platform_->owner(), "owner");
  const std::string url = platform_->server_urls()[0];
  // Wait until the corp settled some usage for the server (the charging interval is 1 s).
  Json earnings;
  ASSERT_TRUE(poll_until(
      [&] {
        earnings = run_json(owner_home, {"earnings"});
        return earnings.value("total_micros", int64_t{0}) > 0;
      },
      std::chrono::seconds(30)))
      << earnings.dump() << platform_->logs();
  ASSERT_EQ(earnings["servers"].size(), 1u);
  EXPECT_EQ(earnings["servers"][0]["name"], "xs-0");

  const Json st = run_json(owner_home, {"server", "status", url});
  EXPECT_EQ(st.value("owner", ""), platform_->owner().account_id());
  EXPECT_TRUE(st["registration"].value("registered", false)) << st.dump();
  EXPECT_EQ(st["advert"].value("state", ""), "accepted") << st.dump();
  EXPECT_TRUE(st["advert"].value("fresh", false)) << st.dump();
  EXPECT_TRUE(st["corp"].value("reachable", false)) << st.dump();
  EXPECT_EQ(st["in_use"].value("cpu_millis", int64_t{0}), 500) << st.dump();
  ASSERT_EQ(st["sessions"].size(), 1u) << st.dump();
  EXPECT_EQ(st["sessions"][0]["user"], user.account_id());
  EXPECT_EQ(st["sessions"][0]["id"], session);
  EXPECT_GT(st["earnings"].value("total_micros", int64_t{0}), 0) << st.dump();

  // By identity: its id (a prefix) or its name, resolved through its signed advert at XIS.
  const std::string id = st.value("server", "");
  ASSERT_EQ(id.size(), 41u);
  EXPECT_EQ(run_json(owner_home, {"server", "status", id.substr(0, 10)}).value("server", ""), id);
  EXPECT_EQ(run_json(owner_home, {"server", "status", "xs-0"}).value("server", ""), id);
  auto nobody = run_xop({"--home", owner_home, "server", "status", "xs-nobody"});
  EXPECT_NE(nobody.code, 0);
  EXPECT_NE(nobody.err.find("no live advert"), std::string::npos) << nobody.err;

  // People read the same in a table: the user's short id, the earnings line.
  auto text = run_xop({"--home", owner_home, "server", "status", url});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find(user.account_id().substr(0, 12)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1 session(s) hosted"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("in total"), std::string::npos) << text.out;

  // A stranger (the user who deployed there) sees neither the status nor the owner's earnings.
  const std::string stranger_home = home_for(user, "alice");
  auto denied = run_xop({"--home", stranger_home, "server", "status", url});
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("owner only"), std::string::npos) << denied.err;
  EXPECT_EQ(denied.out.find(user.account_id().substr(0, 12)), std::string::npos) << denied.out;
  const Json theirs = run_json(stranger_home, {"earnings"});
  EXPECT_EQ(theirs["servers"].size(), 0u) << theirs.dump();
  EXPECT_EQ(theirs.value("total_micros", int64_t{-1}), 0);
}

TEST_F(OwnerToolsTest, TheOwnerEvictsASessionItsUserPaysUpToThenAndNobodyElseCan) {
  const KeyPair user = platform_->new_user("alice", 10);
  const std::string session = deploy_session(*platform_, user);
  ASSERT_FALSE(session.empty());
  const std::string url = platform_->server_urls()[0];
  const std::string owner_home = home_for(platform_->owner(), "owner");
  const KeyPair stranger = platform_->new_user("mallory", 1);
  const std::string stranger_home = home_for(stranger, "mallory");

  // A stranger cannot evict (nor learn that the session exists); a typo names nothing.
  auto denied = run_xop({"--home", stranger_home, "server", "evict", session.substr(0, 10), "--server", url});
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("owner only"), std::string::npos) << denied.err;
  auto server = ApiClient::connect(url, stranger);
  auto direct = server->call("DELETE", "/v1/sessions/" + session);
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().code, ErrorCode::kNotFound) << direct.error().message;
  auto typo = run_xop({"--home", owner_home, "server", "evict", "snosuchsession", "--server", url});
  EXPECT_NE(typo.code, 0);
  EXPECT_NE(typo.err.find("hosts no session"), std::string::npos) << typo.err;
  auto none = run_xop({"--home", owner_home, "server", "evict"});
  EXPECT_EQ(none.code, 2) << none.err;

  // The owner evicts it by a prefix of its id.
  const Json ev = run_json(owner_home, {"server", "evict", session.substr(0, 10), "--server", url});
  EXPECT_EQ(ev.value("id", ""), session) << ev.dump();
  EXPECT_EQ(ev.value("state", ""), "stopped") << ev.dump();
  EXPECT_EQ(ev.value("exit_reason", ""), "evicted") << ev.dump();
  EXPECT_NE(ev.value("reason", "").find("evicted by the server's owner"), std::string::npos) << ev.dump();

  // The user sees why, and pays exactly what the server claimed up to the eviction.
  auto mine = ApiClient::connect(url, user)->call("GET", "/v1/sessions/" + session);
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ((*mine)["session"].value("exit_reason", ""), "evicted");
  const std::string po = (*mine)["session"].value("po_id", "");
  const int64_t claimed = (*mine)["session"].value("claimed_micros", int64_t{-1});
  auto corp = ApiClient::connect(platform_->corp_url(), user);
  Json p;
  ASSERT_TRUE(poll_until(
      [&] {
        auto r = corp->call("GET", "/v1/purchase-orders/" + po);
        if (r) p = *r;
        return r && r->value("state", "") == "closed";
      },
      std::chrono::seconds(30)))
      << p.dump() << platform_->logs();
  EXPECT_EQ(p.value("charged_micros", int64_t{-1}), claimed) << p.dump();
  auto check = ApiClient::connect(platform_->corp_url(), platform_->admin())->call("GET", "/v1/ledger/check");
  ASSERT_TRUE(check) << check.error().message;
  EXPECT_TRUE(check->value("balanced", false)) << check->dump();
}

// The user's statement per session, server and day agrees with the plain statement, as a table,
// JSON and CSV; conflicting or unknown choices are usage errors.
TEST_F(OwnerToolsTest, StatementSumsPerSessionServerAndDayAgreeWithThePlainStatement) {
  const KeyPair user = platform_->new_user("alice", 10);
  const std::string session = deploy_session(*platform_, user);
  ASSERT_FALSE(session.empty());
  const std::string home = home_for(user, "alice");
  Json plain;
  ASSERT_TRUE(poll_until(
      [&] {
        plain = run_json(home, {"statement"});
        const Json pos = plain["statement"].value("purchase_orders", Json::array());
        return !pos.empty() && pos[0].value("records", Json::array()).size() >= 2;
      },
      std::chrono::seconds(30)))
      << plain.dump();
  // Stop it so that no record arrives between the calls below.
  auto stop = run_xop({"--home", home, "stop", session.substr(0, 12)});
  ASSERT_EQ(stop.code, 0) << stop.out << stop.err;
  auto corp = ApiClient::connect(platform_->corp_url(), user);
  const std::string po = plain["statement"]["purchase_orders"][0].value("po_id", "");
  ASSERT_TRUE(poll_until(
      [&] {
        auto r = corp->call("GET", "/v1/purchase-orders/" + po);
        return r && r->value("state", "") == "closed";
      },
      std::chrono::seconds(30)));
  plain = run_json(home, {"statement"});
  int64_t records = 0;
  int64_t charged = 0;
  for (const auto& p : plain["statement"]["purchase_orders"]) {
    for (const auto& r : p["records"]) {
      ++records;
      charged += r.value("charged_micros", int64_t{0});
    }
  }
  ASSERT_GT(records, 0);
  for (const char* by : {"session", "server", "day"}) {
    const Json sums = run_json(home, {"statement", "--by", by});
    ASSERT_EQ(sums.value("by", ""), by) << sums.dump();
    int64_t n = 0;
    int64_t c = 0;
    for (const auto& r : sums["rows"]) {
      n += r.value("records", int64_t{0});
      c += r.value("charged_micros", int64_t{0});
    }
    EXPECT_EQ(n, records) << by;
    EXPECT_EQ(c, charged) << by;
  }
  const Json by_session = run_json(home, {"statement", "--by", "session"});
  ASSERT_EQ(by_session["rows"].size(), 1u);
  EXPECT_EQ(by_session["rows"][0].value("session", ""), session);

  auto csv = run_xop({"--home", home, "statement", "--csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("po_id,server,session,seq,", 0), 0u) << csv.out;
  size_t lines = 0;
  for (size_t at = 0; (at = csv.out.find("\r\n", at)) != std::string::npos; at += 2) ++lines;
  EXPECT_EQ(lines, static_cast<size_t>(records) + 1) << csv.out;
  auto day_csv = run_xop({"--home", home, "statement", "--by", "day", "--csv"});
  ASSERT_EQ(day_csv.code, 0) << day_csv.err;
  EXPECT_EQ(day_csv.out.rfind("day,records,", 0), 0u) << day_csv.out;
  auto table = run_xop({"--home", home, "statement", "--by", "server"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("total charged"), std::string::npos) << table.out;

  // The owner's earnings in CSV: one line for the one server, with what this user was charged.
  const std::string owner_home = home_for(platform_->owner(), "owner");
  auto earn = run_xop({"--home", owner_home, "earnings", "--csv"});
  ASSERT_EQ(earn.code, 0) << earn.err;
  EXPECT_EQ(earn.out.rfind("server,name,settlements,today_micros,total_micros,", 0), 0u) << earn.out;
  EXPECT_NE(earn.out.find(",xs-0,"), std::string::npos) << earn.out;
  EXPECT_NE(earn.out.find("," + std::to_string(charged) + ","), std::string::npos) << earn.out;
  EXPECT_EQ(run_xop({"--json", "--home", owner_home, "earnings", "--csv"}).code, 2);

  EXPECT_EQ(run_xop({"--home", home, "statement", "--by", "week"}).code, 2);
  EXPECT_EQ(run_xop({"--json", "--home", home, "statement", "--csv"}).code, 2);
  EXPECT_EQ(run_xop({"--home", home, "statement", "--csv", "--records"}).code, 2);
}

// A corp that is down is logged once when the server's deliveries start failing (then at doubling
// intervals, the first after 10 s), not every round, and once when it answers again.
TEST_F(OwnerToolsTest, ADownCorpIsLoggedOnceNotEveryRoundAndOnceWhenBack) {
  const KeyPair user = platform_->new_user("alice", 10);
  ASSERT_FALSE(deploy_session(*platform_, user).empty());
  auto server = ApiClient::connect(platform_->server_urls()[0], platform_->owner());
  ASSERT_TRUE(server) << server.error().message;
  auto corp_state = [&] {
    auto s = server->call("GET", "/v1/status");
    return s ? s->value("corp", Json::object()) : Json::object();
  };
  const std::string line = "server: corp unreachable";
  ASSERT_EQ(count(platform_->logs(), line), 0u);

  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(platform_->kill_corp(), "");
  // Several delivery rounds fail (the server tries every 200 ms, with a record due every second).
  Json c;
  ASSERT_TRUE(poll_until(
      [&] {
        c = corp_state();
        return c.value("delivery_failures", int64_t{0}) >= 5;
      },
      std::chrono::seconds(30)))
      << c.dump() << platform_->logs();
  EXPECT_FALSE(c.value("reachable", true));
  ASSERT_EQ(platform_->restart_corp(), "");
  ASSERT_TRUE(poll_until([&] { return count(platform_->logs(), "server: corp reachable again") == 1; },
                         std::chrono::seconds(30)))
      << platform_->logs();
  const auto outage = std::chrono::steady_clock::now() - t0;
  // Within the first 10 s of an outage exactly one line; a longer one may add one per doubling.
  const size_t lines = count(platform_->logs(), line);
  EXPECT_GE(lines, 1u);
  if (outage < std::chrono::seconds(10)) {
    EXPECT_EQ(lines, 1u) << platform_->logs();
  }
  EXPECT_LT(static_cast<int64_t>(lines), c.value("delivery_failures", int64_t{0})) << platform_->logs();
  EXPECT_TRUE(corp_state().value("reachable", false));
}

}  // namespace
}  // namespace xop::testing
