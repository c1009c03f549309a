// Errors as values at every boundary. A Result<T> holds either a T or an Error; Status is
// Result<void>. Errors carry a stable machine code (used in the JSON wire form
// {error:{code,message}}) and map to one HTTP status each.
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace xop {

enum class ErrorCode {
  kInvalidArgument,    // 400: malformed or semantically invalid input
  kUnauthenticated,    // 401: missing or bad signature, unknown key, replay
  kPaymentRequired,    // 402: not enough funds, purchase order exhausted
  kPermissionDenied,   // 403: authenticated but not allowed
  kNotFound,           // 404
  kMethodNotAllowed,   // 405
  kConflict,           // 409: duplicate, wrong state
  kGone,               // 410: expired
  kPayloadTooLarge,    // 413
  kUnsupportedMedia,   // 415
  kResourceExhausted,  // 429/503: no capacity
  kInternal,           // 500
  kUnavailable,        // 503: a dependency could not be reached
  kRateLimited,        // 429: too many requests from this caller; retry later

  // The Idempotency-Key of a money-moving corp request (corp/idempotency.h):
  kInvalidIdempotencyKey,   // 400: the header is empty, longer than 255 characters or not printable ASCII
  kIdempotencyKeyReused,    // 422: the caller used this key for another request
  kIdempotencyKeyInFlight,  // 409: the first request with this key is still being served
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // The stable wire name, e.g. "invalid_argument".
  [[nodiscard]] const char* code_name() const;
  [[nodiscard]] int http_status() const;
  [[nodiscard]] std::string to_string() const;
};

// Parses a wire name back to a code (unknown names map to kInternal).
ErrorCode error_code_from_name(const std::string& name);

// A Result must be looked at: dropping one is a compile error (-Werror). To drop one on purpose,
// name the reason with ignore_error() (core/ignore_error.h). Result is a tl::expected with the
// same interface; the subclass exists only to carry [[nodiscard]].
template <typename T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;
  Result() = default;
  Result(const Base& b) : Base(b) {}        // NOLINT(google-explicit-constructor)
  Result(Base&& b) : Base(std::move(b)) {}  // NOLINT(google-explicit-constructor)
};
using Status = Result<void>;

inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::make_unexpected(Error{code, std::move(message)});
}
inline tl::unexpected<Error> invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}
inline Status ok_status() { return {}; }

}  // namespace xop

// Propagates an error from an expression yielding Result<...>; evaluates to nothing.
#define XOP_RETURN_IF_ERROR(expr)                                      \
  do {                                                                 \
    auto xop_status_ = (expr);                                         \
    if (!xop_status_) return tl::make_unexpected(xop_status_.error()); \
  } while (0)

#define XOP_CONCAT_INNER_(a, b) a##b
#define XOP_CONCAT_(a, b) XOP_CONCAT_INNER_(a, b)
// XOP_ASSIGN_OR_RETURN(auto x, expr): binds the value or propagates the error.
#define XOP_ASSIGN_OR_RETURN(lhs, expr) XOP_ASSIGN_OR_RETURN_IMPL_(XOP_CONCAT_(xop_result_, __LINE__), lhs, expr)
// `tmp` and `lhs` are a name and a declaration: they cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define XOP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)              \
  auto tmp = (expr);                                            \
  if (!tmp) return tl::make_unexpected(std::move(tmp).error()); \
  lhs = std::move(*tmp)
// NOLINTEND(bugprone-macro-parentheses)
