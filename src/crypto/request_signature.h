// Signed HTTP requests (format "xop-req-v2", docs/formats.md). The caller signs
//   "xop-req-v2\n" METHOD "\n" TARGET "\n" TIMESTAMP_MS "\n" AUDIENCE "\n" hex(SHA-256(body))
//   [ "\n" NONCE ]
// with its Ed25519 key and sends five headers, and the nonce when it has one:
//   X-Xop-Key: base64 public key        X-Xop-Timestamp: ms since epoch   X-Xop-Signature: base64
//   X-Xop-Audience: the receiving service's identity (as its GET /v1/info tells)
//   X-Xop-Content-Sha256: hex(SHA-256(body))
//   X-Xop-Nonce: 32 lowercase hex characters, fresh per request (sign_request always sends one)
// Ed25519 signatures are deterministic: without the nonce, two processes holding one key (two
// `xop` commands at once) that sign the same request in the same millisecond would produce the
// same signature, and the second would be refused as a replay.
// AUDIENCE binds the request to one receiving service: a receiver rebuilds the message with its
// OWN audience, so a request signed for one daemon does not verify at another. The body digest
// is a header so that the signature can be checked from the headers alone, before any body byte
// is read; the receiver then checks that the body it reads has that digest.
// The receiver accepts a request only inside a time window around its own clock and only once:
// a signature it has seen before within the window is a replay.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/clock.h"
#include "crypto/keys.h"

namespace xop {

inline constexpr const char* kHeaderKey = "x-xop-key";
inline constexpr const char* kHeaderTimestamp = "x-xop-timestamp";
inline constexpr const char* kHeaderSignature = "x-xop-signature";
inline constexpr const char* kHeaderAudience = "x-xop-audience";
inline constexpr const char* kHeaderContentSha256 = "x-xop-content-sha256";
inline constexpr const char* kHeaderNonce = "x-xop-nonce";

// `nonce` empty: the message of a signer that sent none.
std::string request_signing_message(std::string_view method, std::string_view target, TimeMs ts,
                                    std::string_view audience, std::string_view body_sha256_hex,
                                    std::string_view nonce = "");

struct RequestSignature {
  std::string key_b64;
  std::string timestamp;
  std::string signature_b64;
  std::string audience;        // as sent; informational (the receiver verifies with its own)
  std::string content_sha256;  // hex SHA-256 of the body the signer meant to send
  std::string nonce;           // 32 lowercase hex characters, or empty (none sent)
};

RequestSignature sign_request(const KeyPair& key, std::string_view method, std::string_view target, TimeMs now,
                              std::string_view audience, std::string_view body);

// The request headers carrying `sig` (canonical capitalisation; X-Xop-Nonce when it has one).
std::map<std::string, std::string> signature_headers(const RequestSignature& sig);

// Thread-safe verifier for one receiving service (its audience), with a replay cache bounded in
// time (twice the window) and size.
class RequestVerifier {
 public:
  RequestVerifier(const Clock& clock, std::string audience, int64_t window_ms = 60'000,
                  size_t max_remembered = 1'000'000);

  // Checks the signature headers alone, trusting sig.content_sha256 for the body: the caller
  // must then check that the body it reads has that digest (body_matches()). Records the
  // signature against replay. Returns the caller's key, or kUnauthenticated with a reason.
  Result<PublicKey> verify_headers(std::string_view method, std::string_view target, const RequestSignature& sig);
  // verify_headers() and the body in one step.
  Result<PublicKey> verify(std::string_view method, std::string_view target, const RequestSignature& sig,
                           std::string_view body);

  [[nodiscard]] const std::string& audience() const { return audience_; }

 private:
  void expire_locked(TimeMs now);

  const Clock& clock_;
  std::string audience_;
  int64_t window_ms_;
  size_t max_remembered_;
  std::mutex mu_;
  std::deque<std::pair<TimeMs, std::string>> order_;
  std::unordered_set<std::string> seen_;
};

// Whether `content_sha256` (a header value) is 64 lowercase hex characters.
bool is_sha256_hex(std::string_view content_sha256);
// kUnauthenticated unless the body has the signed digest.
Status body_matches(const RequestSignature& sig, std::string_view body_sha256_hex);

}  // namespace xop
