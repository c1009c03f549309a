// `xop quote` as a user runs it: the real binary against an in-process XIS over loopback HTTP
// (port 0) holding real signed adverts. Checks the readable quote (servers, price for the
// duration, removals, the relaxation hint), --json, --query FILE, and usage errors.
#include <gtest/gtest.h>

#include "client/api_client.h"
#include "deploy/user_home.h"
#include "integration/run_xop.h"
#include "net/http_server.h"
#include "proto/xis_query.h"
#include "support/test_support.h"
#include "xis/xis_service.h"

namespace xop {
namespace {

using testing::run_xop;

class CliQuoteTest : public ::testing::Test {
 protected:
  CliQuoteTest()
      : clock_(SystemClock::instance().now_ms()),
        svc_(XisOptions{}, clock_),
        server_(HttpServerOptions{}, svc_.router()) {}
  void SetUp() override {
    ASSERT_TRUE(server_.start());
    ASSERT_TRUE(UserHome(HomeDirs::single(home_.path())).save_key(KeyPair::generate()).has_value());
    env_ = {{"XOP_HOME", home_.path()},
            {"XOP_CORP_URL", "http://127.0.0.1:1"},  // never called by quote
            {"XOP_XIS_URL", "http://127.0.0.1:" + std::to_string(server_.port())}};
    advertise("paris-1", {48'856'600, 2'352'200}, "FR", 400'000);
    advertise("paris-2", {48'860'000, 2'350'000}, "FR", 700'000);
    advertise("london-1", {51'507'400, -127'800}, "GB", 300'000);
    advertise("tokyo-1", {35'676'200, 139'650'300}, "JP", 1'500'000);
  }
  void TearDown() override { server_.stop(); }

  void advertise(const std::string& name, GeoPoint where, const std::string& country, int64_t per_core_hour) {
    const auto k = KeyPair::generate();
    Rates rates;
    rates.cpu_reserve_per_core_hour = per_core_hour;
    Advert a;
    a.server = k.account_id();
    a.name = name;
    a.endpoint = "http://" + name + ".test:7000";
    a.city = name;
    a.location = where;
    a.capacity = a.free = Resources{4000, int64_t{8} << 30, 0, 0};
    a.price_sheet = *SignedDoc::sign(kPriceSheetType, to_json(PriceSheet{a.server, clock_.now_ms(), rates}), k);
    a.sandboxes = {"runc"};
    a.issued_at = clock_.now_ms();
    a.ttl_ms = 3'600'000;
    a.country = country;
    ASSERT_TRUE(svc_.accept(*SignedDoc::sign(kAdvertType, to_json(a), k)).has_value());
  }

  SimulatedClock clock_;
  XisService svc_;
  HttpServer server_;
  testing::TempDir home_;
  std::map<std::string, std::string> env_;
};

TEST_F(CliQuoteTest, PrintsServersPricesRemovalsAndTheRelaxation) {
  // Two cores for 10 hours in France or Britain under 1.00/h: paris-1 (0.80/h) and london-1 (0.60/h).
  auto r = run_xop({"quote", "--cpu", "2", "--memory", "1GiB", "--max-price", "1.00", "--country", "FR,GB", "--count",
                    "2", "--hours", "10"},
                   env_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 servers for 10 h: 14.00 credits in all"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("london-1"), r.out.find("paris-1")) << r.out;  // cheapest first
  EXPECT_NE(r.out.find("6.00"), std::string::npos) << r.out;          // london-1 for 10 h
  EXPECT_NE(r.out.find("4 live servers considered, 2 matched"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("price 1.40/h above 1.00/h"), std::string::npos) << r.out;  // paris-2
  EXPECT_NE(r.out.find("country JP not listed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Smallest change"), std::string::npos) << r.out;

  // Too strict: the hint says exactly what would do.
  r = run_xop({"quote", "--cpu", "1", "--max-price", "0.10", "--count", "2"}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("No server matches."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Smallest change: raise the price ceiling to 0.40/h (2 would match)"), std::string::npos)
      << r.out;

  // Near Paris within 50 km: distance ranking.
  r = run_xop({"quote", "--near", "48.8566,2.3522", "--within-km", "50", "--count", "3"}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 servers for 1 h"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("paris-1"), r.out.find("paris-2")) << r.out;
}

TEST_F(CliQuoteTest, JsonAndQueryFile) {
  auto r = run_xop({"--json", "quote", "--country", "JP"}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = parse_json(r.out);
  ASSERT_TRUE(j.has_value()) << r.out;
  auto q = quote_from_json(*j);
  ASSERT_TRUE(q.has_value()) << q.error().message;
  ASSERT_EQ(q->chosen.size(), 1u);
  EXPECT_EQ(q->chosen[0].advert.name, "tokyo-1");

  const std::string file = home_.file("q.json");
  testing::write_file(file, R"({"count": 3, "rank": "distance", "near": {"lat_e6": 51507400, "lon_e6": -127800},
      "where": {"not": {"country": "JP"}}, "spread": {"max_per_country": 1}})");
  r = run_xop({"quote", "--query", file}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 servers"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("london-1"), r.out.find("paris-1")) << r.out;
  EXPECT_NE(r.out.find("1 refused by a spread constraint"), std::string::npos) << r.out;

  testing::write_file(file, R"({"where": {"sandbx": "runc"}})");
  r = run_xop({"quote", "--query", file}, env_);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.err.find("query.where.sandbx: unknown predicate"), std::string::npos) << r.err;
}

// `xop search` keeps its flags and table but asks the same engine: bounded removal summaries.
TEST_F(CliQuoteTest, SearchUsesTheSameEngine) {
  auto r = run_xop({"search", "--cpu-millis", "1000", "--max-price", "0.50", "--count", "2"}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.out.find("london-1"), r.out.find("paris-1")) << r.out;  // 0.30/h, 0.40/h
  EXPECT_EQ(r.out.find("tokyo-1  "), std::string::npos) << r.out;     // only as an example below
  EXPECT_NE(r.out.find("not chosen: 2 removed by where.all[1] {\"max_price_per_hour_micros\":500000}"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("e.g. paris-2: price 0.70/h above 0.50/h"), std::string::npos) << r.out;
  r = run_xop({"--json", "search", "--near", "48.8566,2.3522", "--count", "1"}, env_);
  ASSERT_EQ(r.code, 0) << r.err;
  auto q = quote_from_json(*parse_json(r.out));
  ASSERT_TRUE(q.has_value()) << r.out;
  ASSERT_EQ(q->chosen.size(), 1u);
  EXPECT_EQ(q->chosen[0].advert.name, "paris-1");
  EXPECT_EQ(q->ranked_out, 3);
  EXPECT_EQ(run_xop({"search", "--count", "101"}, env_).code, 2);
}

TEST_F(CliQuoteTest, UsageErrors) {
  for (const auto& bad : std::vector<std::vector<std::string>>{{"quote", "--within-ms", "10"},
                                                               {"quote", "--within-km", "10"},
                                                               {"quote", "--country", "France"},
                                                               {"quote", "--cpu", "lots"},
                                                               {"quote", "--count", "0"},
                                                               {"quote", "--hours", "0"},
                                                               {"quote", "--rank", "speed"},
                                                               {"quote", "--rank", "distance"},
                                                               {"quote", "--query", "/nonexistent/q.json"},
                                                               {"quote", "--query", "-", "--cpu", "1"}}) {
    auto r = run_xop(bad, env_);
    EXPECT_EQ(r.code, 2) << bad[1] << " " << bad[2] << ": " << r.err;
  }
}

}  // namespace
}  // namespace xop
