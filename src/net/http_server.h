// An HTTP/1.1 server on Boost.Beast: keep-alive, header and per-route body limits, idle and
// header deadlines, JSON errors. Handlers run on the server's thread pool and may block briefly.
// Bind to port 0 to get a free port; port() tells which.
//
// Memory is bounded before anyone is authenticated: connections are capped in total and per
// peer address (excess ones get a 503 JSON error and are closed); a request's header must
// arrive within header_timeout of its first byte; the read buffer is bounded, so pipelined
// requests wait in the kernel. For a Router::Access::kSigned route (or kOptional with a
// signature) the signature is verified from the headers before any body byte is read (401 and
// a lingering close otherwise); the body is then read, bounded by the route's limit, and must
// hash to the signed X-Xop-Content-Sha256. Spooled routes stream their body to a temporary file
// in spool_dir under a per-caller and a total quota (503 beyond them) instead of memory.
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
  std::chrono::seconds idle_timeout{30};    // waiting for the next request; each body read
  std::chrono::seconds header_timeout{10};  // from a request's first byte to its last header byte
  size_t max_header_bytes = size_t{16} * 1024;
  size_t max_connections = 512;                             // open connections in total
  size_t max_connections_per_peer = 64;                     // open connections from one IP address
  std::string spool_dir;                                    // where spooled bodies go; empty: the system temp dir
  uint64_t max_spool_bytes = uint64_t{4} << 30;             // all spooled bodies at once
  uint64_t max_spool_bytes_per_caller = uint64_t{1} << 30;  // one caller's (key, else address)
  // A spooled body, and a file response, must move at least this fast on average (after
  // header_timeout of grace), so a slow sender or reader cannot hold spool space or a
  // connection for long.
  uint64_t min_transfer_bytes_per_s = uint64_t{256} * 1024;
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
