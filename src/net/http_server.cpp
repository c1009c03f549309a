#include "net/http_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "core/log.h"
#include "crypto/digest.h"
#include "net/request_gate.h"

namespace xop {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Per-peer and total counts (connections, or spooled bytes), reserved and released under a mutex.
class Quota {
 public:
  // Adds `n` for `who` if neither limit is exceeded.
  bool reserve(const std::string& who, uint64_t n, uint64_t max_total, uint64_t max_each) {
    std::lock_guard lock(mu_);
    auto& mine = by_[who];
    if (total_ + n > max_total || mine + n > max_each) {
      if (mine == 0) by_.erase(who);
      return false;
    }
    total_ += n;
    mine += n;
    return true;
  }
  void release(const std::string& who, uint64_t n) {
    std::lock_guard lock(mu_);
    auto it = by_.find(who);
    if (it == by_.end()) return;
    it->second -= std::min(it->second, n);
    total_ -= std::min(total_, n);
    if (it->second == 0) by_.erase(it);
  }

 private:
  std::mutex mu_;
  uint64_t total_ = 0;
  std::map<std::string, uint64_t> by_;
};

// Releases a reservation when it goes out of scope.
struct Reservation {
  Quota* quota = nullptr;
  std::string who;
  uint64_t n = 0;
  Reservation() = default;
  Reservation(Quota* q, std::string w, uint64_t amount) : quota(q), who(std::move(w)), n(amount) {}
  ~Reservation() {
    if (quota != nullptr) quota->release(who, n);
  }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
};

// A spooled body's file: closed and removed when it goes out of scope (a handler that keeps the
// file renames it away first; the unlink then fails harmlessly).
struct SpoolFile {
  std::string path;
  int fd = -1;
  ~SpoolFile() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
  SpoolFile() = default;
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions opts;
  std::shared_ptr<const Router> router;
  // Live connections, so that stop() can close them. Declared before ioc: coroutine frames that
  // are destroyed with the io_context unregister themselves here.
  std::mutex conns_mu;
  std::set<beast::tcp_stream*> conns;
  Quota connections;
  Quota spool;
  std::atomic<bool> stopping{false};
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;
  bool running = false;

  static HttpRequest header_request(const http::request_header<>& r, const std::string& remote) {
    HttpRequest req;
    req.method = std::string(r.method_string());
    req.target = std::string(r.target());
    const auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = parse_query(std::string_view(req.target).substr(q + 1));
    for (const auto& f : r) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(f.value());
    }
    req.remote = remote;
    return req;
  }

  template <class Body>
  void set_headers(http::response<Body>& r, const HttpResponse& res, bool keep_alive) const {
    r.set(http::field::server, "xop");
    r.set(http::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers) r.set(k, v);
    // A refused signature names the audience this service expects, so a client that signed for
    // another one can say so (and one that learnt a stale audience can learn again).
    if (auto aud = refused_audience(*router, res.status); !aud.empty()) r.set("X-Xop-Audience", aud);
    r.keep_alive(keep_alive);
  }

  [[nodiscard]] http::response<http::string_body> to_beast(const HttpResponse& res, unsigned version, bool keep_alive,
                                                           bool head) const {
    http::response<http::string_body> r{static_cast<http::status>(res.status), version};
    set_headers(r, res, keep_alive);
    r.body() = res.body;
    r.prepare_payload();
    if (head) r.body().clear();
    return r;
  }

  // What a failed body read answers: 413 (and `refused`: the client may still be sending) or 400,
  // or nothing when the connection is simply gone (timeout, end of stream).
  static std::optional<Error> body_read_error(const boost::system::error_code& ec, size_t limit, bool* refused) {
    if (ec == http::error::body_limit) {
      *refused = true;
      return Error{ErrorCode::kPayloadTooLarge, "request body larger than " + std::to_string(limit) + " bytes"};
    }
    if (ec != beast::error::timeout && ec != asio::error::eof) {
      return Error{ErrorCode::kInvalidArgument, "malformed HTTP request body"};
    }
    return std::nullopt;
  }

  // How long moving `bytes` may take at the minimum transfer rate, after the header grace.
  [[nodiscard]] std::chrono::steady_clock::duration transfer_allowance(uint64_t bytes) const {
    const uint64_t rate = std::max<uint64_t>(opts.min_transfer_bytes_per_s, 1);
    return opts.header_timeout + std::chrono::milliseconds(bytes / rate * 1000 + bytes % rate * 1000 / rate);
  }

  // Writes `res`, streaming res.body_file from disk when set. Returns false when the connection
  // must close.
  awaitable<bool> write_response(beast::tcp_stream& stream, const HttpResponse& res, unsigned version, bool keep_alive,
                                 bool head) {
    if (res.body_file.empty()) {
      auto out = to_beast(res, version, keep_alive, head);
      stream.expires_after(opts.idle_timeout);
      auto [ec, n] = co_await http::async_write(stream, out, kTuple);
      co_return !ec && keep_alive;
    }
    http::file_body::value_type file;
    beast::error_code ec;
    file.open(res.body_file.c_str(), beast::file_mode::scan, ec);
    if (ec) {
      auto out =
          to_beast(error_response(ErrorCode::kNotFound, "the requested content is gone"), version, keep_alive, head);
      stream.expires_after(opts.idle_timeout);
      auto [ecw, nw] = co_await http::async_write(stream, out, kTuple);
      co_return !ecw && keep_alive;
    }
    const uint64_t size = file.size();
    if (head) {
      http::response<http::empty_body> out{static_cast<http::status>(res.status), version};
      set_headers(out, res, keep_alive);
      out.content_length(size);
      stream.expires_after(opts.idle_timeout);
      http::response_serializer<http::empty_body> sr{out};
      auto [ecw, nw] = co_await http::async_write_header(stream, sr, kTuple);
      co_return !ecw && keep_alive;
    }
    http::response<http::file_body> out{static_cast<http::status>(res.status), version};
    set_headers(out, res, keep_alive);
    out.body() = std::move(file);
    out.prepare_payload();
    // The whole answer, not each chunk: a reader slower than the minimum rate is cut off.
    stream.expires_after(transfer_allowance(size));
    auto [ecw, nw] = co_await http::async_write(stream, out, kTuple);
    co_return !ecw && keep_alive;
  }

  awaitable<void> write_error(beast::tcp_stream& stream, const Error& e) {
    auto r = to_beast(error_response(e), 11, false, false);
    stream.expires_after(opts.idle_timeout);
    co_await http::async_write(stream, r, kTuple);
  }

  // Reads and discards what the client is still sending (bounded in time and bytes), so that
  // closing with unread data does not reset the connection before the client has read the answer.
  static awaitable<void> linger(beast::tcp_stream& stream, std::chrono::milliseconds how_long, size_t max_bytes) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(how_long);
    std::array<char, 16384> sink{};
    size_t drained = 0;
    while (drained < max_bytes) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (ec) break;
      drained += n;
    }
  }

  awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    struct Registration {
      Impl* impl;
      beast::tcp_stream* s;
      Registration(Impl* i, beast::tcp_stream* st) : impl(i), s(st) {
        std::lock_guard lock(impl->conns_mu);
        impl->conns.insert(s);
      }
      ~Registration() {
        std::lock_guard lock(impl->conns_mu);
        impl->conns.erase(s);
      }
      Registration(const Registration&) = delete;
      Registration& operator=(const Registration&) = delete;
    } registration(this, &stream);
    if (stopping) co_return;
    std::string remote;
    std::string peer;
    {
      boost::system::error_code ec;
      auto ep = stream.socket().remote_endpoint(ec);
      if (!ec) {
        peer = ep.address().to_string();
        remote = peer + ":" + std::to_string(ep.port());
      }
    }
    Reservation slot;
    if (!connections.reserve(peer, 1, opts.max_connections, opts.max_connections_per_peer)) {
      const Error busy{ErrorCode::kResourceExhausted,
                       "too many connections (to this service, or from " + peer + "); retry later"};
      co_await write_error(stream, busy);
      co_await linger(stream, std::chrono::milliseconds(500), size_t{64} * 1024);
      co_return;
    }
    slot.quota = &connections;
    slot.who = peer;
    slot.n = 1;

    // Bounded: a header never needs more, and bodies are read into their own storage.
    beast::flat_buffer buffer(opts.max_header_bytes + size_t{64} * 1024);
    bool refused_body = false;  // answered while the client may still be sending a body
    while (!stopping) {
      // Idle keep-alive: wait for the first byte of the next request; from then on, the whole
      // header must arrive within header_timeout (a client dribbling bytes cannot hold us).
      if (buffer.size() == 0) {
        stream.expires_after(opts.idle_timeout);
        auto [ec0, n0] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
        if (ec0) break;
        buffer.commit(n0);
      }
      http::request_parser<http::empty_body> hp;
      hp.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
      // Beast checks Content-Length against body_limit while parsing the header; the per-route
      // limit is only known once the header names the route.
      hp.body_limit(std::numeric_limits<std::uint64_t>::max());
      stream.expires_after(opts.header_timeout);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, hp, kTuple);
      if (ec) {
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
          // Named, not a temporary: GCC 12 destroys temporaries of a co_await expression twice.
          const Error too_large{ErrorCode::kPayloadTooLarge, "request headers too large"};
          co_await write_error(stream, too_large);
        } else if (ec == beast::error::timeout) {
          const Error slow{ErrorCode::kInvalidArgument, "request header not received in time"};
          co_await write_error(stream, slow);
        } else if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != asio::error::connection_reset &&
                   ec != asio::error::operation_aborted) {
          const Error malformed{ErrorCode::kInvalidArgument, "malformed HTTP request"};
          co_await write_error(stream, malformed);
        }
        break;
      }
      const auto& h = hp.get();
      const unsigned version = h.version();
      const bool keep_alive = h.keep_alive();
      const bool head = h.method() == http::verb::head;
      const bool body_pending = hp.chunked() || (hp.content_length() && *hp.content_length() > 0);
      HttpRequest req = header_request(h, remote);
      const Router::Route* route = router->find(req.method, req.path);
      const size_t limit = route != nullptr ? route->max_body : kDefaultMaxBody;

      // Authenticate from the headers alone, before any body byte is read.
      const auto declared = hp.content_length();
      std::optional<Error> refusal =
          gate_head(*router, route, req, declared ? std::optional<uint64_t>(*declared) : std::nullopt);
      if (!refusal && route == nullptr && body_pending) {
        // No route takes this request: answer 404/405 from the headers, never read its body.
        HttpResponse res = router->dispatch(req);
        auto out = to_beast(res, version, false, head);
        stream.expires_after(opts.idle_timeout);
        co_await http::async_write(stream, out, kTuple);
        refused_body = true;
        break;
      }
      if (refusal && !body_pending) {
        // Nothing more to read: answer and keep the connection.
        auto out = to_beast(error_response(*refusal), version, keep_alive, head);
        stream.expires_after(opts.idle_timeout);
        auto [ecw, nw] = co_await http::async_write(stream, out, kTuple);
        if (ecw || !keep_alive) break;
        continue;
      }
      if (refusal) {
        auto out = to_beast(error_response(*refusal), version, false, head);
        stream.expires_after(opts.idle_timeout);
        co_await http::async_write(stream, out, kTuple);
        refused_body = true;
        break;
      }

      // The body: streamed to a spool file, or read into memory, bounded by the route's limit.
      std::optional<Error> body_error;
      bool close_after = false;
      SpoolFile spool_file;
      Reservation spooled;
      Sha256Stream hasher;
      if (route != nullptr && route->spool && body_pending) {
        const std::string owner = req.caller ? req.caller->account_id() : peer;
        const uint64_t want = hp.content_length() ? *hp.content_length() : limit;
        if (!spool.reserve(owner, want, opts.max_spool_bytes, opts.max_spool_bytes_per_caller)) {
          body_error = Error{ErrorCode::kResourceExhausted,
                             "upload quota exceeded (too many large uploads in progress); retry later"};
          refused_body = true;
        } else {
          spooled.quota = &spool;
          spooled.who = owner;
          spooled.n = want;
          std::string tmpl =
              (opts.spool_dir.empty() ? std::filesystem::temp_directory_path().string() : opts.spool_dir) +
              "/xop-spool-XXXXXX";
          spool_file.fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
          if (spool_file.fd < 0) {
            XOP_LOG_ERROR("http: cannot create a spool file {}: {}", tmpl, std::strerror(errno));
            body_error = Error{ErrorCode::kInternal, "cannot store the request body"};
            refused_body = true;
          } else {
            spool_file.path = tmpl;
          }
        }
        if (!body_error) {
          http::request_parser<http::buffer_body> bp{std::move(hp)};
          bp.body_limit(limit);
          std::vector<char> chunk(size_t{64} * 1024);
          uint64_t total = 0;
          // One deadline for the whole body, from the minimum rate: a sender trickling bytes
          // cannot hold its spool reservation for long.
          const auto body_deadline = std::chrono::steady_clock::now() + transfer_allowance(want);
          while (!bp.is_done() && !body_error) {
            bp.get().body().data = chunk.data();
            bp.get().body().size = chunk.size();
            stream.expires_at(std::min(body_deadline, std::chrono::steady_clock::now() + opts.idle_timeout));
            auto [ecb, nb] = co_await http::async_read(stream, buffer, bp, kTuple);
            if (ecb == http::error::need_buffer) ecb = {};
            if (ecb) {
              body_error = body_read_error(ecb, limit, &refused_body);
              close_after = !body_error;
              break;
            }
            const size_t got = chunk.size() - bp.get().body().size;
            std::string_view data(chunk.data(), got);
            hasher.update(data);
            total += got;
            while (!data.empty()) {
              const ssize_t w = ::write(spool_file.fd, data.data(), data.size());
              if (w < 0 && errno == EINTR) continue;
              if (w <= 0) {
                XOP_LOG_ERROR("http: writing spool file {}: {}", spool_file.path, std::strerror(errno));
                body_error = Error{ErrorCode::kInternal, "cannot store the request body"};
                refused_body = true;
                break;
              }
              data.remove_prefix(static_cast<size_t>(w));
            }
          }
          ::close(spool_file.fd);
          spool_file.fd = -1;
          req.body_file = spool_file.path;
          req.body_size = total;
        }
      } else if (body_pending) {
        http::request_parser<http::string_body> sp{std::move(hp)};
        sp.body_limit(limit);
        stream.expires_after(opts.idle_timeout);
        auto [ec2, n2] = co_await http::async_read(stream, buffer, sp, kTuple);
        if (ec2) {
          body_error = body_read_error(ec2, limit, &refused_body);
          close_after = !body_error;
        } else {
          req.body = std::move(sp.get().body());
          hasher.update(req.body);
        }
      }
      if (close_after) break;
      if (body_error) {
        co_await write_error(stream, *body_error);
        break;
      }
      std::optional<HttpResponse> res;
      if (req.caller) {
        // The signature covered the digest in the header; the body must be that body.
        if (auto e = gate_body(req, hasher.hex_final())) res = error_response(*e);
      }
      if (!res) res = router->dispatch(req);
      if (!co_await write_response(stream, *res, version, keep_alive, head)) break;
    }
    boost::system::error_code ignored;
    if (refused_body && !stopping) {
      co_await linger(stream, std::chrono::seconds(2), size_t{16} << 20);
    } else {
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  awaitable<void> accept_loop() {
    while (!stopping) {
      // Each connection on its own strand: beast::tcp_stream's deadline timer and the operation
      // it cuts complete on the io_context's threads, and must never run at the same time (a
      // timeout firing as the last bytes of a trickled body arrive raced and crashed here).
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        // E.g. out of file descriptors: back off instead of spinning.
        asio::steady_timer backoff(acceptor.get_executor(), std::chrono::milliseconds(50));
        co_await backoff.async_wait(kTuple);
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer(HttpServerOptions opts, std::shared_ptr<const Router> router) : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(opts);
  impl_->router = std::move(router);
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(impl_->opts.host, ec);
  if (ec) return invalid("cannot parse listen address " + impl_->opts.host);
  tcp::endpoint ep(addr, impl_->opts.port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable, "cannot listen on " + impl_->opts.host + ":" +
                                                   std::to_string(impl_->opts.port) + ": " + ec.message());
  }
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->running = true;
  for (int i = 0; i < std::max(1, impl_->opts.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return {};
}

uint16_t HttpServer::port() const { return impl_->bound_port; }
std::string HttpServer::url() const { return "http://" + impl_->opts.host + ":" + std::to_string(port()); }

void HttpServer::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  impl_->stopping = true;
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  // No thread runs the io_context any more, so the listener and the connections can be closed
  // directly. Then let the coroutines see their operations fail and unwind (bounded: every
  // socket is closed, so nothing can wait for long).
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  {
    std::lock_guard lock(impl_->conns_mu);
    for (auto* s : impl_->conns) s->close();
  }
  impl_->ioc.restart();
  impl_->ioc.run_for(std::chrono::seconds(2));
}

}  // namespace xop
