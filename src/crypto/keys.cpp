#include "crypto/keys.h"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/json_reader.h"
#include "crypto/digest.h"

namespace xop {
namespace {
void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // the process cannot do anything safe without it
  });
}
}  // namespace

Result<PublicKey> PublicKey::from_bytes(std::string_view raw) {
  if (raw.size() != kSize) return invalid("public key must be 32 bytes");
  PublicKey k;
  k.raw_ = std::string(raw);
  return k;
}

Result<PublicKey> PublicKey::from_base64(std::string_view b64) {
  XOP_ASSIGN_OR_RETURN(auto raw, base64_decode(b64));
  return from_bytes(raw);
}

std::string PublicKey::base64() const { return base64_encode(raw_); }

std::string PublicKey::account_id() const {
  // Appended into a reserved string rather than `"a" + hex`: GCC 12 at -O3 reports a false
  // -Wrestrict inside libstdc++'s operator+(const char*, string&&) (GCC bug 105329).
  std::string id;
  id.reserve(41);
  id.push_back('a');
  id.append(hex_encode(sha256(raw_).substr(0, 20)));
  return id;
}

bool PublicKey::verify(std::string_view message, std::string_view signature) const {
  ensure_sodium();
  if (signature.size() != crypto_sign_BYTES || raw_.size() != kSize) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(raw_.data())) == 0;
}

KeyPair KeyPair::generate() {
  ensure_sodium();
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  auto kp = from_seed_base64(base64_encode(seed));
  sodium_memzero(seed.data(), seed.size());
  return *kp;
}

Result<KeyPair> KeyPair::from_seed_base64(std::string_view b64) {
  ensure_sodium();
  XOP_ASSIGN_OR_RETURN(auto seed, base64_decode(b64));
  if (seed.size() != crypto_sign_SEEDBYTES) return invalid("key seed must be 32 bytes");
  KeyPair kp;
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  kp.secret_.assign(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(pk.data()),
                           reinterpret_cast<unsigned char*>(kp.secret_.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  kp.pub_ = *PublicKey::from_bytes(pk);
  return kp;
}

std::string KeyPair::seed_base64() const {
  // The libsodium secret key is seed || public key.
  return base64_encode(std::string_view(secret_).substr(0, crypto_sign_SEEDBYTES));
}

std::string KeyPair::sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()));
  return sig;
}

Status save_key_file(const KeyPair& kp, const std::string& path) {
  return write_file_atomic(
      path, Json{{"seed", kp.seed_base64()}, {"public_key", kp.public_key().base64()}}.dump() + "\n", 0600);
}

Status create_key_file(const KeyPair& kp, const std::string& path) {
  return write_file_new(path, Json{{"seed", kp.seed_base64()}, {"public_key", kp.public_key().base64()}}.dump() + "\n",
                        0600);
}

Result<KeyPair> load_key_file(const std::string& path) {
  auto text = read_file_capped(path, 4096);
  if (!text && text.error().code == ErrorCode::kNotFound)
    return make_error(ErrorCode::kNotFound, "no key file at " + path);
  if (!text) return invalid(path + ": key file too large");
  XOP_ASSIGN_OR_RETURN(auto j, parse_json(*text));
  JsonReader r(j, "key file");
  auto seed = r.str("seed", 128);
  auto pub = r.opt_str("public_key", 128);
  XOP_RETURN_IF_ERROR(r.finish());
  XOP_ASSIGN_OR_RETURN(auto kp, KeyPair::from_seed_base64(seed));
  if (pub && *pub != kp.public_key().base64()) return invalid(path + ": public key does not match the seed");
  return kp;
}

bool is_account_id(std::string_view id) {
  if (id.size() != 41 || id[0] != 'a') return false;
  for (char c : id.substr(1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string random_id(std::string_view prefix) {
  ensure_sodium();
  std::string raw(16, '\0');
  randombytes_buf(raw.data(), raw.size());
  return std::string(prefix) + hex_encode(raw);
}

}  // namespace xop
