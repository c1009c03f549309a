// The Idempotency-Key header parser (proto/idempotency_key.h): both forms, every refusal, and
// hostile or oversized values.
#include "proto/idempotency_key.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xop {
namespace {

std::string key_of(std::string_view v) {
  auto k = parse_idempotency_key(v);
  EXPECT_TRUE(k) << "[" << v << "]: " << (k ? "" : k.error().to_string());
  return k ? *k : "";
}

void expect_refused(std::string_view v, const std::string& why) {
  auto k = parse_idempotency_key(v);
  ASSERT_FALSE(k) << "[" << v << "] parsed as [" << *k << "]";
  EXPECT_EQ(k.error().code, ErrorCode::kInvalidIdempotencyKey);
  EXPECT_NE(k.error().message.find(why), std::string::npos) << k.error().message;
}

TEST(IdempotencyKeyTest, QuotedStringsAndBareTokens) {
  EXPECT_EQ(key_of("\"8e03978e-40d5-43e8-bc93-6894a57f9324\""), "8e03978e-40d5-43e8-bc93-6894a57f9324");
  EXPECT_EQ(key_of("ik0123"), "ik0123");
  EXPECT_EQ(key_of(" \t\"spaced key\"\t "), "spaced key");
  EXPECT_EQ(key_of(R"("a\"b\\c")"), "a\"b\\c");
  EXPECT_EQ(key_of(std::string(255, 'k')), std::string(255, 'k'));
  EXPECT_EQ(key_of("\"" + std::string(255, ' ') + "\""), std::string(255, ' '));
}

TEST(IdempotencyKeyTest, MalformedValuesAreRefusedSayingWhy) {
  expect_refused("", "empty");
  expect_refused("  \t ", "empty");
  expect_refused("\"\"", "empty");
  expect_refused(std::string(256, 'k'), "longer than 255");
  expect_refused("\"" + std::string(256, 'k') + "\"", "longer than 255");
  expect_refused(std::string(10000, '"'), "longer than 255");
  expect_refused("two words", "visible ASCII");
  expect_refused("caf\xc3\xa9", "visible ASCII");
  expect_refused(std::string("nul\0byte", 8), "visible ASCII");
  expect_refused("\"caf\xc3\xa9\"", "printable ASCII");
  expect_refused("\"tab\there\"", "printable ASCII");
  expect_refused("\"unterminated", "unterminated");
  expect_refused("\"ends with backslash\\", "backslash");
  expect_refused("\"bad\\escape\"", "backslash");
  expect_refused("\"a\"b", "after the closing quote");
}

TEST(IdempotencyKeyTest, FormatRoundTrips) {
  for (const std::string& k : std::vector<std::string>{"a", "a\"b\\c", "with space", std::string(255, '\\')}) {
    auto back = parse_idempotency_key(format_idempotency_key(k));
    ASSERT_TRUE(back) << k;
    EXPECT_EQ(*back, k);
  }
}

}  // namespace
}  // namespace xop
