#include "crypto/verified_signatures.h"

#include "crypto/digest.h"

namespace xop {
namespace {

// Length-prefixed fields would be needed if the key and signature sizes varied; they are fixed
// (32 and 64 bytes) for every triple remembered, so the concatenation is unambiguous.
std::string triple_digest(const PublicKey& key, std::string_view message, std::string_view signature) {
  std::string all;
  all.reserve(key.bytes().size() + signature.size() + message.size());
  all.append(key.bytes());
  all.append(signature);
  all.append(message);
  return sha256(all);
}

}  // namespace

VerifiedSignatures::VerifiedSignatures(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

bool VerifiedSignatures::contains(const PublicKey& key, std::string_view message, std::string_view signature) const {
  if (key.bytes().size() != PublicKey::kSize || signature.size() != KeyPair::kSignatureSize) return false;
  const std::string d = triple_digest(key, message, signature);
  std::lock_guard lock(mu_);
  return known_.contains(d);
}

bool VerifiedSignatures::verify(const PublicKey& key, std::string_view message, std::string_view signature) {
  if (key.bytes().size() != PublicKey::kSize || signature.size() != KeyPair::kSignatureSize) return false;
  std::string d = triple_digest(key, message, signature);
  {
    std::lock_guard lock(mu_);
    if (known_.contains(d)) return true;
  }
  if (!key.verify(message, signature)) return false;
  std::lock_guard lock(mu_);
  if (!known_.insert(d).second) return true;  // another thread verified it meanwhile
  order_.push_back(std::move(d));
  while (order_.size() > capacity_) {
    known_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

size_t VerifiedSignatures::size() const {
  std::lock_guard lock(mu_);
  return known_.size();
}

void VerifiedSignatures::clear() {
  std::lock_guard lock(mu_);
  known_.clear();
  order_.clear();
}

VerifiedSignatures& VerifiedSignatures::documents() {
  static VerifiedSignatures instance(4096);
  return instance;
}

}  // namespace xop
