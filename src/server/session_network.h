// A server's session network (docs/operating.md "Session network"): a Linux bridge with the first
// address of the pool as gateway, XOP-owned iptables chains for outbound NAT, isolation and
// published ports, and per session a named network namespace joined to the bridge by a veth pair,
// with an address from the pool and a default route via the bridge. The OCI bundle joins that
// namespace (SandboxSpec::netns_path).
//
// Contract:
// - open() creates the bridge when missing (and then records in `state_file` that this server
//   created it) and its chains idempotently; the chains are flushed and refilled from the sessions
//   adopted afterwards. Other chains are never flushed; only XOP-<bridge>-* chains and the jumps to
//   them are touched.
// - Sessions reach the outside through MASQUERADE; they do not reach the host's own addresses (the
//   bridge's INPUT is dropped except replies), each other (bridge ports isolated, bridge-to-bridge
//   FORWARD dropped), 169.254.0.0/16, or the owner's `deny` list (rejected: refused at once). A published port is DNAT
//   from any local address of the host (PREROUTING and OUTPUT), the host's loopback included (route_localnet on the
//   bridge and a MASQUERADE of 127.0.0.0/8 sources towards it).
// - Several servers on one host keep apart: open() claims the bridge by holding an flock on
//   `<claim_dir>/bridge-<bridge>.lock` (which records its pool and port range) until shutdown or
//   the process's death, and refuses with kConflict when another live server holds that bridge,
//   or holds a pool or port range overlapping this one, or when an address of another interface of
//   the host lies in the pool.
// - shutdown(false) removes the chains and jumps, and the bridge when this server created it;
//   shutdown(true) (sessions are left running, re-adopted on restart) keeps all of it.
// Every command runs without a shell (argv), under a deadline. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/file_lock.h"
#include "core/json_reader.h"
#include "core/result.h"
#include "proto/session_spec.h"
#include "server/address_pool.h"

namespace xop {

struct NetworkOptions {
  std::string bridge = "xop0";  // 1..15 of [A-Za-z0-9_-]
  std::string pool = "10.88.0.0/16";
  std::string port_range = "20000-29999";
  std::string state_file;   // records whether this server created the bridge (required)
  std::string public_host;  // how others reach published ports (the endpoints' host)
  // Outbound destinations the sessions may not reach (the owner's network.deny): REJECT in the
  // forward chain, before sessions out are accepted.
  std::vector<Ipv4Cidr> deny;
  // Where live servers claim their bridge, pool and port range (see claim below).
  std::string claim_dir = "/run/xop";
};

struct PublishedPort {
  std::string name;
  std::string protocol;    // tcp | udp
  uint16_t port = 0;       // in the session
  uint16_t host_port = 0;  // on the host
};

// A session's share of the network, kept in its state-store row.
struct SessionNet {
  std::string netns;    // name under /run/netns
  std::string veth;     // the host end, a port of the bridge
  std::string address;  // the session's address (dotted quad)
  std::vector<PublishedPort> ports;
  int64_t egress_bps = 0;   // tbf on the session's eth0 (what it sends); 0: no limit
  int64_t ingress_bps = 0;  // tbf on the host end of its veth (what it receives); 0: no limit
};
Json to_json(const SessionNet& n);
// Strict; kInvalidArgument naming the field.
Result<SessionNet> session_net_from_json(const Json& j);

// Empty when this host can run the session network (root, `ip` and `iptables` found, IPv4
// forwarding settable); otherwise why not, for the log.
std::string session_network_unavailable_reason();

// What SessionNetwork::open(opts) would refuse on this host, without changing anything (for
// `xop server --check`): kUnavailable when the host cannot run it, kConflict when another live
// server holds the bridge or an overlapping pool or port range, kInvalidArgument for bad options.
Status check_session_network(const NetworkOptions& opts);

class SessionNetwork {
 public:
  static Result<std::unique_ptr<SessionNetwork>> open(NetworkOptions opts);
  ~SessionNetwork();
  SessionNetwork(const SessionNetwork&) = delete;
  SessionNetwork& operator=(const SessionNetwork&) = delete;

  // Allocates an address and a free host port for each of `ports` (pools only, quick: call it
  // under admission's lock). kResourceExhausted when an address or a port is missing. `bps` (the
  // reserved bandwidth, bits per second; 0: none) is what setup() limits the session's sending and,
  // separately, its receiving to.
  Result<SessionNet> reserve(const std::string& session_id, const std::vector<PortSpec>& ports, int64_t bps = 0);
  // Creates the namespace, veth pair, address, route, bandwidth limits and DNAT rules of a reserved
  // session. The limits are two tbf qdiscs, each on the egress of one end of the veth pair: the
  // session's eth0 (what it sends; in its namespace but out of its reach, it has no CAP_NET_ADMIN)
  // and the host end (what it receives, from the outside world and from published ports alike).
  Status setup(const SessionNet& n);
  // After a restart: takes the session's address and ports again, re-attaches its veth to the
  // bridge, re-applies the receiving limit and re-adds its DNAT rules. Fails when its namespace is gone.
  Status adopt(const SessionNet& n);
  // Removes the session's rules, namespace and veth, and frees its address and ports. Idempotent;
  // failures are logged.
  void release(const SessionNet& n);
  // Bytes the session sent plus received, from its veth's counters.
  Result<int64_t> bytes(const SessionNet& n) const;
  // See the contract above.
  void shutdown(bool sessions_left);

  static std::string netns_path(const SessionNet& n) { return "/run/netns/" + n.netns; }
  [[nodiscard]] const NetworkOptions& options() const { return opts_; }
  [[nodiscard]] std::string gateway() const { return ipv4_to_string(addresses_.gateway()); }
  [[nodiscard]] std::string chain(const char* what) const;  // "XOP-<bridge>-<what>"

 private:
  SessionNetwork(NetworkOptions opts, Ipv4Cidr cidr, PortRange ports);
  Status claim();
  Status open_bridge();
  Status open_chains();
  Status add_dnat(const SessionNet& n);
  void remove_dnat(const SessionNet& n);
  void remove_chains();

  NetworkOptions opts_;
  mutable std::mutex mu_;  // guards the pools
  AddressPool addresses_;
  PortPool ports_;
  std::optional<FileLock> claim_;  // held from open() to shutdown()
  bool created_bridge_ = false;
  bool shut_down_ = false;
};

}  // namespace xop
