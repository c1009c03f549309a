// The one way a typed client (corp_client.h, xis_client.h, server_client.h) turns a request into
// a decoded answer: send it through an ApiClient, refuse an answer larger than the call's cap, parse it
// as JSON and decode it with the answer's proto decoder. Every failure is a Status, never an
// exception: a non-2xx answer is the service's own Error; an oversized, non-JSON or malformed
// answer is kUnavailable naming the call and the first bad field.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "client/api_client.h"
#include "core/json_reader.h"

namespace xop {

// Default cap on a JSON answer.
inline constexpr size_t kMaxAnswerBytes = size_t{1} << 20;

// Sends the request (no body when `body` is null) and returns the parsed JSON answer.
Result<Json> call_json(ApiClient& api, const std::string& method, const std::string& target, const Json& body,
                       size_t max_answer_bytes = kMaxAnswerBytes);

// As call_json(), with `headers` added to the request.
Result<Json> call_json(ApiClient& api, const std::string& method, const std::string& target, const Json& body,
                       size_t max_answer_bytes, const std::map<std::string, std::string>& headers);

// The JSON of an answer that arrived: a non-2xx status is the service's Error, an oversized or
// non-JSON body a malformed_answer().
Result<Json> answer_json(const std::string& method, const std::string& target, const HttpResponse& res,
                         size_t max_answer_bytes = kMaxAnswerBytes);

// As call_json(), then decodes the answer with `decode`.
template <typename T>
Result<T> call_typed(ApiClient& api, const std::string& method, const std::string& target, const Json& body,
                     const std::function<Result<T>(const Json&)>& decode, size_t max_answer_bytes = kMaxAnswerBytes,
                     const std::map<std::string, std::string>& headers = {});

// A malformed answer's error: kUnavailable, naming the call.
Error malformed_answer(const std::string& method, const std::string& target, const std::string& what);

// Checks that `id` may stand as one path segment (letters, digits, '.', '_', '-'; 1..128 chars):
// kInvalidArgument naming `what` otherwise.
Status check_path_segment(std::string_view id, const char* what);

template <typename T>
Result<T> call_typed(ApiClient& api, const std::string& method, const std::string& target, const Json& body,
                     const std::function<Result<T>(const Json&)>& decode, size_t max_answer_bytes,
                     const std::map<std::string, std::string>& headers) {
  XOP_ASSIGN_OR_RETURN(auto j, call_json(api, method, target, body, max_answer_bytes, headers));
  auto v = decode(j);
  if (!v) return tl::make_unexpected(malformed_answer(method, target, v.error().message));
  return v;
}

}  // namespace xop
