#include "client/api_client.h"

#include <atomic>

namespace xop {
namespace {
// Signatures are deterministic, and receivers refuse a signature they have seen: two identical
// requests signed in the same millisecond would collide. Timestamps from this process therefore
// increase strictly during a burst (drifting ahead by at most the burst size, far inside the
// window). When the clock is more than a second behind the last timestamp (a simulated clock,
// or a clock that was set back) the clock wins, so timestamps never stay stuck in the future.
TimeMs unique_timestamp(TimeMs now) {
  static std::atomic<TimeMs> last{0};
  TimeMs prev = last.load();
  TimeMs next = 0;
  do {
    next = (now > prev || prev - now > 1000) ? now : prev + 1;
  } while (!last.compare_exchange_weak(prev, next));
  return next;
}
}  // namespace

ApiClient::ApiClient(Endpoint ep, std::optional<KeyPair> key, const Clock& clock, std::chrono::milliseconds timeout)
    : http_(std::make_shared<HttpClient>(std::move(ep), timeout)), key_(std::move(key)), clock_(&clock) {}

Result<ApiClient> ApiClient::connect(const std::string& url, std::optional<KeyPair> key, const Clock& clock) {
  XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(url));
  return ApiClient(std::move(ep), std::move(key), clock);
}

Result<HttpResponse> ApiClient::call_raw(const std::string& method, const std::string& target, const std::string& body,
                                         const std::string& content_type) {
  std::map<std::string, std::string> headers;
  if (!body.empty()) headers["Content-Type"] = content_type;
  if (key_) {
    auto sig = sign_request(*key_, method, target, unique_timestamp(clock_->now_ms()), body);
    headers["X-Xop-Key"] = sig.key_b64;
    headers["X-Xop-Timestamp"] = sig.timestamp;
    headers["X-Xop-Signature"] = sig.signature_b64;
  }
  return http_->request(method, target, body, headers);
}

Result<Json> ApiClient::call(const std::string& method, const std::string& target, const Json& body) {
  const std::string text = body.is_null() ? std::string() : body.dump();
  XOP_ASSIGN_OR_RETURN(auto res, call_raw(method, target, text));
  if (res.status < 200 || res.status >= 300) return tl::make_unexpected(error_from_response(res.status, res.body));
  if (res.body.empty()) return Json::object();
  auto j = parse_json(res.body, 64);
  if (!j) return make_error(ErrorCode::kUnavailable, "server sent a response that is not JSON");
  return j;
}

}  // namespace xop
