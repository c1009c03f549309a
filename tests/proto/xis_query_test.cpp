// The query language's decoder (proto/xis_query.h): round trips, and malformed, hostile and
// oversized input refused with the field's path; the advert's optional country and free_ports.
#include "proto/xis_query.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace xop {
namespace {

Result<Query> decode(const std::string& text) { return decode_query_body(text); }

void expect_refused(const std::string& text, const std::string& needle, ErrorCode code = ErrorCode::kInvalidArgument) {
  auto q = decode(text);
  ASSERT_FALSE(q.has_value()) << text;
  EXPECT_EQ(q.error().code, code) << q.error().message;
  EXPECT_NE(q.error().message.find(needle), std::string::npos) << "message: " << q.error().message;
}

TEST(XisQueryDecode, DefaultsAndAFullRoundTrip) {
  auto empty = decode("{}");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->count, 1);
  EXPECT_EQ(empty->duration_ms, 3'600'000);
  EXPECT_TRUE(empty->explain);
  EXPECT_EQ(empty->rank, RankBy::kPrice);
  EXPECT_EQ(empty->where.kind, Predicate::Kind::kAll);
  EXPECT_TRUE(empty->where.children.empty());

  const std::string server = KeyPair::generate().account_id();
  const std::string text = R"({
    "where": {"all": [
      {"free": {"cpu_millis": 1000, "memory_bytes": 1073741824}},
      {"max_price_per_hour_micros": 800000}, {"max_total_price_micros": 5000000},
      {"max_rate": {"rate": "net_io_per_gib", "micros": 10}},
      {"sandbox": "runc"}, {"country": "FR"}, {"region": ["FR", "DE"]},
      {"within_km": 500}, {"within_km": {"km": 12.5, "of": {"lat_e6": 1, "lon_e6": 2}}},
      {"within_ms": 60}, {"within_ms": {"ms": 30, "from": {"server": ")" +
                           server + R"("}}},
      {"any": [{"min_reputation": 0.9}, {"not": {"image": "sha256:ab"}}]}, {"min_free_ports": 3}]},
    "reservation": {"cpu_millis": 1000}, "duration_ms": 7200000,
    "near": {"lat_e6": 48856600, "lon_e6": 2352200},
    "rtt_from": {"coord": {"vec_us": [1000, 2000], "height_us": 5, "error_ppm": 100000}},
    "rank": "mix", "weights": {"price": 1, "rtt": 0.5}, "count": 3,
    "spread": {"max_per_owner": 1, "max_per_country": 2, "min_km": 100}, "explain": false})";
  auto q = decode(text);
  ASSERT_TRUE(q.has_value()) << q.error().message;
  ASSERT_EQ(q->where.children.size(), 13u);
  EXPECT_EQ(q->where.children[3].rate, RateName::kNetIo);
  EXPECT_EQ(q->where.children[6].texts, (std::vector<std::string>{"FR", "DE"}));
  EXPECT_EQ(q->where.children[8].number, 12.5);
  EXPECT_EQ(*q->where.children[10].from->server, server);
  EXPECT_EQ(q->where.children[11].children[1].kind, Predicate::Kind::kNot);
  EXPECT_EQ(q->weights.rtt, 0.5);
  EXPECT_EQ(*q->spread.min_km, 100);
  EXPECT_FALSE(q->explain);
  // What is written reads back the same.
  auto again = query_from_json(to_json(*q));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(*again, *q);
}

TEST(XisQueryDecode, UnknownKeysAreRefusedWithTheirPath) {
  expect_refused(R"({"wher": {}})", "query.wher");
  expect_refused(R"({"where": {"all": [{"sandbox": "runc"}, {"sandbx": "runc"}]}})",
                 "query.where.all[1].sandbx: unknown predicate");
  expect_refused(R"({"where": {"max_rate": {"rate": "cpu_reserve_per_core_hour", "micros": 1, "x": 1}}})",
                 "query.where.max_rate.x");
  expect_refused(R"({"where": {"max_rate": {"rate": "bananas", "micros": 1}}})",
                 "query.where.max_rate.rate: must be one of");
  expect_refused(R"({"where": {"within_km": {"km": 1, "off": {}}}, "near": {"lat_e6": 0, "lon_e6": 0}})",
                 "query.where.within_km.off");
  expect_refused(R"({"spread": {"max_per_owner": 1, "max_per_planet": 1}})", "query.spread.max_per_planet");
  expect_refused(R"({"rank": "mix", "weights": {"price": 1, "speed": 1}})", "query.weights.speed");
  expect_refused(R"({"where": {"free": {"gpus": 1}}})", "query.where.free.gpus");
}

TEST(XisQueryDecode, WrongTypesAndShapesNameTheField) {
  expect_refused(R"({"where": []})", "query.where: expected an object");
  expect_refused(R"({"where": {"sandbox": "runc", "country": "FR"}})", "exactly one key");
  expect_refused(R"({"where": {}})", "exactly one key");
  expect_refused(R"({"where": {"all": {"sandbox": "runc"}}})", "query.where.all: expected an array");
  expect_refused(R"({"where": {"all": [1]}})", "query.where.all[0]: a predicate is an object");
  expect_refused(R"({"where": {"not": [{"sandbox": "runc"}]}})", "query.where.not: expected an object");
  expect_refused(R"({"where": {"max_price_per_hour_micros": "0.8"}})", "expected an integer");
  expect_refused(R"({"where": {"max_price_per_hour_micros": 0.5}})", "expected an integer");
  expect_refused(R"({"where": {"max_price_per_hour_micros": -1}})", "must be between");
  expect_refused(R"({"where": {"within_km": "far"}, "near": {"lat_e6": 0, "lon_e6": 0}})",
                 "query.where.within_km: expected a number");
  expect_refused(R"({"where": {"min_reputation": 1.5}})", "query.where.min_reputation: must be between");
  expect_refused(R"({"where": {"country": "fr"}})", "query.where.country: not an ISO 3166-1 alpha-2 code");
  expect_refused(R"({"where": {"country": "FRA"}})", "query.where.country: longer than 2");
  expect_refused(R"({"where": {"region": []}})", "query.where.region: at least one country");
  expect_refused(R"({"where": {"region": ["FR", "D1"]}})", "query.where.region[1]");
  expect_refused(R"({"count": 0})", "query.count");
  expect_refused(R"({"count": 101})", "query.count");
  expect_refused(R"({"count": true})", "query.count: expected an integer");
  expect_refused(R"({"duration_ms": 0})", "query.duration_ms");
  expect_refused(R"({"explain": 1})", "query.explain");
  expect_refused(R"({"rank": "speed"})", "query.rank: must be one of");
  expect_refused(R"({"rtt_from": {}})", "query.rtt_from: give exactly one of coord and server");
  expect_refused(R"({"rtt_from": {"server": "nobody"}})", "query.rtt_from.server: not an account id");
  expect_refused(R"({"spread": {"min_km": -1}})", "query.spread.min_km");
}

TEST(XisQueryDecode, MissingReferencesAreRefused) {
  expect_refused(R"({"where": {"within_km": 10}})", "needs the query's near");
  expect_refused(R"({"where": {"any": [{"within_ms": 10}]}})", "needs the query's rtt_from");
  expect_refused(R"({"rank": "distance"})", "query.rank: \"distance\" needs near");
  expect_refused(R"({"rank": "rtt"})", "query.rank: \"rtt\" needs rtt_from");
  expect_refused(R"({"rank": "mix"})", "rank \"mix\" needs weights");
  expect_refused(R"({"rank": "mix", "weights": {"price": 0}})", "at least one weight above 0");
  expect_refused(R"({"rank": "mix", "weights": {"distance": 1}})", "query.weights.distance: needs near");
  expect_refused(R"({"weights": {"price": 1}})", "query.weights: only with rank \"mix\"");
  // With "of" / "from" a predicate needs nothing from the query.
  EXPECT_TRUE(decode(R"({"where": {"within_km": {"km": 1, "of": {"lat_e6": 0, "lon_e6": 0}}}})").has_value());
}

TEST(XisQueryDecode, HostileNestingSizesAndNumbersAreBounded) {
  auto nest = [](int depth) {
    std::string s;
    for (int i = 1; i < depth; ++i) s += R"({"not": )";
    s += R"({"sandbox": "runc"})";
    for (int i = 1; i < depth; ++i) s += "}";
    return R"({"where": )" + s + "}";
  };
  EXPECT_TRUE(decode(nest(kMaxQueryDepth)).has_value());
  expect_refused(nest(kMaxQueryDepth + 1), "nested deeper than 12 levels");
  // Far deeper than any bound: the JSON parser's depth limit refuses it before anything recurses.
  auto deep = decode(nest(100'000).substr(0, kMaxQueryBody - 10));
  EXPECT_FALSE(deep.has_value());
  std::string arrays = R"({"where": )";
  for (int i = 0; i < 5000; ++i) arrays += R"({"all": [)";
  EXPECT_FALSE(decode(arrays).has_value());

  auto wide = [](size_t n) {
    std::string s = R"({"where": {"any": [)";
    for (size_t i = 0; i < n; ++i) s += std::string(i ? "," : "") + R"({"sandbox": "runc"})";
    return s + "]}}";
  };
  EXPECT_TRUE(decode(wide(kMaxQueryNodes - 1)).has_value());  // the "any" is a node too
  expect_refused(wide(kMaxQueryNodes), "more than 64 predicates");
  expect_refused(wide(1000), "query.where.any: more than 64 items");
  std::string region = R"({"where": {"region": [)";
  for (size_t i = 0; i <= kMaxRegionCountries; ++i) region += std::string(i ? "," : "") + R"("FR")";
  expect_refused(region + "]}}", "query.where.region: more than 250 items");

  // NaN and infinities are not JSON; a number too large for a double parses to infinity or fails.
  EXPECT_FALSE(decode(R"({"where": {"min_reputation": NaN}})").has_value());
  EXPECT_FALSE(decode(R"({"where": {"min_reputation": Infinity}})").has_value());
  EXPECT_FALSE(decode(R"({"near": {"lat_e6": 0, "lon_e6": 0}, "where": {"within_km": 1e999}})").has_value());
  expect_refused(R"({"count": 99999999999999999999999})", "query.count");
  expect_refused(R"({"where": {"min_reputation": "NaN"}})", "expected a number");

  // Oversized bodies are refused before parsing.
  expect_refused(std::string(kMaxQueryBody + 1, ' '), "query body larger than", ErrorCode::kPayloadTooLarge);
  // Not JSON, or not an object.
  EXPECT_FALSE(decode("{").has_value());
  EXPECT_FALSE(decode("[]").has_value());
  EXPECT_FALSE(decode("").has_value());
}

TEST(AdvertCountryAndPorts, OptionalOnTheWireAndValidated) {
  const auto server = KeyPair::generate();
  Advert a = testing::sample_advert(server);
  const std::string before = to_json(a).dump();
  EXPECT_EQ(before.find("country"), std::string::npos);  // absent: the old bytes
  EXPECT_EQ(before.find("free_ports"), std::string::npos);
  a.country = "FR";
  a.free_ports = 120;
  auto back = advert_from_json(to_json(a));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back->country, "FR");
  EXPECT_EQ(*back->free_ports, 120);
  a.country = "France";
  EXPECT_FALSE(advert_from_json(to_json(a)).has_value());
  a.country = "fr";
  auto lower = advert_from_json(to_json(a));
  ASSERT_FALSE(lower.has_value());
  EXPECT_NE(lower.error().message.find("advert.country"), std::string::npos) << lower.error().message;
  a.country = std::nullopt;
  a.free_ports = 70'000;
  EXPECT_FALSE(advert_from_json(to_json(a)).has_value());
  a.free_ports = -1;
  EXPECT_FALSE(advert_from_json(to_json(a)).has_value());
}

}  // namespace
}  // namespace xop
