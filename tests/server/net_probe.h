// Small network probes for the session network's tests: joining a namespace, a listener, a free
// port, a bounded TCP exchange, and random names for what a test creates.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace xop::testing {

// Moves the calling thread into the network namespace at `path` (/run/netns/<name>); false when
// it cannot be opened or joined.
inline bool join_netns(const std::string& path) {
  const int ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const bool joined = ns >= 0 && ::setns(ns, CLONE_NEWNET) == 0;
  if (ns >= 0) ::close(ns);
  return joined;
}

// A TCP socket listening on `port` of every address of the calling thread's namespace
// (SO_REUSEADDR, backlog 4); -1 when it cannot be had.
inline int listen_tcp_any(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Binds `fd` (a TCP or UDP socket) to 127.0.0.1 on a free port, which it returns.
inline uint16_t bind_loopback_any_port(int fd) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A TCP port nothing on the host listens on right now (for the start of a port range).
inline uint16_t free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const uint16_t port = bind_loopback_any_port(fd);
  ::close(fd);
  return port;
}

// Connects to host:port within `deadline`, sends `request`, reads until the peer closes. Empty on
// any failure.
inline std::string tcp_exchange(const std::string& host, uint16_t port, const std::string& request,
                                std::chrono::milliseconds deadline) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return "";
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  std::string out;
  const auto until = std::chrono::steady_clock::now() + deadline;
  auto left = [&] {
    return static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count()));
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return "";
  }
  pollfd p{fd, POLLOUT, 0};
  int err = 0;
  socklen_t el = sizeof err;
  if (::poll(&p, 1, left()) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
    ::close(fd);
    return "";
  }
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "";
  }
  for (;;) {
    pollfd q{fd, POLLIN, 0};
    if (::poll(&q, 1, left()) != 1) break;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

inline std::string rand_hex(size_t n) {
  std::random_device rd;
  std::string s;
  static const char* kHex = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) s.push_back(kHex[rd() % 16]);
  return s;
}

}  // namespace xop::testing
