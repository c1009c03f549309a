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

struct ApiClient::AudienceCache {
  std::mutex mu;
  std::string value;  // empty: not known yet
  bool pinned = false;
};

ApiClient::ApiClient(Endpoint ep, std::optional<KeyPair> key, const Clock& clock, std::chrono::milliseconds timeout)
    : http_(std::make_shared<HttpClient>(ep, timeout)),
      ep_(std::move(ep)),
      audience_(std::make_shared<AudienceCache>()),
      key_(std::move(key)),
      clock_(&clock) {}

ApiClient::ApiClient(std::shared_ptr<Transport> transport, Endpoint ep, std::optional<KeyPair> key, const Clock& clock)
    : http_(std::move(transport)),
      ep_(std::move(ep)),
      audience_(std::make_shared<AudienceCache>()),
      key_(std::move(key)),
      clock_(&clock) {}

void ApiClient::set_audience(std::string audience) {
  std::lock_guard lock(audience_->mu);
  audience_->value = std::move(audience);
  audience_->pinned = true;
}

Result<std::string> ApiClient::audience() {
  {
    std::lock_guard lock(audience_->mu);
    if (!audience_->value.empty()) return audience_->value;
  }
  XOP_ASSIGN_OR_RETURN(auto res, http_->request("GET", "/v1/info", "", {}));
  auto j = parse_json(res.body, 16);
  if (res.status != 200 || !j || !j->is_object() || !j->contains("audience") || !(*j)["audience"].is_string() ||
      (*j)["audience"].get<std::string>().empty()) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot learn whom to sign for: GET " + endpoint().url() + "/v1/info names no audience");
  }
  std::lock_guard lock(audience_->mu);
  if (audience_->value.empty()) audience_->value = (*j)["audience"].get<std::string>();
  return audience_->value;
}

Result<ApiClient> ApiClient::connect(const std::string& url, std::optional<KeyPair> key, const Clock& clock) {
  XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(url));
  return ApiClient(std::move(ep), std::move(key), clock);
}

Result<ApiClient> ApiClient::connect(const std::string& url, std::optional<KeyPair> key, const Clock& clock,
                                     const Connector& connector) {
  if (!connector) return connect(url, std::move(key), clock);
  XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(url));
  auto transport = connector(ep);
  return ApiClient(std::move(transport), std::move(ep), std::move(key), clock);
}

Result<HttpResponse> ApiClient::send(const std::string& method, const std::string& target, const std::string& body,
                                     const std::string& content_type, const std::string& audience,
                                     const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> headers = extra;
  if (key_) {
    for (auto& [k, v] :
         signature_headers(sign_request(*key_, method, target, unique_timestamp(clock_->now_ms()), audience, body))) {
      headers[k] = std::move(v);
    }
  }
  if (!body.empty()) headers["Content-Type"] = content_type;
  return http_->request(method, target, body, headers);
}

Result<HttpResponse> ApiClient::call_raw(const std::string& method, const std::string& target, const std::string& body,
                                         const std::string& content_type) {
  return call_raw(method, target, body, content_type, {});
}

Result<HttpResponse> ApiClient::call_raw(const std::string& method, const std::string& target, const std::string& body,
                                         const std::string& content_type,
                                         const std::map<std::string, std::string>& extra) {
  if (!key_) return send(method, target, body, content_type, "", extra);
  XOP_ASSIGN_OR_RETURN(auto aud, audience());
  auto res = send(method, target, body, content_type, aud, extra);
  if (!res || res->status != 401) return res;
  // Refused for the audience (checked before anything else, so nothing happened): learn again
  // and retry once, unless the audience was pinned.
  const auto it = res->headers.find("x-xop-audience");
  if (it == res->headers.end() || it->second.empty() || it->second == aud) return res;
  {
    std::lock_guard lock(audience_->mu);
    if (audience_->pinned) return res;
    audience_->value = it->second;
  }
  return send(method, target, body, content_type, it->second, extra);
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
