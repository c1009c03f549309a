// The signed JSON client every caller of the public API uses (CLI, tests, daemons talking to
// each other). Each request is signed with the caller's key (if it has one) for the receiving
// service's audience (docs/formats.md): pinned with set_audience() when the caller knows whom it
// talks to (e.g. a server's id from its signed advert), else learnt from the endpoint's public
// GET /v1/info on the first signed call and cached (copies of a client share it). When a
// service refuses a signature naming another audience than the learnt one (it restarted with a
// new identity), the client learns again and retries once; a pinned audience is never changed.
// Error bodies come back as Errors with the server's code and message.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "client/connector.h"
#include "core/clock.h"
#include "crypto/keys.h"
#include "net/http_client.h"
#include "net/transport.h"

namespace xop {

class ApiClient {
 public:
  // `key` may be empty for unsigned calls.
  ApiClient(Endpoint ep, std::optional<KeyPair> key, const Clock& clock = SystemClock::instance(),
            std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Over any transport (e.g. a RouterTransport to an in-process service); `ep` is what
  // endpoint() reports and error messages name.
  ApiClient(std::shared_ptr<Transport> transport, Endpoint ep, std::optional<KeyPair> key,
            const Clock& clock = SystemClock::instance());
  static Result<ApiClient> connect(const std::string& url, std::optional<KeyPair> key,
                                   const Clock& clock = SystemClock::instance());
  // As connect(), reaching the endpoint through `connector` (an empty one: HTTP).
  static Result<ApiClient> connect(const std::string& url, std::optional<KeyPair> key, const Clock& clock,
                                   const Connector& connector);

  // Sends a JSON request (body omitted when null) and parses a JSON answer. Non-2xx statuses
  // become the server's Error.
  Result<Json> call(const std::string& method, const std::string& target, const Json& body = nullptr);
  // Raw variant for non-JSON bodies (e.g. blob uploads); returns the raw response.
  Result<HttpResponse> call_raw(const std::string& method, const std::string& target, const std::string& body,
                                const std::string& content_type = "application/json");
  // As call_raw(), with `headers` added to the request (e.g. Idempotency-Key).
  Result<HttpResponse> call_raw(const std::string& method, const std::string& target, const std::string& body,
                                const std::string& content_type, const std::map<std::string, std::string>& headers);

  [[nodiscard]] const Endpoint& endpoint() const { return ep_; }
  [[nodiscard]] const std::optional<KeyPair>& key() const { return key_; }

  // Signs every later request for `audience` (and never learns another).
  void set_audience(std::string audience);
  // The audience requests are signed for (learnt from GET /v1/info when not pinned).
  Result<std::string> audience();

 private:
  struct AudienceCache;
  Result<HttpResponse> send(const std::string& method, const std::string& target, const std::string& body,
                            const std::string& content_type, const std::string& audience,
                            const std::map<std::string, std::string>& extra);
  std::shared_ptr<Transport> http_;
  Endpoint ep_;
  std::shared_ptr<AudienceCache> audience_;
  std::optional<KeyPair> key_;
  const Clock* clock_;
};

}  // namespace xop
