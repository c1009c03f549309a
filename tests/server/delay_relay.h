// The wide-area testbed's wire (tests/server/coord_testbed_test.cpp): network namespaces
// that have only a loopback each, and a user-space UDP relay that is the only path between them,
// holding every datagram for the pair's one-way delay (this kernel has no netem).
//
// For every ordered pair (X, Y) of namespaces the relay has an ingress socket in X bound to
// 127.0.0.1:port(Y) (the same port number in every namespace: Y's "address" as seen from
// anywhere) and an egress socket in Y. A datagram arriving on ingress (X, Y) leaves egress
// (X, Y) towards Y's target port after delay(X, Y) / 2; what comes back on egress (X, Y) leaves
// ingress (X, Y) towards the last sender in X after the same. So a UDP round trip from X to Y
// through the relay takes delay(X, Y) plus the relay's own sub-millisecond overhead.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace xop::testing {

// A new network namespace with its loopback up, held by the returned fd (closing it frees the
// namespace: nothing to clean up by name). -1 with `*why` set when it cannot be made (not root).
int make_netns(std::string* why);
// Runs `fn` on a thread inside the namespace `ns_fd` (sockets it opens stay there), and waits.
// False when the namespace cannot be joined.
bool in_netns(int ns_fd, const std::function<void()>& fn);

class DelayRelay {
 public:
  // `ns` are the namespaces' fds; `target_port[y]` the port on Y's loopback datagrams to Y go to;
  // `delay_ms(x, y)` the round-trip delay of the pair (called once per pair, symmetric or not).
  static std::unique_ptr<DelayRelay> start(const std::vector<int>& ns, const std::vector<uint16_t>& target_port,
                                           const std::function<double(size_t, size_t)>& delay_ms, std::string* why);
  ~DelayRelay();
  DelayRelay(const DelayRelay&) = delete;
  DelayRelay& operator=(const DelayRelay&) = delete;

  // The port number Y is reached at, from any namespace (127.0.0.1:port).
  uint16_t port_of(size_t y) const { return ports_[y]; }
  // Datagrams relayed from X towards Y (requests) so far.
  uint64_t requests(size_t x, size_t y) const { return counts_[x * n_ + y].load(); }

 private:
  DelayRelay() = default;
  void run();
  size_t n_ = 0;
  std::vector<uint16_t> ports_;
  std::vector<uint16_t> target_;
  std::vector<double> half_ms_;                // n*n one-way delays
  std::vector<int> ingress_;                   // n*n fds (x*n+y), -1 on the diagonal
  std::vector<int> egress_;                    // n*n fds
  std::vector<std::atomic<uint64_t>> counts_;  // n*n
  int epoll_ = -1;
  int stop_ = -1;
  std::thread thread_;
};

}  // namespace xop::testing
