#include "core/result.h"

#include <array>
#include <utility>

#include "core/error_codes.h"

namespace xop {
namespace {
struct CodeInfo {
  ErrorCode code;
  const char* name;
  int status;
};
constexpr std::array<CodeInfo, 17> kCodes{{
    {ErrorCode::kInvalidArgument, "invalid_argument", 400},
    {ErrorCode::kUnauthenticated, "unauthenticated", 401},
    {ErrorCode::kPaymentRequired, "payment_required", 402},
    {ErrorCode::kPermissionDenied, "permission_denied", 403},
    {ErrorCode::kNotFound, "not_found", 404},
    {ErrorCode::kMethodNotAllowed, "method_not_allowed", 405},
    {ErrorCode::kConflict, "conflict", 409},
    {ErrorCode::kGone, "gone", 410},
    {ErrorCode::kPayloadTooLarge, "payload_too_large", 413},
    {ErrorCode::kUnsupportedMedia, "unsupported_media_type", 415},
    {ErrorCode::kResourceExhausted, "resource_exhausted", 503},
    {ErrorCode::kInternal, "internal", 500},
    {ErrorCode::kUnavailable, "unavailable", 503},
    {ErrorCode::kRateLimited, "rate_limited", 429},
    {ErrorCode::kInvalidIdempotencyKey, "invalid_idempotency_key", 400},
    {ErrorCode::kIdempotencyKeyReused, "idempotency_key_reused", 422},
    {ErrorCode::kIdempotencyKeyInFlight, "idempotency_key_in_flight", 409},
}};
const CodeInfo& info(ErrorCode c) {
  for (const auto& i : kCodes) {
    if (i.code == c) return i;
  }
  return kCodes[11];
}
}  // namespace

const char* Error::code_name() const { return info(code).name; }
int Error::http_status() const { return info(code).status; }
std::string Error::to_string() const { return std::string(code_name()) + ": " + message; }

const std::vector<ErrorCodeInfo>& all_error_codes() {
  static const std::vector<ErrorCodeInfo> all = [] {
    std::vector<ErrorCodeInfo> v;
    for (const auto& i : kCodes) v.push_back(ErrorCodeInfo{i.code, i.name, i.status});
    return v;
  }();
  return all;
}

ErrorCode error_code_from_name(const std::string& name) {
  for (const auto& i : kCodes) {
    if (name == i.name) return i.code;
  }
  return ErrorCode::kInternal;
}

}  // namespace xop
