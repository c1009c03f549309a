// Where new object ids (purchase orders, sessions, ledger transactions) come from: the seam that
// lets the seeded simulated platform (sim/platform.h) repeat a run id for id. An id is `prefix`
// followed by 32 lowercase hex digits, as random_id() (crypto/keys.h) makes them, whichever source.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace xop {

class IdSource {
 public:
  virtual ~IdSource() = default;
  // A new id, never returned before by this source. Thread-safe.
  virtual std::string next(std::string_view prefix) = 0;
};

// 128 random bits each (libsodium): what the daemons use. One process-wide instance.
IdSource& random_ids();

// Deterministic: the n-th id of a seed is always the same (a SplitMix64 stream over seed and n,
// 128 bits each), so two runs of one seeded scenario mint the same ids in the same order. Distinct
// seeds give distinct streams; ids of one source never repeat. Not for production: predictable.
class SeededIds final : public IdSource {
 public:
  explicit SeededIds(uint64_t seed) : seed_(seed) {}
  std::string next(std::string_view prefix) override;

 private:
  std::mutex mu_;
  uint64_t seed_;
  uint64_t n_ = 0;
};

// `ids` when given, else random_ids().
inline IdSource& ids_or_random(IdSource* ids) { return ids != nullptr ? *ids : random_ids(); }

}  // namespace xop
