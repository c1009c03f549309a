#include "xis/xis_config.h"

#include <gtest/gtest.h>

#include "core/toml_reader.h"

namespace xop {
namespace {

Result<XisConfig> parse(const std::string& text, const ConfigFlags& flags = {}) {
  XOP_ASSIGN_OR_RETURN(auto t, parse_toml(text, "xis.toml"));
  return xis_config_from_toml(t, flags);
}

void expect_invalid(const std::string& text, const ConfigFlags& flags, const std::string& words) {
  auto c = parse(text, flags);
  ASSERT_FALSE(c) << "accepted:\n" << text;
  EXPECT_NE(c.error().message.find(words), std::string::npos) << c.error().message;
}

TEST(XisConfigTest, Defaults) {
  auto c = parse("corp_url = \"http://127.0.0.1:1\"\n");
  ASSERT_TRUE(c) << c.error().message;
  const XisOptions d;
  EXPECT_EQ(c->listen, "127.0.0.1:7401");
  EXPECT_EQ(c->options.max_ttl_ms, d.max_ttl_ms);
  EXPECT_EQ(c->options.max_adverts, d.max_adverts);
  EXPECT_EQ(c->options.max_per_owner, d.max_per_owner);
  EXPECT_FALSE(c->open);
}

TEST(XisConfigTest, FlagWinsOverFile) {
  auto c = parse("corp_url = \"http://a:1\"\nlisten = \"127.0.0.1:7000\"\nmax_adverts = 5\n",
                 {{"listen", "127.0.0.1:0"}, {"max_adverts", "7"}, {"max_ttl_ms", "2s"}});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "127.0.0.1:0");
  EXPECT_EQ(c->options.max_adverts, 7u);
  EXPECT_EQ(c->options.max_ttl_ms, 2000);
  EXPECT_EQ(c->corp_url, "http://a:1");
}

TEST(XisConfigTest, RefusesUnknownAndMalformed) {
  expect_invalid("open = true\nshade = 1\n", {}, "shade");
  expect_invalid("open = true\n", {{"shade", "1"}}, "shade");
  expect_invalid("", {}, "--corp-url");
  expect_invalid("open = \"yes\"\n", {}, "open");
  expect_invalid("open = true\nmax_ttl_ms = -1\n", {}, "max_ttl_ms");
  expect_invalid("open = true\n", {{"max_adverts", "0"}}, "max_adverts");
  expect_invalid("open = true\n", {{"max_adverts", "12MiB"}}, "max_adverts");
  EXPECT_FALSE(parse("open = true\nopen = false\n"));
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

TEST(XisConfigTest, NatsSharingKeysAreCheckedAndTakeTheAdvertTtl) {
  auto c = parse("open = true\nmax_ttl_ms = \"30s\"\nnats_url = \"nats://127.0.0.1:4222, nats://10.0.0.2:4222\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->nats.bucket, "xop_adverts");
  EXPECT_EQ(c->nats.max_age_ms, 30'000);
  auto off = parse("open = true\n");
  ASSERT_TRUE(off);
  EXPECT_TRUE(off->nats.url.empty()) << "sharing is off unless asked for";
  expect_invalid("open = true\nnats_url = \"http://127.0.0.1:4222\"\n", {}, "nats://");
  expect_invalid("open = true\nnats_url = \"nats://a:1,,nats://b:2\"\n", {}, "nats://");
  expect_invalid("open = true\nnats_url = \"nats://a:1\"\nnats_bucket = \"bad.bucket\"\n", {}, "nats_bucket");
  expect_invalid("open = true\nnats_url = \"nats://a:1\"\nnats_bucket = \"\"\n", {}, "nats_bucket");
  expect_invalid("open = true\nnats_url = 4222\n", {}, "nats_url");
  expect_invalid("open = true\nnats_urls = \"nats://a:1\"\n", {}, "nats_urls");
}

}  // namespace
}  // namespace xop
