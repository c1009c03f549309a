#include "core/encoding.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace xop {
namespace {

std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

TEST(HexTest, EncodesLowercase) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

TEST(HexTest, RoundTripsEveryByte) {
  const auto bytes = all_bytes();
  auto back = hex_decode(hex_encode(bytes));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, bytes);
}

TEST(HexTest, DecodesUppercase) { EXPECT_EQ(*hex_decode("ABff"), std::string("\xab\xff")); }

TEST(HexTest, RefusesOddLengthAndBadDigits) {
  EXPECT_FALSE(hex_decode("abc").has_value());
  EXPECT_FALSE(hex_decode("0").has_value());
  for (const char* bad : {"0g", "g0", "  ", "0x", "-1", "zz"}) {
    auto r = hex_decode(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(hex_decode(std::string("0\0", 2)).has_value());
  EXPECT_FALSE(hex_decode("\xff\xff").has_value());
}

TEST(Base64Test, KnownVectors) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, enc] : vectors) {
    EXPECT_EQ(base64_encode(plain), enc);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(*dec, plain);
  }
}

TEST(Base64Test, RoundTripsRandomBytesOfEveryLength) {
  std::mt19937 rng(7);
  for (size_t len = 0; len < 200; ++len) {
    std::string s(len, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back.has_value()) << len;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(*base64_decode(base64_encode(all_bytes())), all_bytes());
}

TEST(Base64Test, RefusesBadLength) {
  for (const char* bad : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYmFy="}) {
    auto r = base64_decode(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(Base64Test, RefusesInvalidCharacters) {
  for (const char* bad : {"Zm9-", "Zm9_", "Zm 9", "Zm9\n", "Zm9.", "****"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(base64_decode(std::string("Zm9\0", 4)).has_value());
  EXPECT_FALSE(base64_decode("Zm9\x80").has_value());
}

TEST(Base64Test, RefusesMisplacedPadding) {
  for (const char* bad : {"====", "Z===", "=Zm9", "Zg==Zm9v", "Zm=v", "Z=g=", "Zg=a"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace xop
