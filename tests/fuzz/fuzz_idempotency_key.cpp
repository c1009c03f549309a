// Fuzz target: parse_idempotency_key (proto/idempotency_key.h) on arbitrary header values. A key
// that parses is 1..255 printable ASCII characters and round-trips through
// format_idempotency_key; anything else is an invalid_idempotency_key error with a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/idempotency_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto k = xop::parse_idempotency_key(text);
  if (k) {
    if (k->empty() || k->size() > xop::kMaxIdempotencyKeyLen) std::abort();
    for (unsigned char c : *k) {
      if (c < 0x20 || c > 0x7e) std::abort();
    }
    auto back = xop::parse_idempotency_key(xop::format_idempotency_key(*k));
    if (!back || *back != *k) std::abort();
  } else if (k.error().code != xop::ErrorCode::kInvalidIdempotencyKey || k.error().message.empty()) {
    std::abort();
  }
  return 0;
}
