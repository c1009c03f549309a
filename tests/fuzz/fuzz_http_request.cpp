// Fuzz target: raw bytes into a Beast request parser configured as HttpServer configures it
// (header limit, per-route body limit chosen after the header), then the request is turned
// into an HttpRequest and dispatched through a Router, as the server does.
#include <algorithm>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/router.h"

namespace {

namespace http = boost::beast::http;

const xop::Router& router() {
  static const xop::Router* r = [] {
    auto* rt = new xop::Router;
    rt->add("GET", "/v1/items/{id}", [](const xop::HttpRequest& req, const xop::PathParams& p) {
      return xop::json_response(200, xop::Json{{"id", p.at("id")}, {"q", req.query}});
    });
    rt->add(
        "POST", "/v1/items",
        [](const xop::HttpRequest& req, const xop::PathParams&) {
          auto j = xop::json_body(req);
          if (!j) return xop::error_response(j.error());
          return xop::json_response(201, *j);
        },
        256);
    return rt;
  }();
  return *r;
}

// Feeds `in` to the parser like a stream would: whatever it consumes is dropped.
bool feed(http::request_parser<http::string_body>& p, std::string_view& in, bool until_header) {
  boost::beast::error_code ec;
  while (!in.empty() && !(until_header ? p.is_header_done() : p.is_done())) {
    const size_t n = p.put(boost::asio::buffer(in.data(), in.size()), ec);
    if (ec == http::error::need_more) return false;
    if (ec) return false;
    if (n == 0) return false;
    in.remove_prefix(n);
  }
  if (!until_header && !p.is_done() && in.empty()) {
    p.put_eof(ec);
    return !ec && p.is_done();
  }
  return until_header ? p.is_header_done() : p.is_done();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Several pipelined requests may share one input.
  for (int round = 0; round < 8 && !in.empty(); ++round) {
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.header_limit(16 * 1024);
    if (!feed(parser, in, true)) return 0;
    std::string target(parser.get().target());
    const std::string path = target.substr(0, target.find('?'));
    parser.body_limit(router().body_limit(std::string(parser.get().method_string()), path));
    if (!feed(parser, in, false)) return 0;
    const auto& raw = parser.get();
    xop::HttpRequest req;
    req.method = std::string(raw.method_string());
    req.target = std::string(raw.target());
    req.path = req.target.substr(0, req.target.find('?'));
    const auto q = req.target.find('?');
    if (q != std::string::npos) req.query = xop::parse_query(std::string_view(req.target).substr(q + 1));
    for (const auto& f : raw) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      req.headers[name] = std::string(f.value());
    }
    req.body = raw.body();
    const auto res = router().dispatch(req);
    if (res.status < 100 || res.status > 599) __builtin_trap();
    (void)req.signature();
  }
  return 0;
}
