#include "server/address_pool.h"

namespace xop {
namespace {
// A decimal integer of 1..max_digits digits without a leading zero (except "0") in [0, max].
bool parse_dec(std::string_view s, uint32_t max, size_t max_digits, uint32_t* out) {
  if (s.empty() || s.size() > max_digits) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}
}  // namespace

Result<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t addr = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = rest.find('.');
    const bool last = i == 3;
    if (last != (dot == std::string_view::npos))
      return invalid("not an IPv4 address: " + std::string(text.substr(0, 64)));
    const std::string_view part = last ? rest : rest.substr(0, dot);
    uint32_t octet = 0;
    if (!parse_dec(part, 255, 3, &octet)) return invalid("not an IPv4 address: " + std::string(text.substr(0, 64)));
    addr = (addr << 8) | octet;
    if (!last) rest = rest.substr(dot + 1);
  }
  return addr;
}

std::string ipv4_to_string(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
         std::to_string(a & 255);
}

std::string Ipv4Cidr::to_string() const { return ipv4_to_string(network) + "/" + std::to_string(prefix); }

Result<Ipv4Cidr> parse_ipv4_cidr(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    return invalid("not a CIDR (a.b.c.d/prefix): " + std::string(text.substr(0, 64)));
  XOP_ASSIGN_OR_RETURN(uint32_t addr, parse_ipv4(text.substr(0, slash)));
  uint32_t prefix = 0;
  if (!parse_dec(text.substr(slash + 1), 32, 2, &prefix) || prefix < 8 || prefix > 30) {
    return invalid("CIDR prefix must be 8..30: " + std::string(text.substr(0, 64)));
  }
  Ipv4Cidr c{addr, static_cast<int>(prefix)};
  if ((addr & c.mask()) != addr) return invalid("CIDR has host bits set: " + std::string(text.substr(0, 64)));
  return c;
}

uint64_t AddressPool::capacity() const { return uint64_t{last()} - first(); }

Result<uint32_t> AddressPool::allocate() {
  // used_ is ordered: the first gap from first() is the lowest free address.
  uint32_t candidate = first();
  for (uint32_t a : used_) {
    if (a > candidate) break;
    if (a == candidate) ++candidate;
  }
  if (candidate >= last()) {
    return make_error(ErrorCode::kResourceExhausted, "no free session address in " + cidr_.to_string() + " (" +
                                                         std::to_string(used_.size()) + " in use)");
  }
  used_.insert(candidate);
  return candidate;
}

Status AddressPool::adopt(uint32_t a) {
  if (!cidr_.contains(a) || a < first() || a >= last()) {
    return invalid(ipv4_to_string(a) + " is not a session address of " + cidr_.to_string());
  }
  if (!used_.insert(a).second) return make_error(ErrorCode::kConflict, ipv4_to_string(a) + " is already in use");
  return ok_status();
}

Result<PortRange> parse_port_range(std::string_view text) {
  const size_t dash = text.find('-');
  uint32_t first = 0;
  uint32_t last = 0;
  const std::string_view a = dash == std::string_view::npos ? text : text.substr(0, dash);
  const std::string_view b = dash == std::string_view::npos ? text : text.substr(dash + 1);
  if (!parse_dec(a, 65535, 5, &first) || !parse_dec(b, 65535, 5, &last) || first == 0 || first > last) {
    return invalid("port range must be FIRST-LAST within 1-65535: " + std::string(text.substr(0, 64)));
  }
  return PortRange{static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
}

Status PortPool::adopt(uint16_t port) {
  if (port < range_.first || port > range_.last) {
    return invalid("port " + std::to_string(port) + " is outside " + std::to_string(range_.first) + "-" +
                   std::to_string(range_.last));
  }
  if (!used_.insert(port).second)
    return make_error(ErrorCode::kConflict, "port " + std::to_string(port) + " is already in use");
  return ok_status();
}

Result<std::vector<Ipv4Cidr>> parse_cidr_list(std::string_view text) {
  std::vector<Ipv4Cidr> out;
  if (text.find_first_not_of(' ') == std::string_view::npos) return out;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) return invalid("an empty entry");
    if (out.size() >= 256) return invalid("more than 256 entries");
    const std::string shown(item.substr(0, 64));
    const size_t slash = item.find('/');
    auto addr = parse_ipv4(item.substr(0, slash));
    if (!addr) return invalid("'" + shown + "': " + addr.error().message);
    uint32_t prefix = 32;
    if (slash != std::string_view::npos && !parse_dec(item.substr(slash + 1), 32, 2, &prefix)) {
      return invalid("'" + shown + "': prefix must be 0..32");
    }
    Ipv4Cidr c{*addr, static_cast<int>(prefix)};
    if ((*addr & c.mask()) != *addr) return invalid("'" + shown + "': host bits set");
    out.push_back(c);
    if (end == text.size()) break;
    start = end + 1;
  }
  return out;
}

}  // namespace xop
