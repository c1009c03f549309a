#include "core/units.h"

#include <array>
#include <limits>

#include "core/int128.h"

namespace xop {

namespace {

struct Unit {
  const char* name;
  int64_t factor;
};
constexpr std::array<Unit, 9> kSizeUnits{{
    {"b", 1},
    {"kb", 1000},
    {"mb", 1000 * 1000},
    {"gb", int64_t{1000} * 1000 * 1000},
    {"tb", int64_t{1000} * 1000 * 1000 * 1000},
    {"kib", int64_t{1} << 10},
    {"mib", int64_t{1} << 20},
    {"gib", int64_t{1} << 30},
    {"tib", int64_t{1} << 40},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// A decimal number at the start of `text`: whole digits, then optionally '.' and fraction digits.
// `end` is where it stops. Whole and fraction digits are capped so nothing overflows.
struct Decimal {
  uint64_t whole = 0;
  uint64_t frac = 0;    // the fraction digits as an integer
  int frac_digits = 0;  // how many
  size_t end = 0;
};

// "not a size" / "not an amount of credits".
std::string not_a(const char* what, std::string_view text) {
  const char c = what[0];
  const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  return std::string(vowel ? "not an " : "not a ") + what + ": \"" + std::string(text) + "\"";
}

Result<Decimal> leading_decimal(std::string_view text, int max_frac_digits, const char* what) {
  Decimal d;
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) {
    if (i >= 19) return invalid(std::string(what) + " too large: \"" + std::string(text) + "\"");
    d.whole = d.whole * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return invalid(not_a(what, text));
  if (i < text.size() && text[i] == '.') {
    ++i;
    const size_t start = i;
    while (i < text.size() && is_digit(text[i])) {
      if (d.frac_digits >= max_frac_digits) {
        return invalid(std::string(what) + " has too many decimals: \"" + std::string(text) + "\"");
      }
      d.frac = d.frac * 10 + static_cast<uint64_t>(text[i] - '0');
      ++d.frac_digits;
      ++i;
    }
    if (i == start) return invalid(not_a(what, text));
  }
  d.end = i;
  return d;
}

i128 pow10(int n) {
  i128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

}  // namespace

Result<int64_t> parse_size(std::string_view text) {
  if (text.empty() || text.size() > 64) return invalid("not a size: \"" + std::string(text) + "\"");
  XOP_ASSIGN_OR_RETURN(auto d, leading_decimal(text, 12, "size"));
  std::string_view rest = text.substr(d.end);
  if (!rest.empty() && rest.front() == ' ') {
    rest.remove_prefix(1);
    if (rest.empty()) return invalid("not a size: \"" + std::string(text) + "\" (a unit must follow the space)");
  }
  if (rest.empty() && d.frac_digits > 0) {
    return invalid("a size in bytes is a whole number: \"" + std::string(text) + "\"");
  }
  int64_t factor = rest.empty() ? 1 : 0;
  std::string unit;
  for (const char c : rest) unit += lower(c);
  for (const auto& u : kSizeUnits) {
    if (unit == u.name) factor = u.factor;
  }
  if (factor == 0) {
    return invalid("not a size: \"" + std::string(text) + "\" (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  }
  // The whole part alone must fit; then (whole * scale + frac) * factor stays below
  // (INT64_MAX + factor) * 10^12, far inside 128 bits.
  if (i128{d.whole} * factor > std::numeric_limits<int64_t>::max()) {
    return invalid("size too large: \"" + std::string(text) + "\"");
  }
  const i128 scale = pow10(d.frac_digits);
  const i128 scaled = (i128{d.whole} * scale + d.frac) * factor;
  if (scaled % scale != 0) return invalid("not a whole number of bytes: \"" + std::string(text) + "\"");
  const i128 bytes = scaled / scale;
  if (bytes > std::numeric_limits<int64_t>::max()) return invalid("size too large: \"" + std::string(text) + "\"");
  return static_cast<int64_t>(bytes);
}

std::string format_size(int64_t bytes) {
  if (bytes < 0) {
    const uint64_t mag = uint64_t{0} - static_cast<uint64_t>(bytes);
    if (mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::to_string(bytes) + "B";
    std::string out = "-";  // not "-" + string: GCC 12's -Wrestrict false positive at -O3
    out += format_size(static_cast<int64_t>(mag));
    return out;
  }
  static constexpr std::array<Unit, 4> kBinary{
      {{"TiB", int64_t{1} << 40}, {"GiB", int64_t{1} << 30}, {"MiB", int64_t{1} << 20}, {"KiB", int64_t{1} << 10}}};
  for (const auto& u : kBinary) {
    if (bytes != 0 && bytes % u.factor == 0) return std::to_string(bytes / u.factor) + u.name;
  }
  return std::to_string(bytes) + "B";
}

std::string format_size_approx(int64_t bytes) {
  if (bytes < 0) {
    std::string out = "-";  // not "-" + string: GCC 12's -Wrestrict false positive at -O3
    out += format_size_approx(bytes == std::numeric_limits<int64_t>::min() ? -(bytes + 1) : -bytes);
    return out;
  }
  static constexpr std::array<Unit, 4> kBinary{
      {{"TiB", int64_t{1} << 40}, {"GiB", int64_t{1} << 30}, {"MiB", int64_t{1} << 20}, {"KiB", int64_t{1} << 10}}};
  for (const auto& u : kBinary) {
    if (bytes >= u.factor) {
      // Tenths, rounded half up, in integers.
      const i128 tenths = (i128{bytes} * 10 + u.factor / 2) / u.factor;
      const auto t = static_cast<int64_t>(tenths);
      if (t % 10 == 0) return std::to_string(t / 10) + u.name;
      return std::to_string(t / 10) + "." + std::to_string(t % 10) + u.name;
    }
  }
  return std::to_string(bytes) + "B";
}

Result<Money> parse_credits(std::string_view text) {
  if (text.empty() || text.size() > 40) return invalid("not an amount of credits: \"" + std::string(text) + "\"");
  if (text.front() == '-' || text.front() == '+') {
    return invalid("an amount of credits is not signed: \"" + std::string(text) + "\"");
  }
  XOP_ASSIGN_OR_RETURN(auto d, leading_decimal(text, 6, "amount of credits"));
  if (d.end != text.size()) {
    return invalid("not an amount of credits: \"" + std::string(text) + "\" (e.g. 10 or 0.25)");
  }
  const i128 micros = i128{d.whole} * Money::kMicrosPerCredit + i128{d.frac} * pow10(6 - d.frac_digits);
  if (micros > std::numeric_limits<int64_t>::max()) {
    return invalid("amount of credits too large: \"" + std::string(text) + "\"");
  }
  return Money::micros(static_cast<int64_t>(micros));
}

std::string format_credits(Money m) {
  std::string s = m.to_string();  // six decimals
  const size_t point = s.find('.');
  while (s.size() > point + 3 && s.back() == '0') s.pop_back();
  return s;
}

}  // namespace xop
