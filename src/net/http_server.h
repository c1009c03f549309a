// An HTTP/1.1 server on Boost.Beast: keep-alive, header and per-route body limits, idle
// timeouts, JSON errors. Handlers run on the server's thread pool and may block briefly.
// Bind to port 0 to get a free port; port() tells which.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "net/router.h"

namespace xop {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int threads = 4;
  std::chrono::seconds idle_timeout{30};
  size_t max_header_bytes = size_t{16} * 1024;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions opts, std::shared_ptr<const Router> router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on background threads.
  Status start();
  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] std::string url() const;
  // Stops accepting, closes connections, joins threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
