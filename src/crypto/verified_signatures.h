// A bounded memory of signatures that verified: (public key, message, signature) triples, each
// kept as the SHA-256 digest of the three. SignedDoc::verify consults the process's instance
// (documents()) so that a document checked once is not checked again: a document decoded and
// then verified again by the domain, the same price sheet inside every advert of a server.
// Ed25519 verification is deterministic, so a triple that verified once verifies always; a false
// hit needs a SHA-256 collision. Failures are never remembered (a forged document costs a full
// check every time). When full, the oldest entry goes. Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "crypto/keys.h"

namespace xop {

class VerifiedSignatures {
 public:
  explicit VerifiedSignatures(size_t capacity);
  VerifiedSignatures(const VerifiedSignatures&) = delete;
  VerifiedSignatures& operator=(const VerifiedSignatures&) = delete;

  // Checks `signature` over `message` by `key`: a remembered triple is accepted without the
  // Ed25519 check; one that verifies is remembered.
  [[nodiscard]] bool verify(const PublicKey& key, std::string_view message, std::string_view signature);
  // True when this exact triple verified before (and is still remembered).
  [[nodiscard]] bool contains(const PublicKey& key, std::string_view message, std::string_view signature) const;
  [[nodiscard]] size_t size() const;
  // Forgets everything (benchmarks that measure the full check of one document use it).
  void clear();

  // The process's memory of verified signed documents (a few thousand entries).
  static VerifiedSignatures& documents();

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> known_;  // digests
  std::deque<std::string> order_;          // oldest first
};

}  // namespace xop
