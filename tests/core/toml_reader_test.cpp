#include "core/toml_reader.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "support/test_support.h"

namespace xop {
namespace {

toml::table parse(const std::string& text) {
  auto t = parse_toml(text, "test.toml");
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message);
  return t.value_or(toml::table{});
}

TEST(TomlReaderTest, ReadsTypedValues) {
  const auto t = parse(R"(
name = "xop"
port = 8080
ratio = 0.5
whole = 3
enabled = true
[server]
city = "Cambridge"
)");
  TomlReader r(t, "config");
  EXPECT_EQ(r.opt_str("name"), "xop");
  EXPECT_EQ(r.opt_i64("port", 1, 65535), 8080);
  EXPECT_DOUBLE_EQ(*r.opt_double("ratio", 0, 1), 0.5);
  EXPECT_DOUBLE_EQ(*r.opt_double("whole", 0, 10), 3.0);  // integers are numbers too
  EXPECT_EQ(r.opt_bool("enabled"), true);
  const auto* server = r.opt_table("server");
  ASSERT_NE(server, nullptr);
  TomlReader sr(*server, "config.server");
  EXPECT_EQ(sr.opt_str("city"), "Cambridge");
  r.absorb(sr.finish());
  EXPECT_TRUE(r.finish().has_value());
}

TEST(TomlReaderTest, AbsentKeysAreNullopt) {
  const auto t = parse("");
  TomlReader r(t, "config");
  EXPECT_FALSE(r.opt_str("a").has_value());
  EXPECT_FALSE(r.opt_i64("b", 0, 1).has_value());
  EXPECT_FALSE(r.opt_double("c", 0, 1).has_value());
  EXPECT_FALSE(r.opt_bool("d").has_value());
  EXPECT_EQ(r.opt_table("e"), nullptr);
  EXPECT_TRUE(r.finish().has_value());
}

TEST(TomlReaderTest, RefusesWrongTypes) {
  const auto t = parse("s = 1\ni = \"1\"\nd = \"x\"\nb = 1\ntab = 3\nf = 1.5\n");
  auto expect_error = [&](const std::function<void(TomlReader&)>& read, const std::string& msg) {
    TomlReader r(t, "config");
    read(r);
    auto s = r.finish();
    ASSERT_FALSE(s.has_value()) << msg;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.error().message, msg);
  };
  expect_error([](TomlReader& r) { r.opt_str("s"); }, "config.s: expected a string");
  expect_error([](TomlReader& r) { r.opt_i64("i", 0, 10); }, "config.i: expected an integer");
  expect_error([](TomlReader& r) { r.opt_i64("f", 0, 10); }, "config.f: expected an integer");
  expect_error([](TomlReader& r) { r.opt_double("d", 0, 10); }, "config.d: expected a number");
  expect_error([](TomlReader& r) { r.opt_bool("b"); }, "config.b: expected true or false");
  expect_error([](TomlReader& r) { r.opt_table("tab"); }, "config.tab: expected a table");
}

TEST(TomlReaderTest, RefusesOutOfRange) {
  const auto t = parse("port = 70000\nneg = -1\nratio = 1.5\nnan = nan\ninf = inf\n");
  {
    TomlReader r(t, "config");
    r.opt_i64("port", 1, 65535);
    EXPECT_EQ(r.finish().error().message, "config.port: must be between 1 and 65535");
  }
  {
    TomlReader r(t, "config");
    r.opt_i64("neg", 0, 10);
    EXPECT_FALSE(r.finish().has_value());
  }
  for (const char* k : {"ratio", "nan", "inf"}) {
    TomlReader r(t, "config");
    r.opt_double(k, 0, 1);
    EXPECT_EQ(r.finish().error().message, std::string("config.") + k + ": out of range");
  }
}

TEST(TomlReaderTest, RefusesUnknownKeys) {
  const auto t = parse("known = 1\ntypo = 2\n");
  TomlReader r(t, "config");
  r.opt_i64("known", 0, 10);
  auto s = r.finish();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().message, "config.typo: unknown key");
}

TEST(TomlReaderTest, RefusesUnknownKeysInNestedTables) {
  const auto t = parse("[server]\ncity = \"x\"\n[server.limits]\ncpu = 2\nbogus = 1\n");
  TomlReader r(t, "config");
  const auto* server = r.opt_table("server");
  ASSERT_NE(server, nullptr);
  TomlReader sr(*server, "config.server");
  sr.opt_str("city");
  const auto* limits = sr.opt_table("limits");
  ASSERT_NE(limits, nullptr);
  TomlReader lr(*limits, "config.server.limits");
  lr.opt_i64("cpu", 0, 100);
  sr.absorb(lr.finish());
  r.absorb(sr.finish());
  EXPECT_EQ(r.finish().error().message, "config.server.limits.bogus: unknown key");
}

TEST(TomlReaderTest, AnUnreadTableIsAnUnknownKey) {
  const auto t = parse("[extra]\nx = 1\n");
  TomlReader r(t, "config");
  EXPECT_EQ(r.finish().error().message, "config.extra: unknown key");
}

TEST(TomlReaderTest, ParseErrorsCarryLineAndColumn) {
  auto r = parse_toml("a = 1\nb = 2\nc = = 3\n", "my.toml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message.rfind("my.toml:3:", 0), 0u) << r.error().message;
}

TEST(TomlReaderTest, RefusesMalformedToml) {
  for (const char* bad : {"a =", "= 1", "[unterminated", "a = \"x", "a = 1\na = 2", "[t]\n[t]", "a = 01", "a = 1_",
                          "a = [1,", "a = {b = 1", "\xff = 1", "a = \"\xff\""}) {
    EXPECT_FALSE(parse_toml(bad, "x").has_value()) << bad;
  }
}

TEST(TomlReaderTest, LoadsFiles) {
  testing::TempDir dir;
  testing::write_file(dir.file("c.toml"), "port = 1\n");
  auto t = load_toml_file(dir.file("c.toml"));
  ASSERT_TRUE(t.has_value());
  TomlReader r(*t, "c");
  EXPECT_EQ(r.opt_i64("port", 0, 2), 1);
}

TEST(TomlReaderTest, MissingFileIsNotFound) {
  testing::TempDir dir;
  auto t = load_toml_file(dir.file("nope.toml"));
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ErrorCode::kNotFound);
}

TEST(TomlReaderTest, RefusesFilesOverOneMiB) {
  testing::TempDir dir;
  // A valid TOML document (comments) just over the limit, and one exactly at it.
  std::string big = "a = 1\n#" + std::string((1 << 20) - 8, 'x') + "\n";
  ASSERT_EQ(big.size(), (1u << 20) + 0);
  testing::write_file(dir.file("exact.toml"), big);
  EXPECT_TRUE(load_toml_file(dir.file("exact.toml")).has_value());
  big.insert(big.size() - 1, "y");
  testing::write_file(dir.file("big.toml"), big);
  auto t = load_toml_file(dir.file("big.toml"));
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message.find("larger than 1 MiB"), std::string::npos);
}

}  // namespace
}  // namespace xop
