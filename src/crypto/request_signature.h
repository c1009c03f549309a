// Signed HTTP requests. The caller signs
//   "xop-req-v1\n" METHOD "\n" TARGET "\n" TIMESTAMP_MS "\n" hex(SHA-256(body))
// with its Ed25519 key and sends three headers:
//   X-Xop-Key: base64 public key    X-Xop-Timestamp: ms since epoch    X-Xop-Signature: base64
// The receiver accepts a request only inside a time window around its own clock and only once:
// a signature it has seen before within the window is a replay.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/clock.h"
#include "crypto/keys.h"

namespace xop {

inline constexpr const char* kHeaderKey = "x-xop-key";
inline constexpr const char* kHeaderTimestamp = "x-xop-timestamp";
inline constexpr const char* kHeaderSignature = "x-xop-signature";

std::string request_signing_message(std::string_view method, std::string_view target, TimeMs ts, std::string_view body);

struct RequestSignature {
  std::string key_b64;
  std::string timestamp;
  std::string signature_b64;
};

RequestSignature sign_request(const KeyPair& key, std::string_view method, std::string_view target, TimeMs now,
                              std::string_view body);

// Thread-safe verifier with a replay cache bounded in time (twice the window) and size.
class RequestVerifier {
 public:
  explicit RequestVerifier(const Clock& clock, int64_t window_ms = 60'000, size_t max_remembered = 1'000'000);

  // Returns the caller's key, or kUnauthenticated with a reason.
  Result<PublicKey> verify(std::string_view method, std::string_view target, const RequestSignature& sig,
                           std::string_view body);

 private:
  void expire_locked(TimeMs now);

  const Clock& clock_;
  int64_t window_ms_;
  size_t max_remembered_;
  std::mutex mu_;
  std::deque<std::pair<TimeMs, std::string>> order_;
  std::unordered_set<std::string> seen_;
};

}  // namespace xop
