#include "net/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast.hpp>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/log.h"

namespace xop {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct HttpServer::Impl {
  HttpServerOptions opts;
  std::shared_ptr<const Router> router;
  // Live connections, so that stop() can close them. Declared before ioc: coroutine frames that
  // are destroyed with the io_context unregister themselves here.
  std::mutex conns_mu;
  std::set<beast::tcp_stream*> conns;
  std::atomic<bool> stopping{false};
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;
  bool running = false;

  static HttpRequest to_request(const http::request<http::string_body>& r, const std::string& remote) {
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
    req.body = r.body();
    req.remote = remote;
    return req;
  }

  static http::response<http::string_body> to_beast(const HttpResponse& res, unsigned version, bool keep_alive,
                                                    bool head) {
    http::response<http::string_body> r{static_cast<http::status>(res.status), version};
    r.set(http::field::server, "xop");
    r.set(http::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers) r.set(k, v);
    r.keep_alive(keep_alive);
    r.body() = res.body;
    r.prepare_payload();
    if (head) r.body().clear();
    return r;
  }

  awaitable<void> write_error(beast::tcp_stream& stream, const Error& e) {
    auto r = to_beast(error_response(e), 11, false, false);
    co_await http::async_write(stream, r, kTuple);
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
    {
      boost::system::error_code ec;
      auto ep = stream.socket().remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    beast::flat_buffer buffer;
    bool refused_body = false;  // answered 413 while the client may still be sending
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
      // Beast checks Content-Length against body_limit while parsing the header (default 1 MiB);
      // the real, per-route limit is only known once the header names the route.
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      stream.expires_after(opts.idle_timeout);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
      if (ec) {
        if (ec == http::error::header_limit) {
          // Named, not a temporary: GCC 12 destroys temporaries of a co_await expression twice.
          const Error too_large{ErrorCode::kPayloadTooLarge, "request headers too large"};
          co_await write_error(stream, too_large);
        } else if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != beast::error::timeout &&
                   ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
          const Error malformed{ErrorCode::kInvalidArgument, "malformed HTTP request"};
          co_await write_error(stream, malformed);
        }
        break;
      }
      std::string path(parser.get().target());
      path = path.substr(0, path.find('?'));
      const size_t limit = router->body_limit(std::string(parser.get().method_string()), path);
      parser.body_limit(limit);
      if (parser.content_length() && *parser.content_length() > limit) {
        const Error too_large{ErrorCode::kPayloadTooLarge,
                              "request body larger than " + std::to_string(limit) + " bytes"};
        co_await write_error(stream, too_large);
        refused_body = true;
        break;
      }
      auto [ec2, n2] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (ec2) {
        if (ec2 == http::error::body_limit) {
          const Error too_large{ErrorCode::kPayloadTooLarge,
                                "request body larger than " + std::to_string(limit) + " bytes"};
          co_await write_error(stream, too_large);
          refused_body = true;
        } else if (ec2 != beast::error::timeout && ec2 != asio::error::eof) {
          const Error malformed{ErrorCode::kInvalidArgument, "malformed HTTP request body"};
          co_await write_error(stream, malformed);
        }
        break;
      }
      const auto& raw = parser.get();
      const bool keep_alive = raw.keep_alive();
      const bool head = raw.method() == http::verb::head;
      HttpResponse res = router->dispatch(to_request(raw, remote));
      auto out = to_beast(res, raw.version(), keep_alive, head);
      stream.expires_after(opts.idle_timeout);
      auto [ec3, n3] = co_await http::async_write(stream, out, kTuple);
      if (ec3 || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (refused_body && !stopping) {
      // Lingering close: read and discard what the client is still sending (bounded in time and
      // bytes), so that closing with unread data does not reset the connection before the client
      // has read the 413.
      stream.expires_after(std::chrono::seconds(2));
      std::array<char, 16384> sink{};
      size_t drained = 0;
      while (drained < (size_t{16} << 20)) {
        auto [ec4, n4] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
        if (ec4) break;
        drained += n4;
      }
    }
  }

  awaitable<void> accept_loop() {
    while (!stopping) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        // E.g. out of file descriptors: back off instead of spinning.
        asio::steady_timer backoff(acceptor.get_executor(), std::chrono::milliseconds(50));
        co_await backoff.async_wait(kTuple);
        continue;
      }
      asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
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
