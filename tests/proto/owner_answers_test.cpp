// The strict decoders of the answers the CLI's owner and session verbs read: earnings
// (proto/earnings.h), an account's purchase orders (proto/po_list.h) and a server's status
// (proto/server_status.h). Well-formed answers round-trip; malformed, hostile and oversized ones
// are kInvalidArgument naming the field, never an exception.
#include <gtest/gtest.h>

#include "proto/earnings.h"
#include "proto/po_list.h"
#include "proto/server_status.h"

namespace xop {
namespace {

void expect_refused(const Result<EarningsView>& r, const std::string& field, const Json& input) {
  ASSERT_FALSE(r) << input.dump();
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << input.dump();
  EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
}

EarningsView sample_earnings() {
  return EarningsView{
      "u1", "u1", 86'400'000,
      30,   10,   {ServerEarningsView{"s1", "alpha", 20, 10, 2}, ServerEarningsView{"s2", "beta", 10, 0, 1}}};
}

TEST(EarningsAnswer, RoundTripsWithTheWireNames) {
  const Json j = to_json(sample_earnings());
  EXPECT_EQ(
      j.dump(),
      R"({"account":"u1","day_start":86400000,"owner":"u1","servers":[{"name":"alpha","server":"s1",)"
      R"("settlements":2,"today_micros":10,"total_micros":20},{"name":"beta","server":"s2","settlements":1,"today_micros":0,)"
      R"("total_micros":10}],"today_micros":10,"total_micros":30})");
  auto d = decode_earnings(j);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(to_json(*d), j);
  ASSERT_EQ(d->servers.size(), 2u);
  EXPECT_EQ(d->servers[1].name, "beta");
}

TEST(EarningsAnswer, MalformedAnswersNameTheField) {
  const Json good = to_json(sample_earnings());
  Json j = good;
  j["total_micros"] = "30";  // wrong type
  expect_refused(decode_earnings(j), "earnings.total", j);
  j = good;
  j["servers"][1]["today_micros"] = -5;  // a negative amount
  expect_refused(decode_earnings(j), "earnings.servers[1].today", j);
  j = good;
  j["servers"][0].erase("settlements");  // missing
  expect_refused(decode_earnings(j), "earnings.servers[0].settlements", j);
  j = good;
  j["servers"][0]["bonus"] = 1;  // unknown
  expect_refused(decode_earnings(j), "bonus", j);
  j = good;
  j["servers"][0]["name"] = std::string(100'000, 'x');  // oversized text
  expect_refused(decode_earnings(j), "earnings.servers[0].name", j);
  j = good;
  j["servers"] = Json::object();
  expect_refused(decode_earnings(j), "earnings.servers", j);
  j = good;
  j["total_micros"] = 1e300;  // a huge float is not an amount
  expect_refused(decode_earnings(j), "earnings.total", j);
  for (const Json& bad : {Json::array(), Json("x"), Json(nullptr), Json::object()}) {
    auto r = decode_earnings(bad);
    ASSERT_FALSE(r) << bad.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(EarningsAnswer, TooManyServersAreRefused) {
  EarningsView e = sample_earnings();
  Json j = to_json(e);
  j["servers"] = Json::array();
  for (size_t i = 0; i <= kMaxEarningsServers; ++i) j["servers"].push_back(Json(nullptr));
  expect_refused(decode_earnings(j), "earnings.servers", j.dump().substr(0, 64));
}

TEST(PoListAnswer, DecodesAndChecksEachItem) {
  const std::vector<PoStatusView> pos = {PoStatusView{"po1", "u", "s", 10, 3, 7, "open", false},
                                         PoStatusView{"po2", "u", "s", 10, 10, 0, "closing", true}};
  const Json j = po_list_answer_json(pos);
  auto d = decode_po_list_answer(j);
  ASSERT_TRUE(d) << d.error().to_string();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[1].state, "closing");
  EXPECT_EQ(po_list_answer_json(*d), j);
  EXPECT_TRUE(decode_po_list_answer(Json{{"purchase_orders", Json::array()}}));

  Json bad = j;
  bad["purchase_orders"][1]["state"] = "refunded";  // not a PoStatus name
  auto r = decode_po_list_answer(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("po_list.purchase_orders[1].state"), std::string::npos) << r.error().message;
  bad = j;
  bad["purchase_orders"][0]["charged"] = -1;
  r = decode_po_list_answer(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("po_list.purchase_orders[0]"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("charged"), std::string::npos) << r.error().message;
  bad = j;
  bad["next"] = "cursor";
  r = decode_po_list_answer(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("next"), std::string::npos) << r.error().message;
  for (const Json& hostile :
       {Json{{"purchase_orders", "all"}}, Json{{"purchase_orders", Json::array({1})}}, Json::array(), Json(nullptr)}) {
    EXPECT_FALSE(decode_po_list_answer(hostile)) << hostile.dump();
  }
}

ServerStatusView sample_status() {
  ServerStatusView s;
  s.server = "s1";
  s.name = "alpha";
  s.owner = "u1";
  s.now = 5000;
  s.registration = ServerRegistrationStatus{"http://corp", true, 1000};
  s.corp = CorpDeliveryStatus{false, 3, "refused"};
  s.advert = AdvertStatus{"http://xis", "accepted", 4000, 1000, 60'000, 10'000, true, ""};
  s.capacity = Resources{4000, 1 << 30, 0, 0};
  s.in_use = Resources{1000, 1 << 28, 0, 0};
  s.free = Resources{3000, 3 << 28, 0, 0};
  s.sessions.push_back(HostedSession{"x1", "u2", "running", 2000, 0, 17});
  return s;
}

TEST(ServerStatusAnswer, RoundTrips) {
  const Json j = to_json(sample_status());
  EXPECT_EQ(j["registration"]["registered_at"], 1000);
  EXPECT_EQ(j["advert"]["age_ms"], 1000);
  EXPECT_EQ(j["sessions"][0]["claimed_micros"], 17);
  auto d = decode_server_status(j);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(to_json(*d), j);
  EXPECT_EQ(d->corp.delivery_failures, 3);
  EXPECT_EQ(d->capacity.cpu_millis, 4000);
  // An advert never accepted reports age -1.
  Json never = j;
  never["advert"]["age_ms"] = -1;
  EXPECT_TRUE(decode_server_status(never));
}

TEST(ServerStatusAnswer, MalformedAnswersNameTheNestedField) {
  const Json good = to_json(sample_status());
  struct Case {
    Json j;
    std::string field;
  };
  std::vector<Case> cases;
  Json j = good;
  j["registration"]["registered"] = "yes";
  cases.push_back({j, "server_status.registration.registered"});
  j = good;
  j["advert"]["age_ms"] = -2;
  cases.push_back({j, "server_status.advert.age_ms"});
  j = good;
  j["capacity"]["cpu_millis"] = -1;
  cases.push_back({j, "server_status.capacity.cpu_millis"});
  j = good;
  j["sessions"][0]["claimed_micros"] = "17";
  cases.push_back({j, "server_status.sessions[0].claimed"});
  j = good;
  j["corp"].erase("reachable");
  cases.push_back({j, "server_status.corp.reachable"});
  j = good;
  j["advert"]["state"] = std::string(1000, 'a');
  cases.push_back({j, "server_status.advert.state"});
  j = good;
  j["extra"] = Json::object();
  cases.push_back({j, "extra"});
  j = good;
  j["sessions"] = "none";
  cases.push_back({j, "server_status.sessions"});
  j = good;
  j.erase("free");
  cases.push_back({j, "server_status.free"});
  for (const auto& c : cases) {
    auto r = decode_server_status(c.j);
    ASSERT_FALSE(r) << c.field;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.field;
    EXPECT_NE(r.error().message.find(c.field), std::string::npos) << r.error().message;
  }
  for (const Json& hostile : {Json::array(), Json(1), Json(nullptr)}) {
    EXPECT_FALSE(decode_server_status(hostile)) << hostile.dump();
  }
}

}  // namespace
}  // namespace xop
