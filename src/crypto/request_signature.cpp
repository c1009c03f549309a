#include "crypto/request_signature.h"

#include <charconv>

#include "core/encoding.h"
#include "crypto/digest.h"

namespace xop {

std::string request_signing_message(std::string_view method, std::string_view target, TimeMs ts,
                                    std::string_view audience, std::string_view body_sha256_hex,
                                    std::string_view nonce) {
  std::string m = "xop-req-v2\n";
  m.append(method).append("\n").append(target).append("\n").append(std::to_string(ts)).append("\n");
  m.append(audience).append("\n").append(body_sha256_hex);
  if (!nonce.empty()) m.append("\n").append(nonce);
  return m;
}

namespace {
bool is_nonce_hex(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

RequestSignature sign_request(const KeyPair& key, std::string_view method, std::string_view target, TimeMs now,
                              std::string_view audience, std::string_view body) {
  std::string digest = sha256_hex(body);
  std::string nonce = random_id("");
  std::string sig = base64_encode(key.sign(request_signing_message(method, target, now, audience, digest, nonce)));
  return RequestSignature{key.public_key().base64(), std::to_string(now), std::move(sig),
                          std::string(audience),     std::move(digest),   std::move(nonce)};
}

std::map<std::string, std::string> signature_headers(const RequestSignature& sig) {
  std::map<std::string, std::string> h = {{"X-Xop-Key", sig.key_b64},
                                          {"X-Xop-Timestamp", sig.timestamp},
                                          {"X-Xop-Signature", sig.signature_b64},
                                          {"X-Xop-Audience", sig.audience},
                                          {"X-Xop-Content-Sha256", sig.content_sha256}};
  if (!sig.nonce.empty()) h.emplace("X-Xop-Nonce", sig.nonce);
  return h;
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status body_matches(const RequestSignature& sig, std::string_view body_sha256_hex) {
  if (sig.content_sha256 != body_sha256_hex) {
    return make_error(ErrorCode::kUnauthenticated,
                      "request body does not match its signed X-Xop-Content-Sha256 (body hashes to " +
                          std::string(body_sha256_hex) + ")");
  }
  return ok_status();
}

RequestVerifier::RequestVerifier(const Clock& clock, std::string audience, int64_t window_ms, size_t max_remembered)
    : clock_(clock), audience_(std::move(audience)), window_ms_(window_ms), max_remembered_(max_remembered) {}

void RequestVerifier::expire_locked(TimeMs now) {
  while (!order_.empty() && order_.front().first < now - 2 * window_ms_) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

Result<PublicKey> RequestVerifier::verify_headers(std::string_view method, std::string_view target,
                                                  const RequestSignature& sig) {
  auto unauth = [](std::string m) { return make_error(ErrorCode::kUnauthenticated, std::move(m)); };
  if (sig.key_b64.empty() || sig.timestamp.empty() || sig.signature_b64.empty()) {
    return unauth(
        "request is not signed (X-Xop-Key, X-Xop-Timestamp, X-Xop-Signature, X-Xop-Audience and "
        "X-Xop-Content-Sha256 required)");
  }
  if (!sig.audience.empty() && sig.audience != audience_) {
    return unauth("request was signed for \"" + sig.audience.substr(0, 200) + "\"; this service is \"" + audience_ +
                  "\"");
  }
  if (!is_sha256_hex(sig.content_sha256)) {
    return unauth("X-Xop-Content-Sha256 must be the hex SHA-256 of the body (64 lowercase hex characters)");
  }
  if (!sig.nonce.empty() && !is_nonce_hex(sig.nonce)) {
    return unauth("X-Xop-Nonce must be 32 lowercase hex characters");
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
  if (!raw ||
      !key->verify(request_signing_message(method, target, ts, audience_, sig.content_sha256, sig.nonce), *raw)) {
    return unauth("request signature does not verify (this service is \"" + audience_ + "\")");
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

Result<PublicKey> RequestVerifier::verify(std::string_view method, std::string_view target, const RequestSignature& sig,
                                          std::string_view body) {
  const std::string digest = sha256_hex(body);
  // A wrong body must not use up the signature: check it before recording the replay.
  if (is_sha256_hex(sig.content_sha256)) {
    if (auto s = body_matches(sig, digest); !s) return tl::make_unexpected(s.error());
  }
  return verify_headers(method, target, sig);
}

}  // namespace xop
