#include "net/http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast.hpp>

namespace xop {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct HttpClient::Conn {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
};

HttpClient::HttpClient(Endpoint ep, std::chrono::milliseconds timeout, size_t max_response_bytes)
    : ep_(std::move(ep)), timeout_(timeout), max_response_bytes_(max_response_bytes) {}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                                         const std::map<std::string, std::string>& headers) {
  std::lock_guard lock(mu_);
  bool reused = false;
  auto r = attempt(method, target, body, headers, &reused);
  if (!r && reused) {
    // The server closed an idle keep-alive connection before reading this request (attempt()
    // reports `reused` only for that case); try once on a fresh one. Timeouts and failures after
    // the server may have seen the request are never retried: that could run a request twice.
    conn_.reset();
    r = attempt(method, target, body, headers, &reused);
  }
  if (!r) conn_.reset();
  return r;
}

Result<HttpResponse> HttpClient::attempt(const std::string& method, const std::string& target, const std::string& body,
                                         const std::map<std::string, std::string>& headers, bool* reused) {
  if (!conn_) conn_ = std::make_unique<Conn>();
  Conn& c = *conn_;
  *reused = c.connected;
  std::optional<Error> failure;
  HttpResponse out;
  const bool head = method == "HEAD";

  // Whether a failure means "the idle connection was already closed by the server": the write
  // failed with a reset/broken pipe, or the read saw EOF/reset before any byte of an answer.
  bool stale_connection = false;
  auto closed_by_peer = [](const boost::system::error_code& ec) {
    return ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe;
  };

  auto run = [&]() -> asio::awaitable<void> {
    auto fail = [&](const std::string& what, const boost::system::error_code& ec) {
      failure = Error{ErrorCode::kUnavailable, what + " " + ep_.url() + ": " + ec.message()};
    };
    if (!c.connected) {
      tcp::resolver resolver(c.ioc);
      auto [ec, results] = co_await resolver.async_resolve(ep_.host, std::to_string(ep_.port), kTuple);
      if (ec) {
        fail("cannot resolve", ec);
        co_return;
      }
      c.stream.expires_after(timeout_);
      auto [ec2, ep] = co_await c.stream.async_connect(results, kTuple);
      if (ec2) {
        fail("cannot connect to", ec2);
        co_return;
      }
      c.connected = true;
    }
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, ep_.host);
    req.set(http::field::user_agent, "xop");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();
    c.stream.expires_after(timeout_);
    auto [ec3, n3] = co_await http::async_write(c.stream, req, kTuple);
    // A server may answer early (e.g. 413 for a body over its limit) and stop reading: the write
    // then fails, but its answer is waiting to be read, as curl would.
    const boost::system::error_code write_error = ec3;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes_);
    parser.skip(head);
    auto [ec4, n4] = co_await http::async_read(c.stream, c.buffer, parser, kTuple);
    if (ec4) {
      stale_connection = closed_by_peer(ec4) && (n4 == 0 || closed_by_peer(write_error));
      if (write_error) {
        fail("cannot send to", write_error);
      } else {
        fail("no response from", ec4);
      }
      co_return;
    }
    if (write_error) c.connected = false;
    const auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.headers[name] = std::string(f.value());
    }
    out.content_type = out.headers["content-type"];
    if (!res.keep_alive()) c.connected = false;
  };

  c.ioc.restart();
  asio::co_spawn(c.ioc, run(), [&](const std::exception_ptr& e) {
    if (e && !failure) failure = Error{ErrorCode::kUnavailable, "request to " + ep_.url() + " failed"};
  });
  c.ioc.run();
  if (failure) {
    *reused = *reused && stale_connection;
    c.connected = false;
    return tl::make_unexpected(*failure);
  }
  if (!c.connected) conn_.reset();
  return out;
}

}  // namespace xop
