// VerifiedSignatures: only triples that verified are remembered, a remembered triple is
// recognised exactly (any other key, message or signature is checked afresh), the memory is
// bounded, and a signed document changed after it verified no longer verifies.
#include "crypto/verified_signatures.h"

#include <gtest/gtest.h>

#include "crypto/signed_doc.h"

namespace xop {
namespace {

TEST(VerifiedSignaturesTest, RemembersOnlyWhatVerified) {
  VerifiedSignatures memory(8);
  const KeyPair k = KeyPair::generate();
  const KeyPair other = KeyPair::generate();
  const std::string sig = k.sign("hello");
  EXPECT_FALSE(memory.contains(k.public_key(), "hello", sig));
  EXPECT_TRUE(memory.verify(k.public_key(), "hello", sig));
  EXPECT_TRUE(memory.contains(k.public_key(), "hello", sig));
  EXPECT_TRUE(memory.verify(k.public_key(), "hello", sig)) << "again, from memory";
  EXPECT_EQ(memory.size(), 1u);

  // Any change to the triple is a different one, checked in full and refused.
  EXPECT_FALSE(memory.verify(k.public_key(), "hellO", sig));
  EXPECT_FALSE(memory.verify(other.public_key(), "hello", sig));
  std::string flipped = sig;
  flipped[10] = static_cast<char>(flipped[10] ^ 1);
  EXPECT_FALSE(memory.verify(k.public_key(), "hello", flipped));
  EXPECT_FALSE(memory.verify(k.public_key(), "hello", sig.substr(0, 63)));
  EXPECT_EQ(memory.size(), 1u) << "failures are never remembered";
  EXPECT_FALSE(memory.contains(k.public_key(), "hellO", sig));
}

TEST(VerifiedSignaturesTest, TheOldestGoesWhenFull) {
  VerifiedSignatures memory(2);
  const KeyPair k = KeyPair::generate();
  const std::string a = k.sign("a");
  const std::string b = k.sign("b");
  const std::string c = k.sign("c");
  ASSERT_TRUE(memory.verify(k.public_key(), "a", a));
  ASSERT_TRUE(memory.verify(k.public_key(), "b", b));
  ASSERT_TRUE(memory.verify(k.public_key(), "c", c));
  EXPECT_EQ(memory.size(), 2u);
  EXPECT_FALSE(memory.contains(k.public_key(), "a", a));
  EXPECT_TRUE(memory.contains(k.public_key(), "b", b));
  EXPECT_TRUE(memory.contains(k.public_key(), "c", c));
  EXPECT_TRUE(memory.verify(k.public_key(), "a", a)) << "forgotten, it is checked again and passes";
  memory.clear();
  EXPECT_EQ(memory.size(), 0u);
  EXPECT_FALSE(memory.contains(k.public_key(), "c", c));
}

TEST(VerifiedSignaturesTest, ADocumentChangedAfterVerifyingIsRefused) {
  const KeyPair k = KeyPair::generate();
  auto doc = SignedDoc::sign("test-doc", Json{{"amount", 5}}, k);
  ASSERT_TRUE(doc);
  ASSERT_TRUE(doc->verify());
  ASSERT_TRUE(doc->verify()) << "the second check (from memory) agrees";
  EXPECT_TRUE(VerifiedSignatures::documents().contains(k.public_key(), *signed_doc_message(doc->type, doc->body),
                                                       doc->signature));
  SignedDoc changed = *doc;
  changed.body["amount"] = 6;
  EXPECT_FALSE(changed.verify());
  SignedDoc retyped = *doc;
  retyped.type = "other-doc";
  EXPECT_FALSE(retyped.verify());
  SignedDoc resigned = *doc;
  resigned.signer = KeyPair::generate().public_key();
  EXPECT_FALSE(resigned.verify());
  // Decoding from the wire goes through the same check.
  Json wire = doc->to_json();
  wire["body"]["amount"] = 7;
  EXPECT_FALSE(SignedDoc::from_json(wire, "test-doc"));
  EXPECT_TRUE(SignedDoc::from_json(doc->to_json(), "test-doc"));
}

}  // namespace
}  // namespace xop
