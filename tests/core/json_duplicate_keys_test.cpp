// parse_json refuses objects that name a key twice, at any depth, and accepts the same key in
// different objects.
#include <gtest/gtest.h>

#include "core/json_reader.h"

namespace xop {
namespace {

TEST(JsonDuplicateKeys, RefusedAtTopLevel) {
  auto r = parse_json(R"({"amount": 1, "amount": 1000000})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("amount"), std::string::npos);
}

TEST(JsonDuplicateKeys, RefusedWhenNested) {
  EXPECT_FALSE(parse_json(R"({"a": {"b": 1, "c": [ {"d": 1, "d": 2} ]}})").has_value());
}

TEST(JsonDuplicateKeys, SameKeyInSiblingObjectsIsFine) {
  auto r = parse_json(R"({"x": {"k": 1}, "y": {"k": 2}, "z": [{"k": 3}, {"k": 4}]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)["z"][1]["k"], 4);
}

}  // namespace
}  // namespace xop
