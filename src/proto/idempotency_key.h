// The Idempotency-Key request header (IETF httpapi "The Idempotency-Key HTTP Header Field"):
// its value is a structured-field string ("..." with \" and \\ escapes, RFC 8941 §3.3.3); a bare
// token of visible ASCII is accepted too, as many clients send one. The key is what is inside:
// 1..kMaxIdempotencyKeyLen characters of printable ASCII. Pure: no clock, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace xop {

inline constexpr const char* kHeaderIdempotencyKey = "idempotency-key";          // as HttpRequest keys it
inline constexpr const char* kHeaderIdempotentReplayed = "Idempotent-Replayed";  // on a replayed answer
inline constexpr size_t kMaxIdempotencyKeyLen = 255;
// A raw header value longer than this is refused before it is looked at (a key of 255 escaped
// characters is at most 2 * 255 + 2 bytes).
inline constexpr size_t kMaxIdempotencyHeaderLen = 2 * kMaxIdempotencyKeyLen + 2;

// The key a header value carries, or kInvalidIdempotencyKey naming what is wrong: empty, longer
// than kMaxIdempotencyKeyLen (unquoted), a character outside printable ASCII (a bare token:
// outside 0x21..0x7e), an unterminated or badly escaped quoted string, bytes after the closing
// quote. Leading and trailing spaces and tabs (HTTP's optional whitespace) are ignored.
Result<std::string> parse_idempotency_key(std::string_view header_value);

// The header value that carries `key` (printable ASCII, 1..255 characters): a quoted
// structured-field string, so that parse_idempotency_key(format_idempotency_key(k)) == k.
std::string format_idempotency_key(std::string_view key);

}  // namespace xop
