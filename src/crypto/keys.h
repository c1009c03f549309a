// Ed25519 identities (libsodium). A participant is its public key; its account id is derived
// from the key: "a" + the first 20 bytes of SHA-256(public key) in hex (41 characters).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace xop {

class PublicKey {
 public:
  static constexpr size_t kSize = 32;
  // From 32 raw bytes / base64 text.
  static Result<PublicKey> from_bytes(std::string_view raw);
  static Result<PublicKey> from_base64(std::string_view b64);

  [[nodiscard]] const std::string& bytes() const { return raw_; }
  [[nodiscard]] std::string base64() const;
  [[nodiscard]] std::string account_id() const;
  // Checks a detached signature over `message`.
  [[nodiscard]] bool verify(std::string_view message, std::string_view signature) const;

  friend bool operator==(const PublicKey&, const PublicKey&) = default;

 private:
  std::string raw_;
};

class KeyPair {
 public:
  static constexpr size_t kSignatureSize = 64;
  static KeyPair generate();
  // From the 32-byte seed (base64), as stored in key files.
  static Result<KeyPair> from_seed_base64(std::string_view b64);

  [[nodiscard]] const PublicKey& public_key() const { return pub_; }
  [[nodiscard]] std::string seed_base64() const;
  [[nodiscard]] std::string sign(std::string_view message) const;  // 64 raw bytes
  [[nodiscard]] std::string account_id() const { return pub_.account_id(); }

 private:
  PublicKey pub_;
  std::string secret_;  // 64-byte libsodium secret key
};

// Saves/loads a key pair as a small JSON file {"seed": base64} with mode 0600.
Status save_key_file(const KeyPair& kp, const std::string& path);
// As save_key_file, but refuses (kConflict) when `path` exists and leaves nothing behind on any
// failure (core/file_util.h write_file_new).
Status create_key_file(const KeyPair& kp, const std::string& path);
Result<KeyPair> load_key_file(const std::string& path);

// True for a syntactically valid account id.
bool is_account_id(std::string_view id);

// Random identifier: prefix + 32 hex characters (128 bits from the OS CSPRNG).
std::string random_id(std::string_view prefix);

}  // namespace xop
