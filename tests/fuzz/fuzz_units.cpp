// Fuzz target: parse_size and parse_credits (core/units.h) on arbitrary bytes. A value that
// parses is in range and formats back to itself; anything else is an invalid_argument error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/units.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto s = xop::parse_size(text); s) {
    if (*s < 0) std::abort();
    auto back = xop::parse_size(xop::format_size(*s));
    if (!back || *back != *s) std::abort();
    if (xop::format_size_approx(*s).empty()) std::abort();
  } else if (s.error().code != xop::ErrorCode::kInvalidArgument || s.error().message.empty()) {
    std::abort();
  }
  if (auto c = xop::parse_credits(text); c) {
    if (c->is_negative()) std::abort();
    auto back = xop::parse_credits(xop::format_credits(*c));
    if (!back || back->micros() != c->micros()) std::abort();
  } else if (c.error().code != xop::ErrorCode::kInvalidArgument || c.error().message.empty()) {
    std::abort();
  }
  return 0;
}
