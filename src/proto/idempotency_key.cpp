#include "proto/idempotency_key.h"

namespace xop {
namespace {

Error bad(std::string what) { return Error{ErrorCode::kInvalidIdempotencyKey, "Idempotency-Key: " + what}; }

bool is_ows(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Result<std::string> parse_idempotency_key(std::string_view v) {
  if (v.size() > kMaxIdempotencyHeaderLen) {
    return tl::make_unexpected(bad("longer than " + std::to_string(kMaxIdempotencyKeyLen) + " characters"));
  }
  while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  if (v.empty()) return tl::make_unexpected(bad("empty"));
  std::string key;
  if (v.front() == '"') {
    size_t i = 1;
    bool closed = false;
    for (; i < v.size(); ++i) {
      const auto c = static_cast<unsigned char>(v[i]);
      if (c == '\\') {
        if (i + 1 >= v.size() || (v[i + 1] != '"' && v[i + 1] != '\\')) {
          return tl::make_unexpected(bad("a backslash must escape \" or \\"));
        }
        key.push_back(v[++i]);
      } else if (c == '"') {
        closed = true;
        break;
      } else if (c < 0x20 || c > 0x7e) {
        return tl::make_unexpected(bad("not printable ASCII"));
      } else {
        key.push_back(static_cast<char>(c));
      }
    }
    if (!closed) return tl::make_unexpected(bad("unterminated quoted string"));
    if (i + 1 != v.size()) return tl::make_unexpected(bad("characters after the closing quote"));
    if (key.empty()) return tl::make_unexpected(bad("empty"));
  } else {
    for (char ch : v) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x21 || c > 0x7e) return tl::make_unexpected(bad("not visible ASCII"));
    }
    key.assign(v);
  }
  if (key.size() > kMaxIdempotencyKeyLen) {
    return tl::make_unexpected(bad("longer than " + std::to_string(kMaxIdempotencyKeyLen) + " characters"));
  }
  return key;
}

std::string format_idempotency_key(std::string_view key) {
  std::string out = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace xop
