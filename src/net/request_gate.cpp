#include "net/request_gate.h"

namespace xop {

bool needs_signature(const Router::Route& route, const HttpRequest& req) {
  return route.access == Access::kSigned ||
         (route.access == Access::kOptional && req.headers.find(kHeaderSignature) != req.headers.end());
}

std::optional<Error> gate_head(const Router& router, const Router::Route* route, HttpRequest& req,
                               std::optional<uint64_t> content_length) {
  const size_t limit = route != nullptr ? route->max_body : kDefaultMaxBody;
  if (route != nullptr && needs_signature(*route, req)) {
    RequestVerifier* verifier = router.verifier();
    if (verifier == nullptr) return Error{ErrorCode::kInternal, "route needs a verifier; none is set"};
    auto key = verifier->verify_headers(req.method, req.target, req.signature());
    if (!key) return key.error();
    req.caller = std::move(*key);
  }
  if (content_length && *content_length > limit) {
    return Error{ErrorCode::kPayloadTooLarge, "request body larger than " + std::to_string(limit) + " bytes"};
  }
  return std::nullopt;
}

std::optional<Error> gate_body(const HttpRequest& req, const std::string& body_sha256_hex) {
  if (!req.caller) return std::nullopt;
  if (auto st = body_matches(req.signature(), body_sha256_hex); !st) return st.error();
  return std::nullopt;
}

std::string refused_audience(const Router& router, int status) {
  if (status != 401 || router.verifier() == nullptr) return "";
  return router.verifier()->audience();
}

}  // namespace xop
