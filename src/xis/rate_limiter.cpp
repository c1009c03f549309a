#include "xis/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace xop {

double RateLimiter::level(const Bucket& b, TimeMs now) const {
  const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now - b.at)) / 1000.0;
  return std::min(limit_.burst, b.tokens + elapsed_s * limit_.per_second);
}

int64_t RateLimiter::wait_ms(double tokens) const {
  if (limit_.per_second <= 0) return 3'600'000;
  const double missing = 1.0 - tokens;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(missing / limit_.per_second * 1000.0)));
}

int64_t RateLimiter::take(const std::string& key, TimeMs now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      std::erase_if(buckets_, [&](const auto& kv) { return level(kv.second, now) >= limit_.burst; });
      if (buckets_.size() >= max_keys_) return wait_ms(0);
    }
    it = buckets_.emplace(key, Bucket{limit_.burst, now}).first;
  }
  Bucket& b = it->second;
  const double tokens = level(b, now);
  if (tokens < 1.0) return wait_ms(tokens);
  b.tokens = tokens - 1.0;
  b.at = std::max(b.at, now);
  return 0;
}

}  // namespace xop
