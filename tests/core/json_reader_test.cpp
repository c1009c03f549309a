#include "core/json_reader.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace xop {
namespace {

Json parse(const std::string& s) {
  auto j = parse_json(s);
  EXPECT_TRUE(j.has_value()) << s;
  return j.value_or(Json());
}

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(ParseJsonTest, ParsesValidDocuments) {
  EXPECT_EQ(parse(R"({"a":1,"b":[true,null,"x"]})")["b"][2], "x");
  EXPECT_TRUE(parse("[]").is_array());
  EXPECT_EQ(parse("  42 "), 42);
}

TEST(ParseJsonTest, RefusesInvalidJson) {
  for (const char* bad : {"", " ", "{", "}", "{\"a\":}", "{'a':1}", "[1,]", "{\"a\":1,}", "nul", "01", "1 2",
                          "{\"a\" 1}", "\"unterminated", "[1]]", "NaN", "Infinity", "/* c */ 1", "\"\\x41\""}) {
    auto r = parse_json(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(ParseJsonTest, RefusesNumbersBeyondDouble) {
  EXPECT_FALSE(parse_json("1e400").has_value());
  EXPECT_FALSE(parse_json("[-1e400]").has_value());
}

TEST(ParseJsonTest, RefusesInvalidUtf8InStrings) {
  EXPECT_FALSE(parse_json("\"\xff\"").has_value());
  EXPECT_FALSE(parse_json("\"\xc3\"").has_value());
  EXPECT_FALSE(parse_json("\"\xed\xa0\x80\"").has_value());  // encoded surrogate
  EXPECT_FALSE(parse_json("\"\\ud800\"").has_value());       // lone escaped surrogate
  EXPECT_TRUE(parse_json("\"\xc3\xa9\"").has_value());
}

TEST(ParseJsonTest, EnforcesDepthLimit) {
  EXPECT_TRUE(parse_json(nested(32)).has_value());
  auto r = parse_json(nested(33));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("deeper than 32"), std::string::npos);
  EXPECT_TRUE(parse_json(nested(3), 3).has_value());
  EXPECT_FALSE(parse_json(nested(4), 3).has_value());
  // Objects count too, and mixed nesting.
  EXPECT_FALSE(parse_json(R"({"a":{"b":{"c":1}}})", 2).has_value());
  EXPECT_TRUE(parse_json(R"({"a":{"b":{"c":1}}})", 3).has_value());
  // Sibling containers do not add up.
  EXPECT_TRUE(parse_json("[[1],[2],[3],[4]]", 2).has_value());
}

TEST(ParseJsonTest, HostileNestingIsRefusedQuickly) {
  EXPECT_FALSE(parse_json(std::string(1 << 20, '[')).has_value());
  EXPECT_FALSE(parse_json(std::string(1 << 20, '{')).has_value());
  EXPECT_FALSE(parse_json(nested(100000)).has_value());
}

TEST(JsonReaderTest, ReadsTypedFields) {
  const Json j = parse(R"({"s":"x","i":-5,"u":7,"b":true,"d":1.5,"o":{"k":1},"a":[1,2],"sa":["p","q"]})");
  JsonReader r(j, "doc");
  EXPECT_EQ(r.str("s"), "x");
  EXPECT_EQ(r.i64("i"), -5);
  EXPECT_EQ(r.i64("u", 0, 10), 7);
  EXPECT_TRUE(r.boolean("b"));
  EXPECT_DOUBLE_EQ(r.number("d", 0, 2), 1.5);
  EXPECT_EQ(r.object("o")["k"], 1);
  EXPECT_EQ(r.array("a", 2).size(), 2u);
  EXPECT_EQ(r.str_array("sa", 2), (std::vector<std::string>{"p", "q"}));
  EXPECT_TRUE(r.finish().has_value());
}

TEST(JsonReaderTest, OptionalFieldsMayBeAbsentOrNull) {
  const Json j = parse(R"({"n":null})");
  JsonReader r(j, "doc");
  EXPECT_FALSE(r.opt_str("n").has_value());
  EXPECT_FALSE(r.opt_str("missing").has_value());
  EXPECT_FALSE(r.opt_i64("missing").has_value());
  EXPECT_FALSE(r.opt_bool("missing").has_value());
  EXPECT_EQ(r.opt_object("missing"), nullptr);
  EXPECT_TRUE(r.str_array("missing", 4).empty());
  EXPECT_TRUE(r.finish().has_value());
}

TEST(JsonReaderTest, MissingRequiredFieldNamesThePath) {
  const Json j = parse("{}");
  JsonReader r(j, "manifest.resources");
  r.i64("cpu_millis");
  auto s = r.finish();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message, "manifest.resources.cpu_millis: missing");
}

TEST(JsonReaderTest, RefusesUnknownFields) {
  const Json j = parse(R"({"a":1,"evil":2})");
  JsonReader r(j, "doc");
  EXPECT_EQ(r.i64("a"), 1);
  auto s = r.finish();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().message, "doc.evil: unknown field");
}

TEST(JsonReaderTest, RefusesNonObject) {
  for (const char* doc : {"[]", "1", "\"s\"", "null", "true"}) {
    const Json j = parse(doc);
    JsonReader r(j, "doc");
    r.opt_str("x");
    auto s = r.finish();
    ASSERT_FALSE(s.has_value()) << doc;
    EXPECT_EQ(s.error().message, "doc: expected an object");
  }
}

struct WrongType {
  const char* doc;
  std::function<void(JsonReader&)> read;
  const char* message;
};

TEST(JsonReaderTest, RefusesWrongTypes) {
  const WrongType cases[] = {
      {R"({"k":1})", [](JsonReader& r) { r.str("k"); }, "doc.k: expected a string"},
      {R"({"k":"1"})", [](JsonReader& r) { r.i64("k"); }, "doc.k: expected an integer"},
      {R"({"k":1.0})", [](JsonReader& r) { r.i64("k"); }, "doc.k: expected an integer"},
      {R"({"k":1e3})", [](JsonReader& r) { r.i64("k"); }, "doc.k: expected an integer"},
      {R"({"k":true})", [](JsonReader& r) { r.i64("k"); }, "doc.k: expected an integer"},
      {R"({"k":1})", [](JsonReader& r) { r.boolean("k"); }, "doc.k: expected true or false"},
      {R"({"k":"x"})", [](JsonReader& r) { r.number("k", 0, 1); }, "doc.k: expected a number"},
      {R"({"k":[]})", [](JsonReader& r) { r.object("k"); }, "doc.k: expected an object"},
      {R"({"k":[]})", [](JsonReader& r) { r.opt_object("k"); }, "doc.k: expected an object"},
      {R"({"k":{}})", [](JsonReader& r) { r.array("k", 1); }, "doc.k: expected an array"},
      {R"({"k":"a"})", [](JsonReader& r) { r.str_array("k", 1); }, "doc.k: expected an array of strings"},
      {R"({"k":[1]})", [](JsonReader& r) { r.str_array("k", 1); },
       "doc.k: expected strings of at most 4096 characters"},
  };
  for (const auto& c : cases) {
    const Json j = parse(c.doc);
    JsonReader r(j, "doc");
    c.read(r);
    EXPECT_FALSE(r.ok()) << c.doc;
    auto s = r.finish();
    ASSERT_FALSE(s.has_value()) << c.doc;
    EXPECT_EQ(s.error().message, c.message);
  }
}

TEST(JsonReaderTest, EnforcesIntegerRange) {
  const Json j = parse(R"({"lo":-1,"hi":11,"ok":10})");
  {
    JsonReader r(j, "doc");
    r.i64("lo", 0, 10);
    EXPECT_EQ(r.finish().error().message, "doc.lo: must be between 0 and 10");
  }
  {
    JsonReader r(j, "doc");
    r.i64("hi", 0, 10);
    EXPECT_FALSE(r.finish().has_value());
  }
  {
    JsonReader r(j, "doc");
    r.i64("lo", -1, 10);
    r.i64("hi", 0, 11);
    EXPECT_EQ(r.i64("ok", 10, 10), 10);
    EXPECT_TRUE(r.finish().has_value());
  }
}

TEST(JsonReaderTest, HandlesTheExtremesOfInt64AndBeyond) {
  const Json j = parse(R"({"max":9223372036854775807,"min":-9223372036854775808,)"
                       R"("over":9223372036854775808,"umax":18446744073709551615,"huge":18446744073709551616,)"
                       R"("under":-9223372036854775809})");
  JsonReader r(j, "doc");
  EXPECT_EQ(r.i64("max"), INT64_MAX);
  EXPECT_EQ(r.i64("min"), INT64_MIN);
  EXPECT_TRUE(r.ok());
  {
    JsonReader o(j, "doc");
    o.i64("over");
    EXPECT_EQ(o.finish().error().message, "doc.over: integer out of range");
  }
  {
    JsonReader o(j, "doc");
    o.i64("umax");
    EXPECT_EQ(o.finish().error().message, "doc.umax: integer out of range");
  }
  for (const char* k : {"huge", "under"}) {
    JsonReader o(j, "doc");
    o.i64(k);
    EXPECT_FALSE(o.finish().has_value()) << k;
  }
}

TEST(JsonReaderTest, NumberRefusesOutOfRange) {
  const Json j = parse(R"({"a":-0.5,"b":3,"c":1e308})");
  JsonReader r(j, "doc");
  r.number("a", 0, 1);
  EXPECT_FALSE(r.ok());
  JsonReader r2(j, "doc");
  EXPECT_DOUBLE_EQ(r2.number("b", 0, 3), 3.0);
  r2.number("c", 0, 1e6);
  EXPECT_FALSE(r2.ok());
}

TEST(JsonReaderTest, EnforcesStringLengthCaps) {
  const Json j = Json{{"s", std::string(10, 'x')}};
  JsonReader ok(j, "doc");
  EXPECT_EQ(ok.str("s", 10).size(), 10u);
  EXPECT_TRUE(ok.finish().has_value());
  JsonReader bad(j, "doc");
  bad.str("s", 9);
  EXPECT_EQ(bad.finish().error().message, "doc.s: longer than 9 characters");
}

TEST(JsonReaderTest, EnforcesArrayCaps) {
  const Json j = Json{{"a", Json::array({1, 2, 3})}, {"sa", Json::array({"x", "yy"})}};
  {
    JsonReader r(j, "doc");
    r.array("a", 2);
    EXPECT_EQ(r.finish().error().message, "doc.a: more than 2 items");
  }
  {
    JsonReader r(j, "doc");
    r.str_array("sa", 1);
    EXPECT_EQ(r.finish().error().message, "doc.sa: more than 1 items");
  }
  {
    JsonReader r(j, "doc");
    EXPECT_TRUE(r.str_array("sa", 2, 1).empty());
    EXPECT_FALSE(r.finish().has_value());
  }
}

TEST(JsonReaderTest, KeepsTheFirstError) {
  const Json j = parse(R"({"a":"x","b":"y"})");
  JsonReader r(j, "doc");
  r.i64("a");
  r.i64("b");
  r.fail("c", "custom");
  EXPECT_EQ(r.finish().error().message, "doc.a: expected an integer");
}

TEST(JsonReaderTest, AbsorbsNestedErrors) {
  const Json j = parse(R"({"inner":{"x":"no"}})");
  JsonReader outer(j, "outer");
  const Json& inner_json = outer.object("inner");
  JsonReader inner(inner_json, outer.path("inner"));
  inner.i64("x");
  outer.absorb(inner.finish());
  EXPECT_FALSE(outer.ok());
  EXPECT_EQ(outer.finish().error().message, "outer.inner.x: expected an integer");

  JsonReader clean(j, "outer");
  clean.object("inner");
  clean.absorb(ok_status());
  EXPECT_TRUE(clean.finish().has_value());
}

TEST(JsonReaderTest, ErrorCodeMapsToHttp) {
  Error e{ErrorCode::kPayloadTooLarge, "x"};
  EXPECT_EQ(e.http_status(), 413);
  EXPECT_STREQ(e.code_name(), "payload_too_large");
  EXPECT_EQ(error_code_from_name("unauthenticated"), ErrorCode::kUnauthenticated);
  EXPECT_EQ(error_code_from_name("no-such-code"), ErrorCode::kInternal);
  for (auto c : {ErrorCode::kInvalidArgument, ErrorCode::kUnauthenticated, ErrorCode::kPaymentRequired,
                 ErrorCode::kPermissionDenied, ErrorCode::kNotFound, ErrorCode::kMethodNotAllowed, ErrorCode::kConflict,
                 ErrorCode::kGone, ErrorCode::kPayloadTooLarge, ErrorCode::kUnsupportedMedia,
                 ErrorCode::kResourceExhausted, ErrorCode::kInternal, ErrorCode::kUnavailable}) {
    Error x{c, ""};
    EXPECT_EQ(error_code_from_name(x.code_name()), c) << x.code_name();
  }
}

}  // namespace
}  // namespace xop
