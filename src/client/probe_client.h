// The sending side of the coordinate probe (proto/coord_probe.h): one UDP socket that probes a
// set of responders at once and collects what they answer within a deadline. Used by the
// servers' coordinate prober (server/coord_prober.h) and by `xop locate`.
//
// An answer counts only when it comes from the address the probe went to, echoes the nonce of an
// outstanding probe to it (random 64-bit, one per probe) and parses strictly; anything else
// (late, duplicate, spoofed or malformed datagrams) is counted in `ignored` and dropped. The
// round-trip time is measured on the monotonic clock from the send to the receipt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coord/coordinate.h"
#include "core/result.h"

namespace xop {

struct ProbeTarget {
  std::string peer;  // a name for the caller (e.g. the server's account id)
  std::string host;  // IPv4 address (dotted quad) or "localhost"
  uint16_t port = 0;
};

struct ProbeSample {
  std::string peer;
  double rtt_ms = 0;
  std::optional<Coordinate> coord;  // none: the responder has no coordinate yet
};

struct ProbeRoundResult {
  std::vector<ProbeSample> samples;  // one per target that answered, in order of answer
  size_t sent = 0;
  size_t ignored = 0;  // datagrams that were not a valid answer to an outstanding probe
};

// Splits "host:port" (IPv4 or localhost; port 1..65535).
Result<ProbeTarget> parse_probe_address(const std::string& peer, const std::string& host_port);

class ProbeClient {
 public:
  // Opens the socket in the calling thread's network namespace (it stays there).
  static Result<ProbeClient> open();
  ProbeClient(ProbeClient&& o) noexcept;
  ProbeClient& operator=(ProbeClient&& o) noexcept;
  ProbeClient(const ProbeClient&) = delete;
  ProbeClient& operator=(const ProbeClient&) = delete;
  ~ProbeClient();

  // Probes every target once, all at the same time, and waits until each answered or
  // `timeout_ms` passed. Targets whose address does not resolve are skipped (not sent).
  ProbeRoundResult probe(const std::vector<ProbeTarget>& targets, int64_t timeout_ms);

 private:
  explicit ProbeClient(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace xop
