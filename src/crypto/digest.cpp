#include "crypto/digest.h"

#include <openssl/evp.h>

#include <array>
#include <fstream>

#include "core/encoding.h"

namespace xop {
namespace {

// Fetched once: EVP_sha256() would make every digest fetch the implementation again (OpenSSL 3).
const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

}  // namespace

struct Sha256Stream::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256Stream::Sha256Stream() : impl_(std::make_unique<Impl>()) { EVP_DigestInit_ex(impl_->ctx, sha256_md(), nullptr); }
Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::update(std::string_view data) { EVP_DigestUpdate(impl_->ctx, data.data(), data.size()); }

std::string Sha256Stream::hex_final() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(out.data()), len));
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string sha256_hex(std::string_view data) { return hex_encode(sha256(data)); }
std::string oci_digest(std::string_view data) { return "sha256:" + sha256_hex(data); }

bool is_oci_digest(std::string_view d) {
  if (d.size() != 7 + 64 || d.substr(0, 7) != "sha256:") return false;
  for (char c : d.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> oci_digest_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, "cannot read " + path);
  Sha256Stream h;
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    h.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  return "sha256:" + h.hex_final();
}

}  // namespace xop
