#include "corp/corp_config.h"

#include <gtest/gtest.h>

#include "core/toml_reader.h"
#include "support/test_support.h"

namespace xop {
namespace {

Result<CorpConfig> parse(const std::string& text, const ConfigFlags& flags = {}) {
  XOP_ASSIGN_OR_RETURN(auto t, parse_toml(text, "corp.toml"));
  return corp_config_from_toml(t, flags);
}

void expect_invalid(const std::string& text, const ConfigFlags& flags, const std::string& words) {
  auto c = parse(text, flags);
  ASSERT_FALSE(c) << "accepted:\n" << text;
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(c.error().message.find(words), std::string::npos) << c.error().message;
}

TEST(CorpConfigTest, Defaults) {
  auto c = parse("data_dir = \"/d\"\n");
  ASSERT_TRUE(c) << c.error().message;
  const CorpOptions d;
  EXPECT_EQ(c->listen, "127.0.0.1:7400");
  EXPECT_EQ(c->options.db_path, "/d/corp.db");
  EXPECT_EQ(c->options.unused_po_grace_ms, d.unused_po_grace_ms);
  EXPECT_EQ(c->options.ledger_check_interval_ms, d.ledger_check_interval_ms);
  EXPECT_FALSE(c->options.admin_key.has_value());
  EXPECT_EQ(c->options.durability, SqliteDurability::kSynced) << "the daemon syncs every commit";
}

TEST(CorpConfigTest, FileKeysAreRead) {
  auto c = parse("data_dir = \"/d\"\nlisten = \"0.0.0.0:9\"\nunused_po_grace_ms = \"2m\"\nusage_clock_skew_ms = 5\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "0.0.0.0:9");
  EXPECT_EQ(c->options.unused_po_grace_ms, 120'000);
  EXPECT_EQ(c->options.usage_clock_skew_ms, 5);
}

// The case: a config file used to override an explicit --listen flag.
TEST(CorpConfigTest, FlagWinsOverFile) {
  auto c = parse("data_dir = \"/file\"\nlisten = \"127.0.0.1:7000\"\n",
                 {{"listen", "127.0.0.1:0"}, {"data_dir", "/flag"}, {"ledger_check_interval_ms", "1s"}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:0");
  EXPECT_EQ(c->data_dir, "/flag");
  EXPECT_EQ(c->options.db_path, "/flag/corp.db");
  EXPECT_EQ(c->options.ledger_check_interval_ms, 1000);
}

TEST(CorpConfigTest, UnknownKeysAndFlagsAreRefused) {
  expect_invalid("data_dir = \"/d\"\ncolour = 1\n", {}, "colour");
  expect_invalid("data_dir = \"/d\"\n", {{"colour", "red"}}, "colour");
}

TEST(CorpConfigTest, MalformedValuesAreRefused) {
  expect_invalid("", {}, "data_dir");
  expect_invalid("data_dir = \"/d\"\nusage_clock_skew_ms = -1\n", {}, "usage_clock_skew_ms");
  expect_invalid("data_dir = \"/d\"\n", {{"usage_clock_skew_ms", "-5"}}, "usage_clock_skew_ms");
  expect_invalid("data_dir = \"/d\"\n", {{"usage_clock_skew_ms", "5 parsecs"}}, "usage_clock_skew_ms");
  expect_invalid("data_dir = \"/d\"\nlisten = \"nowhere\"\n", {}, "listen");
  expect_invalid("data_dir = \"/d\"\nadmin_public_key = \"!!\"\n", {}, "admin_public_key");
  expect_invalid("data_dir = \"/d\"\n", {{"data_dir", std::string("\xff\xfe", 2)}}, "UTF-8");
  // Duplicate keys and non-UTF-8 are refused by the TOML parser.
  EXPECT_FALSE(parse("data_dir = \"/d\"\ndata_dir = \"/e\"\n"));
  EXPECT_FALSE(parse("data_dir = \"/\xff\"\n"));
}

TEST(CorpConfigTest, OversizedFileIsRefused) {
  testing::TempDir t;
  testing::write_file(t.file("big.toml"), "data_dir = \"/d\"\n# " + std::string(2 << 20, 'x') + "\n");
  auto c = load_corp_config(t.file("big.toml"));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("larger"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace xop
