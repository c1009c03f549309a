// A small blocking HTTP/1.1 client (Boost.Beast) with keep-alive, connect/read timeouts and a
// response-size cap. One connection per client; calls are serialised by an internal mutex.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "net/http.h"
#include "net/transport.h"

namespace xop {

class HttpClient : public Transport {
 public:
  explicit HttpClient(Endpoint ep, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      size_t max_response_bytes = 64u << 20);
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Transport failures are kUnavailable; any HTTP status is a successful Result.
  Result<HttpResponse> request(const std::string& method, const std::string& target, const std::string& body,
                               const std::map<std::string, std::string>& headers) override;
  Result<HttpResponse> request(const std::string& method, const std::string& target, const std::string& body) {
    return request(method, target, body, {});
  }
  [[nodiscard]] const Endpoint& endpoint() const { return ep_; }

 private:
  struct Conn;
  Result<HttpResponse> attempt(const std::string& method, const std::string& target, const std::string& body,
                               const std::map<std::string, std::string>& headers, bool* reused);
  Endpoint ep_;
  std::chrono::milliseconds timeout_;
  size_t max_response_bytes_;
  std::mutex mu_;
  std::unique_ptr<Conn> conn_;
};

}  // namespace xop
