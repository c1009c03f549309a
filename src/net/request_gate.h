// The checks a request passes before its handler sees it, shared by HttpServer and
// RouterTransport so that a request takes one path whichever carries it:
//   1. gate_head(): from the request line and headers alone, before any body byte — a signed
//      route's signature (kSigned always, kOptional when one is sent) is verified and the caller
//      set; a declared Content-Length above the route's limit is refused (413).
//   2. gate_body(): once the body is read — a verified caller's body must hash to the signed
//      X-Xop-Content-Sha256.
// Unknown routes pass gate_head() (no signature, the default limit); Router::dispatch() answers
// them 404/405.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "net/http.h"
#include "net/router.h"

namespace xop {

// Whether `route` needs the request's signature verified (`req.headers` lower-case).
bool needs_signature(const Router::Route& route, const HttpRequest& req);

// Header-stage checks. `route` is router.find(req.method, req.path) (may be null);
// `content_length` is the declared body length, if any. Sets req.caller on a verified signature.
// Returns the refusal to answer instead of reading the body, or nothing.
std::optional<Error> gate_head(const Router& router, const Router::Route* route, HttpRequest& req,
                               std::optional<uint64_t> content_length);

// Body-stage check: the refusal when req.caller is set and `body_sha256_hex` is not the signed
// digest, else nothing.
std::optional<Error> gate_body(const HttpRequest& req, const std::string& body_sha256_hex);

// The response header a refusal carries: on a 401, the audience this router's verifier expects
// (so a client that signed for another one can learn again). Empty when none applies.
std::string refused_audience(const Router& router, int status);

}  // namespace xop
