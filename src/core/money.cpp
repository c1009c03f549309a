#include "core/money.h"

#include <fmt/format.h>

#include <cstdlib>
#include <limits>

namespace xop {

Result<Money> Money::credits(int64_t c) {
  int64_t m = 0;
  if (__builtin_mul_overflow(c, kMicrosPerCredit, &m)) return invalid("amount overflows");
  return Money(m);
}

std::optional<Money> Money::plus(Money o) const {
  int64_t r = 0;
  if (__builtin_add_overflow(micros_, o.micros_, &r)) return std::nullopt;
  return Money(r);
}
std::optional<Money> Money::minus(Money o) const {
  int64_t r = 0;
  if (__builtin_sub_overflow(micros_, o.micros_, &r)) return std::nullopt;
  return Money(r);
}
std::optional<Money> Money::times(int64_t k) const {
  int64_t r = 0;
  if (__builtin_mul_overflow(micros_, k, &r)) return std::nullopt;
  return Money(r);
}
std::optional<Money> Money::negated() const {
  if (micros_ == std::numeric_limits<int64_t>::min()) return std::nullopt;
  return Money(-micros_);
}

std::string Money::to_string() const {
  // Work in unsigned to print INT64_MIN correctly.
  const bool neg = micros_ < 0;
  const uint64_t mag = neg ? uint64_t{0} - static_cast<uint64_t>(micros_) : static_cast<uint64_t>(micros_);
  return fmt::format("{}{}.{:06}", neg ? "-" : "", mag / kMicrosPerCredit, mag % kMicrosPerCredit);
}

Result<Money> Money::parse(const std::string& text) {
  if (text.empty() || text.size() > 40) return invalid("amount must be a decimal number");
  size_t i = 0;
  bool neg = false;
  if (text[0] == '-') {
    neg = true;
    i = 1;
  }
  int64_t whole = 0;
  int64_t frac = 0;
  int frac_digits = 0;
  bool any_digit = false;
  bool in_frac = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (in_frac) return invalid("amount has two decimal points");
      in_frac = true;
      continue;
    }
    if (c < '0' || c > '9') return invalid("amount must be a decimal number");
    any_digit = true;
    const int d = c - '0';
    if (in_frac) {
      if (++frac_digits > 6) return invalid("amount has more than six decimals");
      frac = frac * 10 + d;
    } else if (__builtin_mul_overflow(whole, 10, &whole) || __builtin_add_overflow(whole, d, &whole)) {
      return invalid("amount overflows");
    }
  }
  if (!any_digit) return invalid("amount must be a decimal number");
  for (; frac_digits < 6; ++frac_digits) frac *= 10;
  // 128-bit so that the most negative amount (whose magnitude exceeds INT64_MAX) parses too.
  __extension__ using i128 = __int128;
  i128 m = i128{whole} * kMicrosPerCredit + frac;
  if (neg) m = -m;
  if (m > std::numeric_limits<int64_t>::max() || m < std::numeric_limits<int64_t>::min()) {
    return invalid("amount overflows");
  }
  return Money(static_cast<int64_t>(m));
}

}  // namespace xop
