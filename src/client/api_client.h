// The signed JSON client every caller of the public API uses (CLI, tests, daemons talking to
// each other). Each request is signed with the caller's key (if it has one); error bodies come
// back as Errors with the server's code and message.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "crypto/keys.h"
#include "net/http_client.h"

namespace xop {

class ApiClient {
 public:
  // `key` may be empty for unsigned calls.
  ApiClient(Endpoint ep, std::optional<KeyPair> key, const Clock& clock = SystemClock::instance(),
            std::chrono::milliseconds timeout = std::chrono::seconds(30));
  static Result<ApiClient> connect(const std::string& url, std::optional<KeyPair> key,
                                   const Clock& clock = SystemClock::instance());

  // Sends a JSON request (body omitted when null) and parses a JSON answer. Non-2xx statuses
  // become the server's Error.
  Result<Json> call(const std::string& method, const std::string& target, const Json& body = nullptr);
  // Raw variant for non-JSON bodies (e.g. blob uploads); returns the raw response.
  Result<HttpResponse> call_raw(const std::string& method, const std::string& target, const std::string& body,
                                const std::string& content_type = "application/json");

  [[nodiscard]] const Endpoint& endpoint() const { return http_->endpoint(); }
  [[nodiscard]] const std::optional<KeyPair>& key() const { return key_; }

 private:
  std::shared_ptr<HttpClient> http_;
  std::optional<KeyPair> key_;
  const Clock* clock_;
};

}  // namespace xop
