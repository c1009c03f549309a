// Schema<T>: one field table drives encoding and strict decoding (core/schema.h).
#include "core/schema.h"

#include <gtest/gtest.h>

namespace xop {
namespace {

struct Inner {
  int64_t n = 0;
  friend bool operator==(const Inner&, const Inner&) = default;
};
struct Doc {
  std::string name;
  int64_t count = 0;
  int64_t level = 0;  // optional on the wire
  bool on = false;
  std::vector<std::string> tags;
  Inner inner;
  std::vector<Inner> items;
  friend bool operator==(const Doc&, const Doc&) = default;
};

const Schema<Inner>& inner_schema() {
  static const auto s = Schema<Inner>("inner").i64("n", &Inner::n, 0, 10);
  return s;
}

const Schema<Doc>& doc_schema() {
  static const auto s = Schema<Doc>("doc")
                            .str("name", &Doc::name, 8)
                            .i64("count", &Doc::count, 1, 100)
                            .i64_or("level", &Doc::level, 7, 0, 9)
                            .boolean("on", &Doc::on)
                            .str_array("tags", &Doc::tags, 2, 4)
                            .object("inner", &Doc::inner, inner_schema())
                            .array("items", &Doc::items, inner_schema(), 3)
                            .check([](const Doc& d) { return d.name == "bad" ? ".name: is bad" : ""; });
  return s;
}

Json good() {
  return Json{{"name", "a"},
              {"count", 5},
              {"level", 2},
              {"on", true},
              {"tags", {"x", "yz"}},
              {"inner", {{"n", 3}}},
              {"items", Json::array({Json{{"n", 1}}, Json{{"n", 2}}})}};
}

TEST(SchemaTest, RoundTripsEveryField) {
  auto d = doc_schema().decode(good());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->name, "a");
  EXPECT_EQ(d->count, 5);
  EXPECT_EQ(d->level, 2);
  EXPECT_TRUE(d->on);
  EXPECT_EQ(d->tags, (std::vector<std::string>{"x", "yz"}));
  EXPECT_EQ(d->inner.n, 3);
  ASSERT_EQ(d->items.size(), 2u);
  EXPECT_EQ(d->items[1].n, 2);
  EXPECT_EQ(doc_schema().encode(*d), good());
  EXPECT_EQ(doc_schema().keys(), (std::vector<std::string>{"name", "count", "level", "on", "tags", "inner", "items"}));
}

TEST(SchemaTest, AnOptionalFieldReadsAsItsFallbackAndIsAlwaysWritten) {
  Json j = good();
  j.erase("level");
  auto d = doc_schema().decode(j);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->level, 7);
  EXPECT_EQ(doc_schema().encode(*d)["level"], 7);
}

// Each bad input is refused with its path named.
TEST(SchemaTest, MalformedAndHostileDocumentsAreRefusedNamingTheField) {
  const std::vector<std::pair<std::function<void(Json&)>, std::string>> cases = {
      {[](Json& j) { j.erase("count"); }, "doc.count"},
      {[](Json& j) { j["count"] = "5"; }, "doc.count"},
      {[](Json& j) { j["count"] = 0; }, "doc.count"},
      {[](Json& j) { j["count"] = 1.5; }, "doc.count"},
      {[](Json& j) { j["count"] = 18446744073709551615ULL; }, "doc.count"},
      {[](Json& j) { j["name"] = std::string(9, 'n'); }, "doc.name"},
      {[](Json& j) { j["on"] = 1; }, "doc.on"},
      {[](Json& j) {
         j["tags"] = {"a", "b", "c"};
       },
       "doc.tags"},
      {[](Json& j) { j["tags"] = {"toolong"}; }, "doc.tags"},
      {[](Json& j) { j["inner"] = 3; }, "doc.inner"},
      {[](Json& j) { j["inner"]["n"] = 11; }, "doc.inner.n"},
      {[](Json& j) { j["inner"]["extra"] = 1; }, "doc.inner.extra"},
      {[](Json& j) { j["items"][1]["n"] = -1; }, "doc.items[1].n"},
      {[](Json& j) {
         j["items"] = Json::array({Json{{"n", 1}}, Json{{"n", 1}}, Json{{"n", 1}}, Json{{"n", 1}}});
       },
       "doc.items"},
      {[](Json& j) { j["items"] = Json::object(); }, "doc.items"},
      {[](Json& j) { j["surprise"] = true; }, "surprise"},
      {[](Json& j) { j["name"] = "bad"; }, "doc.name: is bad"},
  };
  for (const auto& [breaker, where] : cases) {
    Json j = good();
    breaker(j);
    auto d = doc_schema().decode(j);
    ASSERT_FALSE(d) << j.dump();
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument) << j.dump();
    EXPECT_NE(d.error().message.find(where), std::string::npos) << d.error().message << " should name " << where;
  }
  for (const Json& j : {Json(nullptr), Json(5), Json("doc"), Json::array()}) {
    EXPECT_FALSE(doc_schema().decode(j)) << j.dump();
  }
}

TEST(SchemaTest, DecodeNamesTheGivenPath) {
  Json j = good();
  j["count"] = -1;
  auto d = doc_schema().decode(j, "batch.docs[4]");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("batch.docs[4].count"), std::string::npos) << d.error().message;
}

// The optional, money, number, enum and codec-driven kinds.
enum class Color { kRed, kGreen };
struct Wide {
  std::optional<int64_t> limit;
  std::optional<int64_t> code;  // written as null when absent
  double ratio = 0;
  Money price;
  std::optional<Money> ceiling;
  std::string label;  // optional on the wire, "none" when absent
  std::optional<std::string> note;
  Color color = Color::kRed;
  Inner base;  // may be absent
  std::optional<Inner> extra;
  std::string raw;  // an object {"v": ...} through a codec of its own
  std::vector<std::string> list;
  std::string derived;  // filled by verify()
};

const Schema<Wide>& wide_schema() {
  static const auto s = Schema<Wide>("wide")
                            .opt_i64("limit", &Wide::limit, 0, 100)
                            .opt_i64("code", &Wide::code, INT64_MIN, INT64_MAX, Absent::kNull)
                            .f64("ratio", &Wide::ratio, 0, 1)
                            .money("price", &Wide::price, 1)
                            .opt_money("ceiling", &Wide::ceiling)
                            .str_or("label", &Wide::label, "none", 8)
                            .opt_str("note", &Wide::note, 8)
                            .enumeration("color", &Wide::color, {{Color::kRed, "red"}, {Color::kGreen, "green"}})
                            .object_or("base", &Wide::base, inner_schema())
                            .opt_object("extra", &Wide::extra, inner_schema())
                            .object_with<std::string>(
                                "raw", &Wide::raw,
                                [](const std::string& v) {
                                  return Json{{"v", v}};
                                },
                                [](const Json& j, const std::string& where) -> Result<std::string> {
                                  if (!j.contains("v") || !j["v"].is_string())
                                    return invalid(where + ".v: expected a string");
                                  return j["v"].get<std::string>();
                                })
                            .array_with<std::string>(
                                "list", &Wide::list, [](const std::string& v) { return Json(v); },
                                [](const Json& j, const std::string& where) -> Result<std::string> {
                                  if (!j.is_string())
                                    return make_error(ErrorCode::kUnauthenticated, where + ": not a string");
                                  return j.get<std::string>();
                                },
                                2)
                            .verify([](Wide& w) -> Status {
                              if (w.label == "deny") return make_error(ErrorCode::kPermissionDenied, "label denied");
                              w.derived = w.label + "!";
                              return {};
                            });
  return s;
}

Json wide_minimal() {
  return Json{{"ratio", 0.5}, {"price", 10}, {"color", "green"}, {"raw", {{"v", "x"}}}, {"list", Json::array()}};
}

TEST(SchemaTest, OptionalKindsReadAbsentAndWriteAsDeclared) {
  auto d = wide_schema().decode(wide_minimal());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_FALSE(d->limit);
  EXPECT_FALSE(d->code);
  EXPECT_DOUBLE_EQ(d->ratio, 0.5);
  EXPECT_EQ(d->price.micros(), 10);
  EXPECT_FALSE(d->ceiling);
  EXPECT_EQ(d->label, "none");
  EXPECT_FALSE(d->note);
  EXPECT_EQ(d->color, Color::kGreen);
  EXPECT_EQ(d->base.n, 0);
  EXPECT_FALSE(d->extra);
  EXPECT_EQ(d->raw, "x");
  EXPECT_EQ(d->derived, "none!");
  const Json out = wide_schema().encode(*d);
  EXPECT_FALSE(out.contains("limit"));
  ASSERT_TRUE(out.contains("code"));
  EXPECT_TRUE(out["code"].is_null());
  EXPECT_FALSE(out.contains("ceiling"));
  EXPECT_FALSE(out.contains("note"));
  EXPECT_FALSE(out.contains("extra"));
  EXPECT_EQ(out["label"], "none");
  EXPECT_EQ(out["base"], (Json{{"n", 0}}));
  EXPECT_EQ(out["color"], "green");
  EXPECT_EQ(out["raw"], (Json{{"v", "x"}}));

  Json full = wide_minimal();
  full["limit"] = 3;
  full["code"] = -2;
  full["ceiling"] = 7;
  full["label"] = "l";
  full["note"] = "n";
  full["color"] = "red";
  full["base"] = {{"n", 4}};
  full["extra"] = {{"n", 5}};
  full["list"] = {"a", "b"};
  auto f = wide_schema().decode(full);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(*f->limit, 3);
  EXPECT_EQ(*f->code, -2);
  EXPECT_EQ(f->ceiling->micros(), 7);
  EXPECT_EQ(f->color, Color::kRed);
  EXPECT_EQ(f->base.n, 4);
  EXPECT_EQ(f->extra->n, 5);
  EXPECT_EQ(f->list, (std::vector<std::string>{"a", "b"}));
  Json again = wide_schema().encode(*f);
  EXPECT_EQ(again, full);
}

TEST(SchemaTest, HostileInputToTheOptionalKindsIsRefusedNamingTheField) {
  const std::vector<std::pair<std::function<void(Json&)>, std::string>> cases = {
      {[](Json& j) { j["limit"] = 101; }, "wide.limit"},
      {[](Json& j) { j["limit"] = "3"; }, "wide.limit"},
      {[](Json& j) { j["code"] = 1e300; }, "wide.code"},
      {[](Json& j) { j["code"] = 18446744073709551615ULL; }, "wide.code"},
      {[](Json& j) { j["ratio"] = 2; }, "wide.ratio"},
      {[](Json& j) { j["ratio"] = "0.5"; }, "wide.ratio"},
      {[](Json& j) { j.erase("ratio"); }, "wide.ratio: missing"},
      {[](Json& j) { j["price"] = 0; }, "wide.price"},
      {[](Json& j) { j["price"] = 0.5; }, "wide.price"},
      {[](Json& j) { j["ceiling"] = -1; }, "wide.ceiling"},
      {[](Json& j) { j["label"] = 5; }, "wide.label"},
      {[](Json& j) { j["note"] = std::string(9, 'x'); }, "wide.note"},
      {[](Json& j) { j["color"] = "blue"; }, "wide.color: must be one of \"red\", \"green\""},
      {[](Json& j) { j["color"] = 0; }, "wide.color"},
      {[](Json& j) { j["base"] = Json::array(); }, "wide.base"},
      {[](Json& j) {
         j["base"] = {{"n", 1}, {"m", 2}};
       },
       "wide.base.m: unknown field"},
      {[](Json& j) {
         j["extra"] = {{"n", 99}};
       },
       "wide.extra.n"},
      {[](Json& j) {
         j["raw"] = {{"v", 1}};
       },
       "wide.raw.v"},
      {[](Json& j) { j["raw"] = "x"; }, "wide.raw"},
      {[](Json& j) {
         j["list"] = {"a", "b", "c"};
       },
       "wide.list"},
      {[](Json& j) {
         j["list"] = {"a", 2};
       },
       "wide.list[1]: not a string"},
      {[](Json& j) { j["surplus"] = 1; }, "wide.surplus: unknown field"},
  };
  for (const auto& [breaker, where] : cases) {
    Json j = wide_minimal();
    breaker(j);
    auto d = wide_schema().decode(j);
    ASSERT_FALSE(d) << j.dump();
    EXPECT_NE(d.error().message.find(where), std::string::npos) << d.error().message << " should name " << where;
  }
}

TEST(SchemaTest, CodecAndVerifyErrorsKeepTheirCodes) {
  Json j = wide_minimal();
  j["list"] = {1};
  auto d = wide_schema().decode(j);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kUnauthenticated);
  j = wide_minimal();
  j["label"] = "deny";
  d = wide_schema().decode(j);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kPermissionDenied);
}

// From text: duplicate keys and deep nesting never reach a schema; every truncation of a good
// document is refused without a crash.
TEST(SchemaTest, TextFromOutsideIsRefusedBeforeOrByTheSchema) {
  EXPECT_FALSE(parse_json(R"({"ratio":0.5,"ratio":0.5,"price":10,"color":"red","raw":{"v":"x"},"list":[]})"));
  std::string deep = R"({"ratio":0.5,"price":10,"color":"red","raw":{"v":"x"},"list":[],"base":)";
  for (int i = 0; i < 40; ++i) deep += "{\"n\":";
  deep += "1";
  for (int i = 0; i < 41; ++i) deep += "}";
  EXPECT_FALSE(parse_json(deep));
  const std::string text = wide_minimal().dump();
  for (size_t n = 0; n + 1 < text.size(); ++n) {
    auto j = parse_json(text.substr(0, n));
    if (j) {
      EXPECT_FALSE(wide_schema().decode(*j)) << text.substr(0, n);
    }
  }
  auto big = parse_json(R"({"ratio":0.5,"price":100000000000000000000,"color":"red","raw":{"v":"x"},"list":[]})");
  ASSERT_TRUE(big);
  EXPECT_FALSE(wide_schema().decode(*big));
}

}  // namespace
}  // namespace xop
