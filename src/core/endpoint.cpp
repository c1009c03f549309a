#include "core/endpoint.h"

#include <charconv>

namespace xop {

std::string Endpoint::url() const { return "http://" + host + ":" + std::to_string(port); }

Result<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return invalid("endpoint must start with http://: " + std::string(url));
  url.remove_prefix(kScheme.size());
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return invalid("endpoint needs host:port");
  Endpoint e;
  e.host = std::string(url.substr(0, colon));
  if (e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  unsigned port = 0;
  auto ps = url.substr(colon + 1);
  auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
  if (ec != std::errc() || p != ps.data() + ps.size() || port == 0 || port > 65535) {
    return invalid("endpoint has an invalid port");
  }
  e.port = static_cast<uint16_t>(port);
  return e;
}

}  // namespace xop
