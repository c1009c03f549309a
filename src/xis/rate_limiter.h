// Token buckets keyed by caller (XIS rate-limits adverts per server identity). A pure core: it
// takes `now` as an argument and never reads a clock. Not thread-safe (the caller locks).
//
// Each key has a bucket of up to `burst` tokens, refilled at `per_second`; take() spends one.
// At most max_keys buckets are kept: a new key when the table is full first drops the buckets
// that have refilled completely (they carry no state a new bucket would not), and if none has,
// the new key is refused as if its bucket were empty (so the table never grows past max_keys).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/time.h"

namespace xop {

struct RateLimit {
  double burst = 10;
  double per_second = 2;
};

class RateLimiter {
 public:
  RateLimiter(RateLimit limit, size_t max_keys) : limit_(limit), max_keys_(max_keys) {}

  // Spends a token of `key` at `now`: 0 when allowed, else the milliseconds (>= 1) until one is
  // available.
  int64_t take(const std::string& key, TimeMs now);
  [[nodiscard]] size_t keys() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    TimeMs at;
  };
  [[nodiscard]] double level(const Bucket& b, TimeMs now) const;
  [[nodiscard]] int64_t wait_ms(double tokens) const;

  RateLimit limit_;
  size_t max_keys_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace xop
