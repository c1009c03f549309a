#include "server/probe_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "proto/coord_probe.h"

namespace xop {

ProbeRateLimiter::ProbeRateLimiter(ProbeRateOptions o) : o_(o) {
  all_.tokens = o_.answers_per_second * o_.burst_seconds;
}

void ProbeRateLimiter::refill(Bucket& b, double rate, int64_t now_ms) const {
  if (now_ms > b.at) {
    b.tokens = std::min(rate * o_.burst_seconds, b.tokens + rate * static_cast<double>(now_ms - b.at) / 1000.0);
  }
  b.at = std::max(b.at, now_ms);
}

bool ProbeRateLimiter::allow(uint32_t source, int64_t now_ms) {
  refill(all_, o_.answers_per_second, now_ms);
  auto it = per_source_.find(source);
  if (it == per_source_.end()) {
    if (per_source_.size() >= o_.max_sources) {
      // Forget the sources whose bucket is full again (idle for burst_seconds): they lose nothing.
      const double full = o_.answers_per_second_per_source * o_.burst_seconds;
      for (auto i = per_source_.begin(); i != per_source_.end();) {
        refill(i->second, o_.answers_per_second_per_source, now_ms);
        i = i->second.tokens >= full ? per_source_.erase(i) : std::next(i);
      }
      if (per_source_.size() >= o_.max_sources) return false;  // a flood of distinct sources
    }
    it = per_source_.emplace(source, Bucket{o_.answers_per_second_per_source * o_.burst_seconds, now_ms}).first;
  }
  refill(it->second, o_.answers_per_second_per_source, now_ms);
  if (all_.tokens < 1 || it->second.tokens < 1) return false;
  all_.tokens -= 1;
  it->second.tokens -= 1;
  return true;
}

Result<std::unique_ptr<ProbeResponder>> ProbeResponder::start(const std::string& host, uint16_t port,
                                                              ProbeRateOptions rate, CoordSource coord) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (::inet_pton(AF_INET, h.c_str(), &a.sin_addr) != 1) {
    return invalid("probe responder: " + host + " is not an IPv4 address");
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error(ErrorCode::kUnavailable, std::string("probe socket: ") + std::strerror(errno));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(ErrorCode::kUnavailable, "probe responder: cannot bind UDP " + host + ":" + std::to_string(port) +
                                                   ": " + std::strerror(e));
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    ::close(fd);
    return make_error(ErrorCode::kUnavailable, std::string("probe responder eventfd: ") + std::strerror(errno));
  }
  std::unique_ptr<ProbeResponder> r(new ProbeResponder(fd, stop_fd, ntohs(a.sin_port), rate, std::move(coord)));
  r->thread_ = std::thread([p = r.get()] { p->run(); });
  return r;
}

ProbeResponder::ProbeResponder(int fd, int stop_fd, uint16_t port, ProbeRateOptions rate, CoordSource coord)
    : fd_(fd), stop_fd_(stop_fd), port_(port), limiter_(rate), coord_(std::move(coord)) {}

ProbeResponder::~ProbeResponder() {
  stop();
  if (fd_ >= 0) ::close(fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void ProbeResponder::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  thread_.join();
}

ProbeResponderStats ProbeResponder::stats() const { return {answered_.load(), malformed_.load(), limited_.load()}; }

void ProbeResponder::run() {
  // One byte more than a probe, so that an oversized datagram is seen as such, not truncated to fit.
  char buf[kProbePacketBytes + 1];
  for (;;) {
    pollfd p[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const int r = ::poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (p[1].revents & POLLIN) != 0) return;
    for (;;) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) break;
      auto req = parse_probe_request(std::string_view(buf, static_cast<size_t>(n)));
      if (!req || len != sizeof from || from.sin_port == 0) {
        malformed_.fetch_add(1);
        continue;
      }
      const auto now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
              .count();
      if (!limiter_.allow(from.sin_addr.s_addr, now_ms)) {
        limited_.fetch_add(1);
        continue;
      }
      ProbeAnswer a;
      a.nonce = req->nonce;
      if (auto c = coord_ ? coord_() : std::nullopt; c && validate_coordinate(*c)) a.coord = advert_coord_of(*c);
      const std::string out = encode_probe_answer(a);
      if (::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), sizeof from) ==
          static_cast<ssize_t>(out.size())) {
        answered_.fetch_add(1);
      }
    }
  }
}

}  // namespace xop
