// The address and port pools of a server's session network: which IPv4 addresses of the bridge's
// subnet and which host ports are handed to sessions. Pure: no I/O, no clock, no randomness; the
// lowest free value is always the one handed out, so allocation is reproducible.
//
// Contract: an AddressPool over a.b.c.d/p (8 <= p <= 30) reserves the network address, the first
// host address (the bridge's gateway) and the broadcast address; every other address is handed to
// at most one holder at a time. A PortPool over [first, last] hands each port to at most one
// holder at a time. adopt() marks a value taken again (a server restarting over its state store).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace xop {

// "10.88.0.7" <-> 0x0a580007. Strict: four decimal octets 0..255, no leading zeros, nothing else.
Result<uint32_t> parse_ipv4(std::string_view text);
std::string ipv4_to_string(uint32_t addr);

struct Ipv4Cidr {
  uint32_t network = 0;  // host bits zero
  int prefix = 0;
  [[nodiscard]] uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  [[nodiscard]] bool contains(uint32_t a) const { return (a & mask()) == network; }
  [[nodiscard]] std::string to_string() const;  // "10.88.0.0/16"
};
// "a.b.c.d/p" with 8 <= p <= 30 and no host bits set.
Result<Ipv4Cidr> parse_ipv4_cidr(std::string_view text);
// "a.b.c.d/p,e.f.g.h/q" (spaces around entries allowed; empty: none), at most 256 entries; an
// error names the bad entry.
Result<std::vector<Ipv4Cidr>> parse_cidr_list(std::string_view text);

class AddressPool {
 public:
  explicit AddressPool(Ipv4Cidr cidr) : cidr_(cidr) {}
  [[nodiscard]] const Ipv4Cidr& cidr() const { return cidr_; }
  [[nodiscard]] uint32_t gateway() const { return cidr_.network + 1; }
  // The lowest free address; kResourceExhausted when every one is taken.
  Result<uint32_t> allocate();
  // Marks `a` taken; kInvalidArgument when it is outside the pool's session addresses, kConflict
  // when already taken.
  Status adopt(uint32_t a);
  // Frees `a` (no-op when it was free).
  void release(uint32_t a) { used_.erase(a); }
  [[nodiscard]] size_t in_use() const { return used_.size(); }
  [[nodiscard]] uint64_t capacity() const;

 private:
  [[nodiscard]] uint32_t first() const { return cidr_.network + 2; }
  [[nodiscard]] uint32_t last() const { return cidr_.network | ~cidr_.mask(); }  // exclusive: broadcast
  Ipv4Cidr cidr_;
  std::set<uint32_t> used_;
};

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
};
// "20000-29999" (1 <= first <= last <= 65535) or a single port "20000".
Result<PortRange> parse_port_range(std::string_view text);

class PortPool {
 public:
  explicit PortPool(PortRange r) : range_(r) {}
  [[nodiscard]] const PortRange& range() const { return range_; }
  // The lowest free port for which `usable(port)` holds (the caller's check that nothing else on
  // the host holds it); kResourceExhausted naming the range when there is none.
  template <typename F>
  Result<uint16_t> allocate(F usable) {
    for (uint32_t p = range_.first; p <= range_.last; ++p) {
      const auto port = static_cast<uint16_t>(p);
      if (!used_.contains(port) && usable(port)) {
        used_.insert(port);
        return port;
      }
    }
    return make_error(ErrorCode::kResourceExhausted, "no free host port in " + std::to_string(range_.first) + "-" +
                                                         std::to_string(range_.last) + " to publish on");
  }
  Result<uint16_t> allocate() {
    return allocate([](uint16_t) { return true; });
  }
  // kInvalidArgument outside the range, kConflict when taken.
  Status adopt(uint16_t port);
  void release(uint16_t port) { used_.erase(port); }
  [[nodiscard]] size_t in_use() const { return used_.size(); }

 private:
  PortRange range_;
  std::set<uint16_t> used_;
};

}  // namespace xop
