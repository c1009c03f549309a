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

}  // namespace
}  // namespace xop
