#include "crypto/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "core/encoding.h"
#include "core/json_reader.h"
#include "crypto/digest.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::TempDir;

TEST(KeysTest, AccountIdIsDerivedFromThePublicKey) {
  const auto kp = KeyPair::generate();
  const std::string id = kp.account_id();
  EXPECT_EQ(id.size(), 41u);
  EXPECT_EQ(id[0], 'a');
  EXPECT_TRUE(is_account_id(id));
  EXPECT_EQ(id, "a" + hex_encode(sha256(kp.public_key().bytes()).substr(0, 20)));
  EXPECT_EQ(id, kp.public_key().account_id());
  EXPECT_NE(id, KeyPair::generate().account_id());
}

TEST(KeysTest, KnownSeedGivesKnownKey) {
  // RFC 8032 test vector 1.
  const auto seed = *hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  auto kp = KeyPair::from_seed_base64(base64_encode(seed));
  ASSERT_TRUE(kp.has_value());
  EXPECT_EQ(hex_encode(kp->public_key().bytes()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(
      hex_encode(kp->sign("")),
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bb"
      "e24655141438e7a100b");
  EXPECT_EQ(kp->seed_base64(), base64_encode(seed));
}

TEST(KeysTest, IsAccountIdRejectsMalformed) {
  const std::string good = "a" + std::string(40, '0');
  EXPECT_TRUE(is_account_id(good));
  EXPECT_FALSE(is_account_id(""));
  EXPECT_FALSE(is_account_id("b" + std::string(40, '0')));
  EXPECT_FALSE(is_account_id("a" + std::string(39, '0')));
  EXPECT_FALSE(is_account_id("a" + std::string(41, '0')));
  EXPECT_FALSE(is_account_id("a" + std::string(39, '0') + "A"));
  EXPECT_FALSE(is_account_id("a" + std::string(39, '0') + "g"));
  EXPECT_FALSE(is_account_id("A" + std::string(40, '0')));
}

TEST(KeysTest, SignAndVerify) {
  const auto kp = KeyPair::generate();
  const auto sig = kp.sign("hello");
  EXPECT_EQ(sig.size(), KeyPair::kSignatureSize);
  EXPECT_TRUE(kp.public_key().verify("hello", sig));
  EXPECT_FALSE(kp.public_key().verify("hellp", sig));
  EXPECT_FALSE(KeyPair::generate().public_key().verify("hello", sig));
  std::string bad = sig;
  bad[10] = static_cast<char>(bad[10] ^ 1);
  EXPECT_FALSE(kp.public_key().verify("hello", bad));
  EXPECT_FALSE(kp.public_key().verify("hello", sig.substr(0, 63)));
  EXPECT_FALSE(kp.public_key().verify("hello", sig + "x"));
  EXPECT_FALSE(kp.public_key().verify("hello", ""));
}

TEST(KeysTest, PublicKeyParsing) {
  const auto kp = KeyPair::generate();
  auto pk = PublicKey::from_base64(kp.public_key().base64());
  ASSERT_TRUE(pk.has_value());
  EXPECT_EQ(*pk, kp.public_key());
  EXPECT_FALSE(PublicKey::from_bytes(std::string(31, 'x')).has_value());
  EXPECT_FALSE(PublicKey::from_bytes(std::string(33, 'x')).has_value());
  EXPECT_FALSE(PublicKey::from_base64("not base64!").has_value());
  EXPECT_FALSE(PublicKey::from_base64(base64_encode(std::string(16, 'x'))).has_value());
  EXPECT_FALSE(KeyPair::from_seed_base64(base64_encode(std::string(31, 'x'))).has_value());
  EXPECT_FALSE(KeyPair::from_seed_base64("%%%%").has_value());
}

TEST(KeysTest, SaveAndLoadKeyFile) {
  TempDir dir;
  const auto kp = KeyPair::generate();
  const auto path = dir.file("key.json");
  ASSERT_TRUE(save_key_file(kp, path).has_value());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = load_key_file(path);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->public_key(), kp.public_key());
  EXPECT_EQ(back->seed_base64(), kp.seed_base64());
  // Overwriting keeps the mode and replaces the key.
  const auto kp2 = KeyPair::generate();
  ASSERT_TRUE(save_key_file(kp2, path).has_value());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(load_key_file(path)->public_key(), kp2.public_key());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(KeysTest, KeyFileWithoutPublicKeyLoads) {
  TempDir dir;
  const auto kp = KeyPair::generate();
  testing::write_file(dir.file("k"), Json{{"seed", kp.seed_base64()}}.dump());
  auto back = load_key_file(dir.file("k"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->public_key(), kp.public_key());
}

TEST(KeysTest, KeyFileWithMismatchedPublicKeyIsRefused) {
  TempDir dir;
  const auto kp = KeyPair::generate();
  testing::write_file(
      dir.file("k"),
      Json{{"seed", kp.seed_base64()}, {"public_key", KeyPair::generate().public_key().base64()}}.dump());
  auto r = load_key_file(dir.file("k"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("does not match"), std::string::npos);
}

TEST(KeysTest, MalformedKeyFilesAreRefused) {
  TempDir dir;
  const auto seed = KeyPair::generate().seed_base64();
  const std::string cases[] = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"seed": 5})",
      R"({"seed": "%%%%"})",
      Json{{"seed", base64_encode(std::string(16, 'x'))}}.dump(),
      Json{{"seed", seed}, {"extra", 1}}.dump(),
      Json{{"seed", seed}, {"public_key", 7}}.dump(),
      Json{{"seed", seed}, {"pad", std::string(5000, ' ')}}.dump(),
  };
  for (const auto& c : cases) {
    testing::write_file(dir.file("k"), c);
    auto r = load_key_file(dir.file("k"));
    EXPECT_FALSE(r.has_value()) << c.substr(0, 80);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.substr(0, 80);
    }
  }
}

TEST(KeysTest, MissingKeyFileIsNotFound) {
  TempDir dir;
  auto r = load_key_file(dir.file("none"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST(KeysTest, SaveIntoMissingDirectoryFails) {
  TempDir dir;
  EXPECT_FALSE(save_key_file(KeyPair::generate(), dir.file("no/such/dir/key")).has_value());
}

TEST(KeysTest, RandomIdsAreWellFormedAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    auto id = random_id("s");
    ASSERT_EQ(id.size(), 33u);
    ASSERT_EQ(id[0], 's');
    ASSERT_TRUE(hex_decode(id.substr(1)).has_value());
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(DigestTest, KnownVectorsAndOciForm) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256("abc").size(), 32u);
  EXPECT_EQ(oci_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(is_oci_digest(oci_digest("x")));
  EXPECT_FALSE(is_oci_digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(is_oci_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(is_oci_digest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(is_oci_digest(std::string(71, 'a')));
}

TEST(DigestTest, StreamAndFileMatchOneShot) {
  Sha256Stream s;
  s.update("a");
  s.update("bc");
  EXPECT_EQ(s.hex_final(), sha256_hex("abc"));
  TempDir dir;
  const std::string content(300000, 'z');
  testing::write_file(dir.file("blob"), content);
  EXPECT_EQ(*oci_digest_of_file(dir.file("blob")), oci_digest(content));
  EXPECT_EQ(oci_digest_of_file(dir.file("nope")).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace xop
