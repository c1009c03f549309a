// A daemon's address: "http://host:port" -> host, port. Pure parsing, no network.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace xop {

// Only http:// for now; "[::1]" brackets are stripped from an IPv6 host.
struct Endpoint {
  std::string host;
  uint16_t port = 0;
  [[nodiscard]] std::string url() const;
};
Result<Endpoint> parse_endpoint(std::string_view url);

}  // namespace xop
