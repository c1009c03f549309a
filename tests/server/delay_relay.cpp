#include "server/delay_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <queue>

namespace xop::testing {

int make_netns(std::string* why) {
  int fd = -1;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      *why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    const bool up =
        s >= 0 && ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0 &&
        (ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING), ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
    if (s >= 0) ::close(s);
    if (!up) {
      *why = std::string("loopback up: ") + std::strerror(errno);
      return;
    }
    fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) *why = std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno);
  });
  t.join();
  return fd;
}

bool in_netns(int ns_fd, const std::function<void()>& fn) {
  bool joined = false;
  std::thread t([&] {
    joined = ::setns(ns_fd, CLONE_NEWNET) == 0;
    if (joined) fn();
  });
  t.join();
  return joined;
}

namespace {

int udp_bound(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t port_of_fd(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

}  // namespace

std::unique_ptr<DelayRelay> DelayRelay::start(const std::vector<int>& ns, const std::vector<uint16_t>& target_port,
                                              const std::function<double(size_t, size_t)>& delay_ms, std::string* why) {
  std::unique_ptr<DelayRelay> r(new DelayRelay());
  const size_t n = ns.size();
  r->n_ = n;
  r->target_ = target_port;
  r->ports_.assign(n, 0);
  r->half_ms_.assign(n * n, 0);
  r->ingress_.assign(n * n, -1);
  r->egress_.assign(n * n, -1);
  r->counts_ = std::vector<std::atomic<uint64_t>>(n * n);
  for (size_t x = 0; x < n; ++x)
    for (size_t y = 0; y < n; ++y)
      if (x != y) r->half_ms_[x * n + y] = delay_ms(x, y) / 2;
  // Y's port: free in every namespace but Y's own (retried with another number on a clash).
  for (size_t y = 0; y < n; ++y) {
    for (int attempt = 0; attempt < 20 && r->ports_[y] == 0; ++attempt) {
      std::vector<int> got(n, -1);
      uint16_t port = 0;
      bool ok = true;
      for (size_t x = 0; x < n && ok; ++x) {
        if (x == y) continue;
        in_netns(ns[x], [&] { got[x] = udp_bound(port); });
        if (got[x] < 0) ok = false;
        if (ok && port == 0) port = port_of_fd(got[x]);
      }
      if (ok) {
        r->ports_[y] = port;
        for (size_t x = 0; x < n; ++x) r->ingress_[x * n + y] = got[x];
      } else {
        for (int fd : got)
          if (fd >= 0) ::close(fd);
      }
    }
    if (r->ports_[y] == 0) {
      *why = "no port free in every namespace";
      return nullptr;
    }
  }
  for (size_t x = 0; x < n; ++x) {
    for (size_t y = 0; y < n; ++y) {
      if (x == y) continue;
      in_netns(ns[y], [&] { r->egress_[x * n + y] = udp_bound(0); });
      if (r->egress_[x * n + y] < 0) {
        *why = std::string("egress socket: ") + std::strerror(errno);
        return nullptr;
      }
    }
  }
  r->epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  r->stop_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  auto add = [&](int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return ::epoll_ctl(r->epoll_, EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  // Tags: pair index * 2 (+1 for egress); the stop eventfd is UINT64_MAX.
  for (size_t i = 0; i < n * n; ++i) {
    if (r->ingress_[i] < 0) continue;
    if (!add(r->ingress_[i], i * 2) || !add(r->egress_[i], i * 2 + 1)) {
      *why = std::string("epoll_ctl: ") + std::strerror(errno);
      return nullptr;
    }
  }
  add(r->stop_, UINT64_MAX);
  r->thread_ = std::thread([p = r.get()] { p->run(); });
  return r;
}

DelayRelay::~DelayRelay() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!::write(stop_, &one, sizeof one);
    thread_.join();
  }
  for (int fd : ingress_)
    if (fd >= 0) ::close(fd);
  for (int fd : egress_)
    if (fd >= 0) ::close(fd);
  if (epoll_ >= 0) ::close(epoll_);
  if (stop_ >= 0) ::close(stop_);
}

void DelayRelay::run() {
  using Steady = std::chrono::steady_clock;
  struct Held {
    Steady::time_point due;
    int fd;
    sockaddr_in to;
    std::string data;
    bool operator>(const Held& o) const { return due > o.due; }
  };
  std::priority_queue<Held, std::vector<Held>, std::greater<>> held;
  std::vector<sockaddr_in> last_sender(n_ * n_);
  char buf[2048];
  epoll_event evs[64];
  for (;;) {
    int timeout = -1;
    if (!held.empty()) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(held.top().due - Steady::now()).count();
      timeout = us <= 0 ? 0 : static_cast<int>((us + 999) / 1000);
    }
    const int k = ::epoll_wait(epoll_, evs, 64, timeout);
    const auto now = Steady::now();
    for (int e = 0; e < k; ++e) {
      const uint64_t tag = evs[e].data.u64;
      if (tag == UINT64_MAX) return;
      const size_t pair = tag / 2;
      const bool back = tag % 2 == 1;
      const int from_fd = back ? egress_[pair] : ingress_[pair];
      for (;;) {
        sockaddr_in src{};
        socklen_t len = sizeof src;
        const ssize_t got = ::recvfrom(from_fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &len);
        if (got < 0) break;
        const auto delay = std::chrono::microseconds(static_cast<int64_t>(half_ms_[pair] * 1000));
        Held h{now + delay, -1, {}, std::string(buf, static_cast<size_t>(got))};
        if (back) {
          h.fd = ingress_[pair];
          h.to = last_sender[pair];
        } else {
          last_sender[pair] = src;
          counts_[pair].fetch_add(1);
          h.fd = egress_[pair];
          h.to.sin_family = AF_INET;
          h.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          h.to.sin_port = htons(target_[pair % n_]);
        }
        if (h.to.sin_port != 0) held.push(std::move(h));
      }
    }
    while (!held.empty() && held.top().due <= Steady::now()) {
      const Held& h = held.top();
      ::sendto(h.fd, h.data.data(), h.data.size(), 0, reinterpret_cast<const sockaddr*>(&h.to), sizeof h.to);
      held.pop();
    }
  }
}

}  // namespace xop::testing
