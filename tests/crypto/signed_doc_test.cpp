#include "crypto/signed_doc.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/canonical.h"

namespace xop {
namespace {

TEST(CanonicalJsonTest, SortsKeysAndDropsWhitespace) {
  const auto a = parse_json(R"({ "b": 1, "a": {"z": [1, 2], "y": "s"} })");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*canonical_json(*a), R"({"a":{"y":"s","z":[1,2]},"b":1})");
}

TEST(CanonicalJsonTest, SameContentGivesSameBytes) {
  const auto a = parse_json(R"({"x":1,"y":[true,false,null],"z":"\u00e9"})");
  const auto b = parse_json("{\n \"z\" : \"\xc3\xa9\",\"y\":[ true ,false, null ],  \"x\":1}");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*canonical_json(*a), *canonical_json(*b));
  // Integers from text (unsigned) and from code (signed) encode the same.
  EXPECT_EQ(*canonical_json(Json{{"n", 5}}), *canonical_json(*parse_json(R"({"n":5})")));
}

TEST(CanonicalJsonTest, KeysAreInByteOrder) {
  Json j;
  j["b"] = 1;
  j["B"] = 2;
  j["a"] = 3;
  j["\xc3\xa9"] = 4;  // é sorts after ASCII
  j["_"] = 5;
  EXPECT_EQ(*canonical_json(j), R"({"B":2,"_":5,"a":3,"b":1,"\u00e9":4})");
}

TEST(CanonicalJsonTest, OutputIsAsciiOnly) {
  const auto c = canonical_json(Json{{"k", "caf\xc3\xa9 \xf0\x9f\x98\x80 \n\t\"\\"}});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, R"({"k":"caf\u00e9 \ud83d\ude00 \n\t\"\\"})");
  for (unsigned char ch : *c) EXPECT_LT(ch, 0x80);
}

TEST(CanonicalJsonTest, RefusesFloats) {
  EXPECT_FALSE(canonical_json(Json{{"x", 1.5}}).has_value());
  EXPECT_FALSE(canonical_json(Json{{"x", Json::array({1, 2.0})}}).has_value());
  EXPECT_FALSE(canonical_json(*parse_json(R"({"a":{"b":[{"c":1e3}]}})")).has_value());
  EXPECT_FALSE(canonical_json(Json(0.0)).has_value());
}

TEST(CanonicalJsonTest, RefusesInvalidUtf8) {
  auto r = canonical_json(Json{{"k", "\xff"}});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("UTF-8"), std::string::npos);
  Json bad_key;
  bad_key["\xc3"] = 1;
  EXPECT_FALSE(canonical_json(bad_key).has_value());
}

TEST(CanonicalJsonTest, RefusesExcessiveNesting) {
  Json deep = 1;
  for (int i = 0; i < 40; ++i) deep = Json::array({deep});
  EXPECT_FALSE(canonical_json(deep).has_value());
  Json ok = 1;
  for (int i = 0; i < 30; ++i) ok = Json::array({ok});
  EXPECT_TRUE(canonical_json(ok).has_value());
}

TEST(CanonicalJsonTest, ExtremeIntegers) {
  EXPECT_EQ(*canonical_json(Json{{"a", INT64_MIN}, {"b", INT64_MAX}}),
            R"({"a":-9223372036854775808,"b":9223372036854775807})");
}

class SignedDocTest : public ::testing::Test {
 protected:
  KeyPair key_ = KeyPair::generate();
  Json body_ = Json{{"server", key_.account_id()}, {"n", 42}, {"list", Json::array({"a", "b"})}};

  Json signed_json() { return SignedDoc::sign("thing", body_, key_)->to_json(); }
};

TEST_F(SignedDocTest, SignsAndVerifies) {
  auto doc = SignedDoc::sign("thing", body_, key_);
  ASSERT_TRUE(doc.has_value());
  EXPECT_TRUE(doc->verify().has_value());
  EXPECT_EQ(doc->signer, key_.public_key());
  EXPECT_EQ(doc->signature.size(), 64u);
  EXPECT_EQ(doc->digest().size(), 64u);
  auto back = SignedDoc::from_json(doc->to_json(), "thing");
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->body, body_);
  EXPECT_EQ(back->digest(), doc->digest());
}

TEST_F(SignedDocTest, SurvivesTextRoundTrip) {
  const std::string text = signed_json().dump(2);
  auto j = parse_json(text);
  ASSERT_TRUE(j.has_value());
  EXPECT_TRUE(SignedDoc::from_json(*j, "thing").has_value());
}

TEST_F(SignedDocTest, MessageCoversTypeAndCanonicalBody) {
  auto m = signed_doc_message("thing", Json{{"b", 1}, {"a", 2}});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, "xop-doc-v1\nthing\n{\"a\":2,\"b\":1}");
  EXPECT_FALSE(signed_doc_message("thing", Json{{"f", 0.5}}).has_value());
  EXPECT_FALSE(SignedDoc::sign("thing", Json{{"f", 0.5}}, key_).has_value());
}

TEST_F(SignedDocTest, TamperedBodyIsRefused) {
  auto j = signed_json();
  j["body"]["n"] = 43;
  auto r = SignedDoc::from_json(j, "thing");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  auto j2 = signed_json();
  j2["body"]["extra"] = true;
  EXPECT_FALSE(SignedDoc::from_json(j2, "thing").has_value());
  auto j3 = signed_json();
  j3["body"]["n"] = 42.0;  // same value as a float: refused (not canonical)
  EXPECT_FALSE(SignedDoc::from_json(j3, "thing").has_value());
}

TEST_F(SignedDocTest, WrongTypeIsRefused) {
  auto r = SignedDoc::from_json(signed_json(), "other");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  // Relabelling the type breaks the signature: a signature for one type is not valid for another.
  auto j = signed_json();
  j["type"] = "other";
  auto r2 = SignedDoc::from_json(j, "other");
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(SignedDocTest, SwappedSignerIsRefused) {
  auto j = signed_json();
  j["signer"] = KeyPair::generate().public_key().base64();
  auto r = SignedDoc::from_json(j, "thing");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  // A doc re-signed by another key verifies by itself; checking *who* signed is the caller's job.
  auto other = KeyPair::generate();
  auto resigned = SignedDoc::sign("thing", body_, other);
  auto back = SignedDoc::from_json(resigned->to_json(), "thing");
  ASSERT_TRUE(back.has_value());
  EXPECT_NE(back->signer, key_.public_key());
}

TEST_F(SignedDocTest, MalformedSignatureAndSignerAreRefused) {
  const auto sig = signed_json()["signature"].get<std::string>();
  const std::vector<std::pair<const char*, Json>> cases = {
      {"signature", "!!!!"},
      {"signature", sig.substr(0, sig.size() - 4)},  // truncated to 60 bytes (valid base64)
      {"signature", sig.substr(0, sig.size() - 1)},  // not base64 any more
      {"signature", base64_encode(std::string(65, 'x'))},
      {"signature", ""},
      {"signature", 5},
      {"signature", std::string(200, 'A')},
      {"signer", "!!!!"},
      {"signer", base64_encode(std::string(31, 'k'))},
      {"signer", ""},
      {"signer", Json::array()},
  };
  for (const auto& [field, value] : cases) {
    auto j = signed_json();
    j[field] = value;
    auto r = SignedDoc::from_json(j, "thing");
    EXPECT_FALSE(r.has_value()) << field << "=" << value.dump();
  }
}

TEST_F(SignedDocTest, StructuralProblemsAreRefused) {
  for (const char* drop : {"type", "body", "signer", "signature"}) {
    auto j = signed_json();
    j.erase(drop);
    EXPECT_FALSE(SignedDoc::from_json(j, "thing").has_value()) << drop;
  }
  auto j = signed_json();
  j["unexpected"] = 1;
  EXPECT_FALSE(SignedDoc::from_json(j, "thing").has_value());
  auto k = signed_json();
  k["body"] = Json::array();
  EXPECT_FALSE(SignedDoc::from_json(k, "thing").has_value());
  EXPECT_FALSE(SignedDoc::from_json(Json::array(), "thing").has_value());
  EXPECT_FALSE(SignedDoc::from_json(Json(), "thing").has_value());
}

TEST_F(SignedDocTest, VerifyDetectsInMemoryTampering) {
  auto doc = *SignedDoc::sign("thing", body_, key_);
  doc.body["n"] = 1;
  EXPECT_FALSE(doc.verify().has_value());
  auto doc2 = *SignedDoc::sign("thing", body_, key_);
  doc2.type = "thing2";
  EXPECT_FALSE(doc2.verify().has_value());
}

}  // namespace
}  // namespace xop
