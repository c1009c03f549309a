#include "client/typed_call.h"

namespace xop {

Error malformed_answer(const std::string& method, const std::string& target, const std::string& what) {
  return Error{ErrorCode::kUnavailable, "malformed answer to " + method + " " + target + ": " + what};
}

Result<Json> call_json(ApiClient& api, const std::string& method, const std::string& target, const Json& body,
                       size_t max_answer_bytes) {
  return call_json(api, method, target, body, max_answer_bytes, {});
}

Result<Json> call_json(ApiClient& api, const std::string& method, const std::string& target, const Json& body,
                       size_t max_answer_bytes, const std::map<std::string, std::string>& headers) {
  const std::string text = body.is_null() ? std::string() : body.dump();
  XOP_ASSIGN_OR_RETURN(auto res, api.call_raw(method, target, text, "application/json", headers));
  return answer_json(method, target, res, max_answer_bytes);
}

Result<Json> answer_json(const std::string& method, const std::string& target, const HttpResponse& res,
                         size_t max_answer_bytes) {
  if (res.status < 200 || res.status >= 300) return tl::make_unexpected(error_from_response(res.status, res.body));
  if (res.body.size() > max_answer_bytes) {
    return tl::make_unexpected(malformed_answer(
        method, target,
        "answer of " + std::to_string(res.body.size()) + " bytes exceeds " + std::to_string(max_answer_bytes)));
  }
  if (res.body.empty()) return Json::object();
  auto j = parse_json(res.body, 64);
  if (!j) return tl::make_unexpected(malformed_answer(method, target, "not JSON: " + j.error().message));
  return j;
}

Status check_path_segment(std::string_view id, const char* what) {
  bool ok = !id.empty() && id.size() <= 128;
  for (char c : id) {
    const bool allowed =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!allowed) ok = false;
  }
  if (id == "." || id == "..") ok = false;
  if (!ok) return invalid(std::string(what) + ": not a valid id");
  return {};
}

}  // namespace xop
