// Request authentication shared by every daemon: checks the request signature headers with a
// RequestVerifier and returns the caller's key.
#pragma once

#include "crypto/request_signature.h"
#include "net/http.h"

namespace xop {

inline Result<PublicKey> authenticate(RequestVerifier& verifier, const HttpRequest& req) {
  return verifier.verify(req.method, req.target, req.signature(), req.body);
}

}  // namespace xop
