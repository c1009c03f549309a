#include "crypto/request_signature.h"

#include <charconv>

#include "core/encoding.h"
#include "crypto/digest.h"

namespace xop {

std::string request_signing_message(std::string_view method, std::string_view target, TimeMs ts,
                                    std::string_view body) {
  std::string m = "xop-req-v1\n";
  m.append(method).append("\n").append(target).append("\n").append(std::to_string(ts)).append("\n");
  m.append(sha256_hex(body));
  return m;
}

RequestSignature sign_request(const KeyPair& key, std::string_view method, std::string_view target, TimeMs now,
                              std::string_view body) {
  return RequestSignature{key.public_key().base64(), std::to_string(now),
                          base64_encode(key.sign(request_signing_message(method, target, now, body)))};
}

RequestVerifier::RequestVerifier(const Clock& clock, int64_t window_ms, size_t max_remembered)
    : clock_(clock), window_ms_(window_ms), max_remembered_(max_remembered) {}

void RequestVerifier::expire_locked(TimeMs now) {
  while (!order_.empty() && order_.front().first < now - 2 * window_ms_) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

Result<PublicKey> RequestVerifier::verify(std::string_view method, std::string_view target, const RequestSignature& sig,
                                          std::string_view body) {
  auto unauth = [](std::string m) { return make_error(ErrorCode::kUnauthenticated, std::move(m)); };
  if (sig.key_b64.empty() || sig.timestamp.empty() || sig.signature_b64.empty()) {
    return unauth("request is not signed (X-Xop-Key, X-Xop-Timestamp, X-Xop-Signature required)");
  }
  auto key = PublicKey::from_base64(sig.key_b64);
  if (!key) return unauth("X-Xop-Key is not a valid public key");
  TimeMs ts = 0;
  const auto* end = sig.timestamp.data() + sig.timestamp.size();
  auto [p, ec] = std::from_chars(sig.timestamp.data(), end, ts);
  if (ec != std::errc() || p != end) return unauth("X-Xop-Timestamp is not an integer");
  const TimeMs now = clock_.now_ms();
  if (ts < now - window_ms_ || ts > now + window_ms_) {
    return unauth("request timestamp is outside the accepted window (check the clock)");
  }
  auto raw = base64_decode(sig.signature_b64);
  if (!raw || !key->verify(request_signing_message(method, target, ts, body), *raw)) {
    return unauth("request signature does not verify");
  }
  std::lock_guard lock(mu_);
  expire_locked(now);
  if (seen_.contains(*raw)) return unauth("request replayed");
  if (seen_.size() >= max_remembered_) {
    return make_error(ErrorCode::kResourceExhausted, "too many signed requests in flight; retry shortly");
  }
  seen_.insert(*raw);
  order_.emplace_back(ts, *raw);
  return *key;
}

}  // namespace xop
