#include "crypto/id_source.h"

#include <fmt/format.h>

#include "crypto/keys.h"

namespace xop {
namespace {

class RandomIds final : public IdSource {
 public:
  std::string next(std::string_view prefix) override { return random_id(prefix); }
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

}  // namespace

IdSource& random_ids() {
  static RandomIds ids;
  return ids;
}

std::string SeededIds::next(std::string_view prefix) {
  uint64_t n = 0;
  {
    std::lock_guard lock(mu_);
    n = n_++;
  }
  // The low word is the counter under a per-seed mask, so ids of one source never repeat.
  const uint64_t hi = splitmix64(seed_ ^ splitmix64(2 * n));
  const uint64_t lo = n ^ splitmix64(seed_ + 1);
  return fmt::format("{}{:016x}{:016x}", prefix, hi, lo);
}

}  // namespace xop
