// JSON round trips and every validation branch of the signed protocol documents.
#include <gtest/gtest.h>

#include <functional>

#include "fixtures.h"
#include "proto/charge.h"
#include "proto/search.h"

namespace xop {
namespace {

using testing::sample_advert;
using testing::sample_po;
using testing::sample_record;
using testing::sample_spec;
using testing::signed_price_sheet;

void expect_invalid(const Result<PriceSheet>& r, const std::string& needle = "") {
  ASSERT_FALSE(r.has_value());
  if (!needle.empty()) {
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
}

// ---------------------------------------------------------------- price sheet

TEST(PriceSheetTest, RoundTripAndVerify) {
  const auto server = KeyPair::generate();
  const PriceSheet p{server.account_id(), 123, testing::sample_rates()};
  auto back = price_sheet_from_json(to_json(p));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, p);
  auto doc = SignedDoc::sign(kPriceSheetType, to_json(p), server);
  auto v = verify_price_sheet(*doc);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, p);
  auto rt = SignedDoc::from_json(doc->to_json(), kPriceSheetType);
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(*verify_price_sheet(*rt), p);
}

TEST(PriceSheetTest, RefusesSignerOtherThanTheServerItNames) {
  const auto server = KeyPair::generate();
  const auto other = KeyPair::generate();
  const auto doc = testing::signed_price_sheet(other, 1, {}, server.account_id());
  auto v = verify_price_sheet(doc);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kUnauthenticated);
}

TEST(PriceSheetTest, RefusesWrongTypeAndBadSignature) {
  const auto server = KeyPair::generate();
  auto doc = *SignedDoc::sign("advert", to_json(PriceSheet{server.account_id(), 1, {}}), server);
  EXPECT_FALSE(verify_price_sheet(doc).has_value());
  auto good = signed_price_sheet(server);
  good.body["issued_at"] = 2;
  EXPECT_FALSE(verify_price_sheet(good).has_value());
}

TEST(PriceSheetTest, ValidationBranches) {
  const auto server = KeyPair::generate();
  const Json good = to_json(PriceSheet{server.account_id(), 1, testing::sample_rates()});
  auto with = [&](const std::function<void(Json&)>& f) {
    Json j = good;
    f(j);
    return price_sheet_from_json(j);
  };
  expect_invalid(with([](Json& j) { j["server"] = "a123"; }), "not an account id");
  expect_invalid(with([](Json& j) { j["server"] = std::string(65, 'a'); }));
  expect_invalid(with([](Json& j) { j["issued_at"] = -1; }));
  expect_invalid(with([](Json& j) { j.erase("rates"); }), "rates: missing");
  expect_invalid(with([](Json& j) { j["rates"] = 5; }));
  expect_invalid(with([](Json& j) { j["rates"]["cpu_use_per_core_hour_micros"] = -1; }), "price_sheet.rates.cpu_use");
  expect_invalid(with([](Json& j) { j["rates"]["net_io_per_gib_micros"] = kMaxRate + 1; }));
  expect_invalid(with([](Json& j) { j["rates"]["disk_io_per_gib_micros"] = 0.5; }));
  expect_invalid(with([](Json& j) { j["rates"].erase("disk_io_per_gib_micros"); }), "disk_io_per_gib_micros: missing");
  expect_invalid(with([](Json& j) { j["rates"]["gpu_per_hour"] = 1; }), "unknown field");
  expect_invalid(with([](Json& j) { j["extra"] = 1; }), "unknown field");
  EXPECT_FALSE(price_sheet_from_json(Json::array()).has_value());
  EXPECT_TRUE(with([](Json&) {}).has_value());
}

// ---------------------------------------------------------------- purchase order

class PurchaseOrderTest : public ::testing::Test {
 protected:
  KeyPair corp_ = KeyPair::generate();
  KeyPair user_ = KeyPair::generate();
  KeyPair server_ = KeyPair::generate();
  PurchaseOrder po_ = sample_po(user_, server_);

  Result<PurchaseOrder> parse_with(const std::function<void(Json&)>& f) {
    Json j = to_json(po_);
    f(j);
    return purchase_order_from_json(j);
  }
};

TEST_F(PurchaseOrderTest, RoundTripAndVerify) {
  auto back = purchase_order_from_json(to_json(po_));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->po_id, po_.po_id);
  EXPECT_EQ(back->user, po_.user);
  EXPECT_EQ(back->server, po_.server);
  EXPECT_EQ(back->max_amount, po_.max_amount);
  EXPECT_EQ(back->issued_at, po_.issued_at);
  EXPECT_EQ(back->expires_at, po_.expires_at);
  EXPECT_EQ(back->price_sheet.digest(), po_.price_sheet.digest());
  auto doc = SignedDoc::sign(kPurchaseOrderType, to_json(po_), corp_);
  auto v = verify_purchase_order(*doc, corp_.public_key());
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->po_id, po_.po_id);
}

TEST_F(PurchaseOrderTest, RefusesPoNotSignedByTheCorp) {
  auto doc = SignedDoc::sign(kPurchaseOrderType, to_json(po_), user_);
  auto v = verify_purchase_order(*doc, corp_.public_key());
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kUnauthenticated);
  // Claiming the corp as signer with the user's signature fails the signature check.
  doc->signer = corp_.public_key();
  EXPECT_FALSE(verify_purchase_order(*doc, corp_.public_key()).has_value());
}

TEST_F(PurchaseOrderTest, RefusesTamperedPoAndWrongType) {
  auto doc = *SignedDoc::sign(kPurchaseOrderType, to_json(po_), corp_);
  doc.body["max_amount_micros"] = 999'999'999;
  EXPECT_FALSE(verify_purchase_order(doc, corp_.public_key()).has_value());
  auto other = *SignedDoc::sign(kPriceSheetType, to_json(po_), corp_);
  EXPECT_FALSE(verify_purchase_order(other, corp_.public_key()).has_value());
}

TEST_F(PurchaseOrderTest, ValidationBranches) {
  auto refused = [&](const std::function<void(Json&)>& f, const std::string& needle) {
    auto r = parse_with(f);
    ASSERT_FALSE(r.has_value()) << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  refused([](Json& j) { j["po_id"] = "po123"; }, "po_id: malformed");
  refused([](Json& j) { j["po_id"] = "px" + std::string(32, '1'); }, "po_id: malformed");
  refused([](Json& j) { j["po_id"] = "po" + std::string(32, 'A'); }, "po_id: malformed");
  refused([](Json& j) { j["user"] = "nobody"; }, "malformed account id");
  refused([](Json& j) { j["server"] = "a" + std::string(40, 'z'); }, "malformed account id");
  refused([](Json& j) { j["max_amount_micros"] = 0; }, "max_amount");
  refused([](Json& j) { j["max_amount_micros"] = -5; }, "max_amount");
  refused([](Json& j) { j["max_amount_micros"] = "5"; }, "max_amount");
  refused([&](Json& j) { j["expires_at"] = po_.issued_at; }, "expires before it is issued");
  refused([&](Json& j) { j["expires_at"] = po_.issued_at - 1; }, "expires before it is issued");
  refused([](Json& j) { j["issued_at"] = -1; }, "issued_at");
  refused([](Json& j) { j.erase("price_sheet"); }, "price_sheet: missing");
  refused([](Json& j) { j["bonus"] = 1; }, "unknown field");
  refused([](Json& j) { j["price_sheet"]["body"]["issued_at"] = 5; }, "signature does not verify");
  refused([](Json& j) { j["price_sheet"]["type"] = "advert"; }, "expected a signed price_sheet");
}

TEST_F(PurchaseOrderTest, RefusesPriceSheetOfAnotherServer) {
  const auto other = KeyPair::generate();
  auto r = parse_with([&](Json& j) { j["price_sheet"] = signed_price_sheet(other).to_json(); });
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("another server"), std::string::npos);
}

TEST_F(PurchaseOrderTest, RefusesPriceSheetSignedByOtherThanItsServer) {
  // A sheet naming the PO's server, but signed by someone else.
  const auto forged = testing::signed_price_sheet(user_, 1, {}, server_.account_id());
  auto r = parse_with([&](Json& j) { j["price_sheet"] = forged.to_json(); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
}

TEST(PoIdTest, Format) {
  EXPECT_TRUE(is_po_id("po" + std::string(32, 'f')));
  EXPECT_FALSE(is_po_id("po" + std::string(31, 'f')));
  EXPECT_FALSE(is_po_id("po" + std::string(33, 'f')));
  EXPECT_FALSE(is_po_id(""));
  EXPECT_TRUE(is_po_id(random_id("po")));
}

// ---------------------------------------------------------------- usage records and batches

TEST(UsageRecordTest, RoundTrip) {
  auto r = sample_record(3);
  r.final = true;
  auto back = usage_record_from_json(to_json(r), "rec");
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, r);
}

TEST(UsageRecordTest, ValidationBranches) {
  auto refused = [](const std::function<void(Json&)>& f, const std::string& needle) {
    Json j = to_json(sample_record(1));
    f(j);
    auto r = usage_record_from_json(j, "rec");
    ASSERT_FALSE(r.has_value()) << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  refused([](Json& j) { j["session"] = "s123"; }, "rec.session: malformed");
  refused([](Json& j) { j["session"] = "x" + std::string(32, 'b'); }, "rec.session: malformed");
  refused([](Json& j) { j["po_id"] = "po"; }, "rec.po_id: malformed");
  refused([](Json& j) { j["seq"] = 0; }, "rec.seq");
  refused([](Json& j) { j["seq"] = -1; }, "rec.seq");
  refused([](Json& j) { j["seq"] = INT64_MAX; }, "rec.seq");
  refused([](Json& j) { j["period_end"] = j["period_start"].get<int64_t>() - 1; }, "period out of range");
  refused([](Json& j) { j["period_end"] = j["period_start"].get<int64_t>() + kMaxPeriodMs + 1; },
          "period out of range");
  refused([](Json& j) { j["period_start"] = -1; }, "rec.period_start");
  refused([](Json& j) { j["amount_micros"] = -1; }, "rec.amount_micros");
  refused([](Json& j) { j["final"] = 1; }, "rec.final");
  refused([](Json& j) { j.erase("final"); }, "rec.final: missing");
  refused([](Json& j) { j["reserved"]["cpu_millis"] = -1; }, "rec.reserved.cpu_millis");
  refused([](Json& j) { j["used"].erase("cpu_ns"); }, "rec.used.cpu_ns: missing");
  refused([](Json& j) { j["used"]["gpu_ns"] = 1; }, "rec.used.gpu_ns: unknown field");
  refused([](Json& j) { j["note"] = "x"; }, "rec.note: unknown field");
  // The boundary values are fine.
  Json j = to_json(sample_record(1));
  j["period_end"] = j["period_start"].get<int64_t>() + kMaxPeriodMs;
  EXPECT_TRUE(usage_record_from_json(j, "rec").has_value());
  j["period_end"] = j["period_start"];
  EXPECT_TRUE(usage_record_from_json(j, "rec").has_value());
}

TEST(UsageBatchTest, RoundTripAndVerify) {
  const auto server = KeyPair::generate();
  UsageBatch b{server.account_id(), 1'700'000'100'000, {}};
  for (int i = 1; i <= 100; ++i) b.records.push_back(sample_record(i));
  auto doc = SignedDoc::sign(kUsageBatchType, to_json(b), server);
  auto wire = parse_json(doc->to_json().dump());
  ASSERT_TRUE(wire.has_value());
  auto parsed = SignedDoc::from_json(*wire, kUsageBatchType);
  ASSERT_TRUE(parsed.has_value());
  auto v = verify_usage_batch(*parsed);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->server, b.server);
  EXPECT_EQ(v->sent_at, b.sent_at);
  EXPECT_EQ(v->records, b.records);
}

TEST(UsageBatchTest, RefusesSignerOtherThanTheServer) {
  const auto server = KeyPair::generate();
  UsageBatch b{server.account_id(), 1, {sample_record(1)}};
  auto doc = SignedDoc::sign(kUsageBatchType, to_json(b), KeyPair::generate());
  auto v = verify_usage_batch(*doc);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kUnauthenticated);
  auto wrong_type = SignedDoc::sign("advert", to_json(b), server);
  EXPECT_FALSE(verify_usage_batch(*wrong_type).has_value());
}

TEST(UsageBatchTest, ValidationBranches) {
  const auto server = KeyPair::generate();
  UsageBatch b{server.account_id(), 1, {sample_record(1)}};
  auto refused = [&](const std::function<void(Json&)>& f, const std::string& needle) {
    Json j = to_json(b);
    f(j);
    auto r = usage_batch_from_json(j);
    ASSERT_FALSE(r.has_value()) << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  refused([](Json& j) { j["server"] = "s"; }, "not an account id");
  refused([](Json& j) { j["records"] = Json::object(); }, "expected an array");
  refused([](Json& j) { j["sent_at"] = -3; }, "sent_at");
  {
    Json heartbeat = to_json(b);  // an empty batch is a heartbeat (corp/expiry.h)
    heartbeat["records"] = Json::array();
    EXPECT_TRUE(usage_batch_from_json(heartbeat).has_value());
  }
  refused([](Json& j) { j["records"][0]["seq"] = 0; }, "usage_batch.records[0].seq");
  refused([](Json& j) { j["records"].push_back(5); }, "usage_batch.records[1]: expected an object");
  refused(
      [](Json& j) {
        Json many = Json::array();
        for (size_t i = 0; i <= kMaxRecordsPerBatch; ++i) many.push_back(to_json(sample_record(1)));
        j["records"] = many;
      },
      "more than 1000 items");
  refused([](Json& j) { j["x"] = 1; }, "unknown field");
}

TEST(SessionIdTest, Format) {
  EXPECT_TRUE(is_session_id(random_id("s")));
  EXPECT_FALSE(is_session_id(random_id("x")));
  EXPECT_FALSE(is_session_id("s" + std::string(31, '0')));
  EXPECT_FALSE(is_session_id("s" + std::string(32, 'G')));
}

// ---------------------------------------------------------------- adverts

class AdvertTest : public ::testing::Test {
 protected:
  KeyPair server_ = KeyPair::generate();
  Advert advert_ = sample_advert(server_);

  Result<Advert> parse_with(const std::function<void(Json&)>& f) {
    Json j = to_json(advert_);
    f(j);
    return advert_from_json(j);
  }
};

TEST_F(AdvertTest, RoundTripAndVerify) {
  auto back = advert_from_json(to_json(advert_));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->server, advert_.server);
  EXPECT_EQ(back->name, advert_.name);
  EXPECT_EQ(back->endpoint, advert_.endpoint);
  EXPECT_EQ(back->city, advert_.city);
  EXPECT_EQ(back->location, advert_.location);
  EXPECT_EQ(back->capacity, advert_.capacity);
  EXPECT_EQ(back->free, advert_.free);
  EXPECT_EQ(back->sandboxes, advert_.sandboxes);
  EXPECT_EQ(back->images, advert_.images);
  EXPECT_EQ(back->issued_at, advert_.issued_at);
  EXPECT_EQ(back->ttl_ms, advert_.ttl_ms);
  EXPECT_EQ(back->price_sheet.digest(), advert_.price_sheet.digest());
  auto doc = SignedDoc::sign(kAdvertType, to_json(advert_), server_);
  auto v = verify_advert(*doc);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->name, "cam-1");
}

TEST_F(AdvertTest, RefusesAdvertSignedByAnotherKey) {
  auto doc = SignedDoc::sign(kAdvertType, to_json(advert_), KeyPair::generate());
  auto v = verify_advert(*doc);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kUnauthenticated);
  auto wrong = SignedDoc::sign(kPriceSheetType, to_json(advert_), server_);
  EXPECT_FALSE(verify_advert(*wrong).has_value());
  auto tampered = *SignedDoc::sign(kAdvertType, to_json(advert_), server_);
  tampered.body["free"]["cpu_millis"] = 999'999;
  EXPECT_FALSE(verify_advert(tampered).has_value());
}

TEST_F(AdvertTest, RefusesPriceSheetOfAnotherServer) {
  const auto other = KeyPair::generate();
  advert_.price_sheet = signed_price_sheet(other);
  auto doc = SignedDoc::sign(kAdvertType, to_json(advert_), server_);
  auto v = verify_advert(*doc);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("another server"), std::string::npos);
}

TEST_F(AdvertTest, ValidationBranches) {
  auto refused = [&](const std::function<void(Json&)>& f, const std::string& needle) {
    auto r = parse_with(f);
    ASSERT_FALSE(r.has_value()) << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  refused([](Json& j) { j["server"] = "bad"; }, "advert.server: not an account id");
  refused([](Json& j) { j["endpoint"] = "ftp://x:1"; }, "http://");
  refused([](Json& j) { j["endpoint"] = "http://host"; }, "host:port");
  refused([](Json& j) { j["endpoint"] = "http://host:0"; }, "invalid port");
  refused([](Json& j) { j["endpoint"] = "http://host:65536"; }, "invalid port");
  refused([](Json& j) { j["location"]["lat_e6"] = 90'000'001; }, "advert.location.lat_e6");
  refused([](Json& j) { j["location"]["lon_e6"] = -180'000'001; }, "advert.location.lon_e6");
  refused([](Json& j) { j["location"]["lat_e6"] = 52.2; }, "advert.location.lat_e6");
  refused([](Json& j) { j["capacity"]["cpu_millis"] = -1; }, "advert.capacity.cpu_millis");
  refused([](Json& j) { j["free"]["bogus"] = 1; }, "advert.free.bogus");
  refused([](Json& j) { j["ttl_ms"] = 0; }, "advert.ttl_ms");
  refused([](Json& j) { j["ttl_ms"] = 3'600'001; }, "advert.ttl_ms");
  refused([](Json& j) { j["sandboxes"] = Json::array({std::string(33, 'r')}); }, "advert.sandboxes");
  refused(
      [](Json& j) {
        Json many = Json::array();
        for (int i = 0; i < 17; ++i) many.push_back("runc");
        j["sandboxes"] = many;
      },
      "advert.sandboxes");
  refused([](Json& j) { j["images"] = Json::array({1}); }, "advert.images");
  refused([](Json& j) { j["name"] = std::string(129, 'n'); }, "advert.name");
  refused([](Json& j) { j["price_sheet"]["signature"] = "AAAA"; }, "signature");
  refused([](Json& j) { j["reputation"] = 5; }, "unknown field");
}

TEST(GeoTest, DistanceKm) {
  const GeoPoint london{51'507'400, -127'800};
  const GeoPoint new_york{40'712'800, -74'006'000};
  EXPECT_NEAR(distance_km(london, new_york), 5'570, 10);
  EXPECT_DOUBLE_EQ(distance_km(london, new_york), distance_km(new_york, london));
  EXPECT_DOUBLE_EQ(distance_km(london, london), 0.0);
  EXPECT_NEAR(distance_km(GeoPoint{0, 0}, GeoPoint{0, 180'000'000}), 20'015, 5);
  EXPECT_NEAR(distance_km(GeoPoint{90'000'000, 0}, GeoPoint{-90'000'000, 0}), 20'015, 5);
}

// ---------------------------------------------------------------- search

TEST(SearchQueryTest, RoundTripFullAndMinimal) {
  SearchQuery q;
  q.min = Resources{1000, 1 << 30, 0, 0};
  q.max_price_per_hour = Money::micros(2'000'000);
  q.near = GeoPoint{1, 2};
  q.count = 5;
  q.sandbox = "runc";
  auto back = search_query_from_json(to_json(q));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->min, q.min);
  EXPECT_EQ(back->max_price_per_hour, q.max_price_per_hour);
  EXPECT_EQ(back->near, q.near);
  EXPECT_EQ(back->count, 5);
  EXPECT_EQ(back->sandbox, "runc");

  auto minimal = search_query_from_json(Json::object());
  ASSERT_TRUE(minimal.has_value());
  EXPECT_EQ(minimal->count, 10);
  EXPECT_FALSE(minimal->near.has_value());
  EXPECT_FALSE(minimal->max_price_per_hour.has_value());
  EXPECT_EQ(minimal->min, Resources{});
}

TEST(SearchQueryTest, ValidationBranches) {
  for (const char* bad :
       {R"({"count":0})", R"({"count":1001})", R"({"count":"5"})", R"({"max_price_per_hour_micros":-1})",
        R"({"near":{"lat_e6":0}})", R"({"near":{"lat_e6":0,"lon_e6":200000000}})", R"({"min":{"cpu_millis":-1}})",
        R"({"min":[]})", R"({"sandbox":5})", R"({"where":"x"})", R"([])"}) {
    auto j = parse_json(bad);
    ASSERT_TRUE(j.has_value()) << bad;
    EXPECT_FALSE(search_query_from_json(*j).has_value()) << bad;
  }
}

TEST(SearchResultTest, RoundTrip) {
  const auto server = KeyPair::generate();
  SearchResult r;
  Candidate c;
  c.advert = sample_advert(server);
  c.advert_doc = *SignedDoc::sign(kAdvertType, to_json(c.advert), server);
  c.distance_km = 12.5;
  c.price_per_hour = Money::micros(777);
  r.candidates.push_back(c);
  r.rejected.push_back(Rejection{"a" + std::string(40, '0'), "far", "too far away"});
  auto wire = parse_json(to_json(r).dump());
  ASSERT_TRUE(wire.has_value());
  auto back = search_result_from_json(*wire);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  ASSERT_EQ(back->candidates.size(), 1u);
  EXPECT_EQ(back->candidates[0].advert.name, "cam-1");
  EXPECT_DOUBLE_EQ(back->candidates[0].distance_km, 12.5);
  EXPECT_EQ(back->candidates[0].price_per_hour.micros(), 777);
  ASSERT_EQ(back->rejected.size(), 1u);
  EXPECT_EQ(back->rejected[0].reason, "too far away");

  // A candidate whose advert has been tampered with is refused.
  Json t = to_json(r);
  t["candidates"][0]["advert"]["body"]["name"] = "evil";
  EXPECT_FALSE(search_result_from_json(t).has_value());
  Json d = to_json(r);
  d["candidates"][0]["distance_km"] = -1;
  EXPECT_FALSE(search_result_from_json(d).has_value());
  Json u = to_json(r);
  u["rejected"][0]["why"] = "x";
  EXPECT_FALSE(search_result_from_json(u).has_value());
}

// ---------------------------------------------------------------- session spec

TEST(SessionSpecTest, RoundTrip) {
  const auto s = sample_spec();
  auto back = session_spec_from_json(to_json(s));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, s);
}

// Published ports: optional (absent when none, so a spec without ports keeps its bytes), strict,
// bounded, unique by name and by (port, protocol).
TEST(SessionSpecTest, PortsRoundTripAndAreLeftOutWhenNone) {
  auto s = sample_spec();
  EXPECT_FALSE(to_json(s).contains("ports"));
  s.ports = {PortSpec{"web", 8080, "tcp"}, PortSpec{"dns", 53, "udp"}, PortSpec{"web-udp", 8080, "udp"}};
  const Json j = to_json(s);
  EXPECT_EQ(j["ports"][1], Json({{"name", "dns"}, {"port", 53}, {"protocol", "udp"}}));
  auto back = session_spec_from_json(j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, s);
  // protocol defaults to tcp; null reads as none.
  Json d = to_json(sample_spec());
  d["ports"] = Json::array({{{"name", "a"}, {"port", 1}}});
  EXPECT_EQ(session_spec_from_json(d)->ports.at(0).protocol, "tcp");
  d["ports"] = nullptr;
  EXPECT_TRUE(session_spec_from_json(d)->ports.empty());
  // Inside a create-session request too.
  CreateSessionRequest req{s, SignedDoc{}};
  EXPECT_EQ(to_json(req)["spec"]["ports"].size(), 3u);
}

TEST(SessionSpecTest, HostilePortsAreRefusedNamingTheField) {
  auto refused = [](const Json& ports, const std::string& needle) {
    Json j = to_json(sample_spec());
    j["ports"] = ports;
    auto r = session_spec_from_json(j);
    ASSERT_FALSE(r.has_value()) << ports.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  auto port = [](const std::string& name, int64_t p, const std::string& proto) {
    return Json{{"name", name}, {"port", p}, {"protocol", proto}};
  };
  refused(Json::object(), "spec.ports: expected an array");
  refused("80", "spec.ports: expected an array");
  refused(Json::array({80}), "spec.ports[0]");
  refused(Json::array({port("web", 0, "tcp")}), "spec.ports[0].port");
  refused(Json::array({port("web", 65536, "tcp")}), "spec.ports[0].port");
  refused(Json::array({port("web", -1, "tcp")}), "spec.ports[0].port");
  refused(Json::array({port("web", 80, "sctp")}), "spec.ports[0].protocol");
  refused(Json::array({port("web", 80, "TCP")}), "spec.ports[0].protocol");
  refused(Json::array({port("", 80, "tcp")}), "spec.ports[0].name");
  refused(Json::array({port("Web", 80, "tcp")}), "spec.ports[0].name");
  refused(Json::array({port("a b", 80, "tcp")}), "spec.ports[0].name");
  refused(Json::array({port(std::string(33, 'a'), 80, "tcp")}), "spec.ports[0].name");
  refused(Json::array({port("a\n", 80, "tcp")}), "spec.ports[0].name");
  refused(Json::array({{{"name", "web"}, {"port", 80}, {"extra", 1}}}), "spec.ports[0].extra");
  refused(Json::array({{{"name", "web"}, {"port", "80"}}}), "spec.ports[0].port");
  refused(Json::array({{{"port", 80}}}), "spec.ports[0].name: missing");
  refused(Json::array({port("web", 80, "tcp"), port("web", 81, "tcp")}), "spec.ports[1].name: duplicate");
  refused(Json::array({port("a", 80, "tcp"), port("b", 80, "tcp")}), "spec.ports[1].port");
  Json many = Json::array();
  for (int i = 0; i < 17; ++i) many.push_back(port("p" + std::to_string(i), 1000 + i, "tcp"));
  refused(many, "more than 16");
  Json huge = Json::array();
  for (int i = 0; i < 100000; ++i) huge.push_back(port("p", 1, "tcp"));
  refused(huge, "more than 16");
}

TEST(SessionSpecTest, Defaults) {
  auto back = session_spec_from_json(
      Json{{"image", "sha256:" + std::string(64, 'c')}, {"resources", {{"cpu_millis", 1}, {"memory_bytes", 4 << 20}}}});
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->pids, 64);
  EXPECT_TRUE(back->name.empty());
  EXPECT_TRUE(back->command.empty());
  EXPECT_TRUE(back->env.empty());
}

TEST(SessionSpecTest, ValidationBranches) {
  auto refused = [](const std::function<void(Json&)>& f, const std::string& needle) {
    Json j = to_json(sample_spec());
    f(j);
    auto r = session_spec_from_json(j);
    ASSERT_FALSE(r.has_value()) << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  refused([](Json& j) { j["image"] = "ubuntu:latest"; }, "spec.image");
  refused([](Json& j) { j["image"] = "sha256:" + std::string(64, 'C'); }, "spec.image");
  refused([](Json& j) { j.erase("image"); }, "spec.image: missing");
  refused([](Json& j) { j["name"] = "has space"; }, "spec.name");
  refused([](Json& j) { j["name"] = "../etc"; }, "spec.name");
  refused([](Json& j) { j["name"] = std::string(65, 'n'); }, "spec.name");
  refused([](Json& j) { j["env"] = {{"A=B", "x"}}; }, "invalid variable name");
  refused([](Json& j) { j["env"] = {{"", "x"}}; }, "invalid variable name");
  refused([](Json& j) { j["env"] = {{std::string("A\0B", 3), "x"}}; }, "invalid variable name");
  refused([](Json& j) { j["env"] = {{std::string(257, 'K'), "x"}}; }, "invalid variable name");
  refused([](Json& j) { j["env"] = {{"A", 1}}; }, "spec.env.A: expected a string");
  refused([](Json& j) { j["env"] = {{"A", std::string("x\0y", 3)}}; }, "spec.env.A: invalid value");
  refused([](Json& j) { j["env"] = {{"A", std::string(4097, 'v')}}; }, "spec.env.A: invalid value");
  refused(
      [](Json& j) {
        Json env = Json::object();
        for (int i = 0; i < 257; ++i) env["V" + std::to_string(i)] = "x";
        j["env"] = env;
      },
      "more than 256 variables");
  refused([](Json& j) { j["env"] = Json::array(); }, "spec.env");
  refused([](Json& j) { j["command"] = Json::array({std::string("a\0b", 3)}); }, "NUL byte");
  refused([](Json& j) { j["command"] = Json::array({1}); }, "spec.command");
  refused([](Json& j) { j["command"] = Json::array({std::string(4097, 'c')}); }, "spec.command");
  refused([](Json& j) { j["pids"] = 0; }, "spec.pids");
  refused([](Json& j) { j["pids"] = kMaxPids + 1; }, "spec.pids");
  refused([](Json& j) { j["resources"]["cpu_millis"] = 0; }, "cpu_millis: must be at least 1");
  refused([](Json& j) { j["resources"]["cpu_millis"] = kMaxCpuMillis + 1; }, "cpu_millis");
  refused([](Json& j) { j["resources"]["memory_bytes"] = (4 << 20) - 1; }, "at least 4 MiB");
  refused([](Json& j) { j["resources"]["disk_bytes"] = kMaxDiskBytes + 1; }, "spec.resources");
  refused([](Json& j) { j["resources"]["net_bps"] = kMaxNetBps + 1; }, "spec.resources");
  refused([](Json& j) { j.erase("resources"); }, "spec.resources: missing");
  refused([](Json& j) { j["privileged"] = true; }, "unknown field");
}

TEST(CreateSessionRequestTest, RoundTripAndRefusals) {
  const auto corp = KeyPair::generate();
  const auto user = KeyPair::generate();
  const auto server = KeyPair::generate();
  CreateSessionRequest req{sample_spec(), *SignedDoc::sign(kPurchaseOrderType, to_json(sample_po(user, server)), corp)};
  auto back = create_session_request_from_json(to_json(req));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->spec, req.spec);
  EXPECT_EQ(back->purchase_order.signer, corp.public_key());
  EXPECT_TRUE(verify_purchase_order(back->purchase_order, corp.public_key()).has_value());

  Json t = to_json(req);
  t["purchase_order"]["body"]["max_amount_micros"] = 1;
  EXPECT_FALSE(create_session_request_from_json(t).has_value());
  Json w = to_json(req);
  w["purchase_order"]["type"] = "advert";
  EXPECT_FALSE(create_session_request_from_json(w).has_value());
  Json s = to_json(req);
  s["spec"]["pids"] = 0;
  EXPECT_FALSE(create_session_request_from_json(s).has_value());
  Json x = to_json(req);
  x["extra"] = 0;
  EXPECT_FALSE(create_session_request_from_json(x).has_value());
}

}  // namespace
}  // namespace xop
