// Request authentication shared by every daemon: the caller's key of a signed request.
// For a request HttpServer already verified from its headers (a Router::Access::kSigned route,
// or a kOptional one that carried a signature) this is the pre-verified key; otherwise the
// signature headers and the body are checked here with the RequestVerifier.
#pragma once

#include "crypto/request_signature.h"
#include "net/http.h"

namespace xop {

inline Result<PublicKey> authenticate(RequestVerifier& verifier, const HttpRequest& req) {
  if (req.caller) return *req.caller;
  if (!req.body_file.empty()) {
    return make_error(ErrorCode::kUnauthenticated, "a spooled body must be authenticated by the server");
  }
  return verifier.verify(req.method, req.target, req.signature(), req.body);
}

}  // namespace xop
