#include "client/probe_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "proto/coord_probe.h"

namespace xop {
namespace {

uint64_t random_nonce() {
  uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
    // getrandom(2) does not fail for 8 bytes once the pool is initialised; mix the clock in case.
    v ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) * 0x9e3779b97f4a7c15ULL;
  }
  return v;
}

bool resolve(const ProbeTarget& t, sockaddr_in* out) {
  std::memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons(t.port);
  const std::string host = t.host == "localhost" ? "127.0.0.1" : t.host;
  return t.port != 0 && ::inet_pton(AF_INET, host.c_str(), &out->sin_addr) == 1;
}

}  // namespace

Result<ProbeTarget> parse_probe_address(const std::string& peer, const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0) return invalid("probe address " + host_port + ": expected host:port");
  ProbeTarget t;
  t.peer = peer;
  t.host = host_port.substr(0, colon);
  const std::string port = host_port.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return invalid("probe address " + host_port + ": bad port");
  }
  const long p = std::stol(port);
  if (p < 1 || p > 65535) return invalid("probe address " + host_port + ": port out of range");
  t.port = static_cast<uint16_t>(p);
  sockaddr_in a{};
  if (!resolve(t, &a)) return invalid("probe address " + host_port + ": host must be an IPv4 address or localhost");
  return t;
}

Result<ProbeClient> ProbeClient::open() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error(ErrorCode::kUnavailable, std::string("probe socket: ") + std::strerror(errno));
  return ProbeClient(fd);
}

ProbeClient::ProbeClient(ProbeClient&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
ProbeClient& ProbeClient::operator=(ProbeClient&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}
ProbeClient::~ProbeClient() {
  if (fd_ >= 0) ::close(fd_);
}

ProbeRoundResult ProbeClient::probe(const std::vector<ProbeTarget>& targets, int64_t timeout_ms) {
  using Steady = std::chrono::steady_clock;
  struct Outstanding {
    sockaddr_in addr{};
    uint64_t nonce = 0;
    Steady::time_point sent;
    bool answered = false;
    size_t target = 0;
  };
  ProbeRoundResult out;
  std::vector<Outstanding> pending;
  // Drop whatever arrived since the last round (late answers to old probes).
  char buf[kProbePacketBytes + 1];
  while (::recv(fd_, buf, sizeof buf, 0) >= 0) ++out.ignored;
  for (size_t i = 0; i < targets.size(); ++i) {
    Outstanding o;
    if (!resolve(targets[i], &o.addr)) continue;
    o.nonce = random_nonce();
    o.target = i;
    const std::string packet = encode_probe_request(ProbeRequest{o.nonce});
    o.sent = Steady::now();
    if (::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&o.addr), sizeof o.addr) !=
        static_cast<ssize_t>(packet.size())) {
      continue;
    }
    ++out.sent;
    pending.push_back(o);
  }
  const auto deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
  size_t open = pending.size();
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (;;) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) break;
      const auto at = Steady::now();
      auto answer = parse_probe_answer(std::string_view(buf, static_cast<size_t>(n)));
      Outstanding* match = nullptr;
      if (answer) {
        for (auto& o : pending) {
          if (!o.answered && o.nonce == answer->nonce && o.addr.sin_addr.s_addr == from.sin_addr.s_addr &&
              o.addr.sin_port == from.sin_port) {
            match = &o;
            break;
          }
        }
      }
      if (match == nullptr) {
        ++out.ignored;
        continue;
      }
      std::optional<Coordinate> coord;
      if (answer->coord) {
        Coordinate c = coordinate_of(*answer->coord);
        if (validate_coordinate(c)) coord = std::move(c);
      }
      match->answered = true;
      --open;
      const double rtt = std::chrono::duration<double, std::milli>(at - match->sent).count();
      out.samples.push_back(ProbeSample{targets[match->target].peer, rtt, std::move(coord)});
    }
  }
  return out;
}

}  // namespace xop
