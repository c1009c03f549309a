// Transport-neutral HTTP request/response values and the JSON helpers every daemon uses.
// Error responses always have the form {"error": {"code": "...", "message": "..."}}.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/endpoint.h"
#include "core/json_reader.h"
#include "crypto/request_signature.h"

namespace xop {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query exactly as sent (what signatures cover)
  std::string path;    // target without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // A large body the server streamed to disk instead (routes with Router::Options::spool):
  // `body` is then empty and this temporary file, removed after the handler returns unless the
  // handler moved it away, holds `body_size` bytes.
  std::string body_file;
  uint64_t body_size = 0;
  std::string remote;
  // The key whose signature HttpServer verified from the headers (and whose body digest it
  // checked) before reading the body; set only by the server, never from the wire.
  std::optional<PublicKey> caller;

  [[nodiscard]] std::string header(const std::string& lower_name) const;
  [[nodiscard]] RequestSignature signature() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, the body is this file, streamed from disk instead of `body` (large blobs): the
  // daemon never holds it in memory. Opened when the answer is written; 404 if it is gone.
  std::string body_file;
  std::map<std::string, std::string> headers;
};

HttpResponse json_response(int status, const Json& body);
HttpResponse error_response(const Error& e);
HttpResponse error_response(ErrorCode code, const std::string& message);

// Splits "a=1&b=2" (no percent-decoding beyond '+'; ids never need it).
std::map<std::string, std::string> parse_query(std::string_view q);

// Parses a JSON body of a request (depth-limited), or reports a 400/415.
Result<Json> json_body(const HttpRequest& req);

// Turns an error response body back into an Error (for clients).
Error error_from_response(int status, const std::string& body);

}  // namespace xop
