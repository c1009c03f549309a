#include "net/http.h"

#include "core/log.h"
#include "crypto/keys.h"

namespace xop {

std::string HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

RequestSignature HttpRequest::signature() const {
  return RequestSignature{header(kHeaderKey),      header(kHeaderTimestamp),     header(kHeaderSignature),
                          header(kHeaderAudience), header(kHeaderContentSha256), header(kHeaderNonce)};
}

HttpResponse json_response(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

HttpResponse error_response(const Error& e) {
  if (e.code == ErrorCode::kInternal) {
    // What failed inside (an SQL error, a path) is the operator's to read, not the caller's: it is
    // logged with a reference the answer names.
    const std::string ref = random_id("e").substr(0, 13);
    XOP_LOG_ERROR("internal error {} answered as 500: {}", ref, e.message);
    return json_response(
        500, Json{{"error",
                   {{"code", e.code_name()}, {"message", "internal error (the service logged it as " + ref + ")"}}}});
  }
  return json_response(e.http_status(), Json{{"error", {{"code", e.code_name()}, {"message", e.message}}}});
}
HttpResponse error_response(ErrorCode code, const std::string& message) { return error_response(Error{code, message}); }

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const auto amp = q.find('&');
    auto part = q.substr(0, amp);
    const auto eq = part.find('=');
    std::string k(part.substr(0, eq));
    std::string v = eq == std::string_view::npos ? std::string() : std::string(part.substr(eq + 1));
    for (auto& c : v) {
      if (c == '+') c = ' ';
    }
    if (!k.empty()) out[k] = v;
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

Result<Json> json_body(const HttpRequest& req) {
  const auto ct = req.header("content-type");
  if (!ct.empty() && ct.find("application/json") == std::string::npos) {
    return make_error(ErrorCode::kUnsupportedMedia, "body must be application/json");
  }
  if (req.body.empty()) return invalid("request body is empty; a JSON object is required");
  return parse_json(req.body);
}

Error error_from_response(int status, const std::string& body) {
  auto j = parse_json(body);
  if (j && j->is_object() && j->contains("error") && (*j)["error"].is_object()) {
    const auto& e = (*j)["error"];
    Error err;
    err.code = e.contains("code") && e["code"].is_string() ? error_code_from_name(e["code"].get<std::string>())
                                                           : ErrorCode::kInternal;
    err.message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    return err;
  }
  return Error{status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument,
               "HTTP " + std::to_string(status) + ": " + body.substr(0, 200)};
}

}  // namespace xop
