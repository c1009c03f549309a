// Money is an integer count of micro-credits. Never floating point. Every arithmetic
// operation that could overflow is checked and reports an error instead of wrapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"

namespace xop {

class Money {
 public:
  static constexpr int64_t kMicrosPerCredit = 1'000'000;

  constexpr Money() = default;
  static constexpr Money micros(int64_t m) { return Money(m); }
  // Whole credits; errors on overflow.
  static Result<Money> credits(int64_t c);

  [[nodiscard]] constexpr int64_t micros() const { return micros_; }
  [[nodiscard]] constexpr bool is_negative() const { return micros_ < 0; }
  [[nodiscard]] constexpr bool is_zero() const { return micros_ == 0; }

  // Checked arithmetic: nullopt on overflow.
  [[nodiscard]] std::optional<Money> plus(Money o) const;
  [[nodiscard]] std::optional<Money> minus(Money o) const;
  [[nodiscard]] std::optional<Money> times(int64_t k) const;
  [[nodiscard]] std::optional<Money> negated() const;

  // "12.345678" (always six decimals, sign in front).
  [[nodiscard]] std::string to_string() const;
  // Parses "12", "12.5", "-0.000001"; at most six decimals; errors on overflow.
  static Result<Money> parse(const std::string& text);

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the synthesized comparison.
  friend constexpr auto operator<=>(Money, Money) = default;

 private:
  constexpr explicit Money(int64_t m) : micros_(m) {}
  int64_t micros_ = 0;
};

}  // namespace xop
