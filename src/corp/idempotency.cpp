#include "corp/idempotency.h"

#include <optional>

#include "crypto/digest.h"

namespace xop {

std::string idempotency_fingerprint(std::string_view method, std::string_view target, std::string_view caller,
                                    std::string_view body) {
  std::string in = "xop-idempotency-v1\n";
  for (std::string_view part : {method, target, caller}) {
    in += std::to_string(part.size());
    in += ':';
    in.append(part);
    in += '\n';
  }
  in += sha256_hex(body);
  return sha256_hex(in);
}

bool InFlightKeys::enter(const std::string& scope, const std::string& key) {
  std::lock_guard lock(mu_);
  return keys_.emplace(scope, key).second;
}

void InFlightKeys::leave(const std::string& scope, const std::string& key) {
  std::lock_guard lock(mu_);
  keys_.erase({scope, key});
}

HttpResponse serve_idempotent(ClearingHouse& house, InFlightKeys& in_flight, const Authenticate& authenticate,
                              const HttpRequest& request, TimeMs now,
                              const std::function<HttpResponse(const HttpRequest&)>& handler) {
  const auto header = request.headers.find(kHeaderIdempotencyKey);
  if (header == request.headers.end()) return handler(request);
  auto key = parse_idempotency_key(header->second);
  if (!key) return error_response(key.error());
  if (!request.body_file.empty()) {
    return error_response(ErrorCode::kInvalidArgument, "an Idempotency-Key cannot guard a spooled body");
  }
  std::optional<HttpRequest> verified;
  if (!request.caller) {
    auto k = authenticate(request);
    if (!k) return error_response(k.error());
    verified = request;
    verified->caller = std::move(*k);
  }
  const HttpRequest& q = verified ? *verified : request;
  const std::string scope = q.caller->account_id();
  if (!in_flight.enter(scope, *key)) {
    return error_response(ErrorCode::kIdempotencyKeyInFlight,
                          "the first request with this Idempotency-Key is still being served; retry later");
  }
  struct Leave {
    InFlightKeys& f;
    const std::string& scope;
    const std::string& key;
    ~Leave() { f.leave(scope, key); }
  } leave{in_flight, scope, *key};
  const IdempotencyClaim claim{scope, *key, idempotency_fingerprint(q.method, q.target, scope, q.body)};
  HttpResponse first;  // the handler's answer, with any headers it set
  auto r = house.run_idempotent(claim, now, [&] {
    first = handler(q);
    return StoredAnswer{"", first.status, first.content_type, first.body};
  });
  if (!r) return error_response(r.error());
  if (!r->replayed) return first;
  HttpResponse out;
  out.status = r->answer.status;
  out.content_type = r->answer.content_type;
  out.body = std::move(r->answer.body);
  out.headers[kHeaderIdempotentReplayed] = "true";
  return out;
}

}  // namespace xop
