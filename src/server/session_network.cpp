#include "server/session_network.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/file_util.h"
#include "core/json_reader.h"
#include "core/log.h"
#include "server/sandbox_process.h"

namespace xop {

namespace fs = std::filesystem;

namespace {

constexpr auto kCommandDeadline = std::chrono::milliseconds(10'000);

// Runs argv; an error names the command and its stderr.
Status run(const std::vector<std::string>& argv) {
  XOP_ASSIGN_OR_RETURN(CommandResult r, run_command(argv, kCommandDeadline));
  if (r.exit_code == 0) return ok_status();
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  std::string err = r.err.substr(0, 512);
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  return make_error(ErrorCode::kInternal, cmd + ": exit " + std::to_string(r.exit_code) + ": " + err);
}
bool succeeds(const std::vector<std::string>& argv) {
  auto r = run_command(argv, kCommandDeadline);
  return r && r->exit_code == 0;
}
void run_logged(const std::vector<std::string>& argv, const char* what) {
  if (auto s = run(argv); !s) XOP_LOGN_WARN("server", "network: {}: {}", what, s.error().message);
}

std::vector<std::string> ipt(const std::string& table, std::vector<std::string> rest) {
  std::vector<std::string> v{"iptables", "-w", "5", "-t", table};
  v.insert(v.end(), rest.begin(), rest.end());
  return v;
}

bool valid_bridge_name(const std::string& b) {
  if (b.empty() || b.size() > 15) return false;
  for (char c : b) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

// FNV-1a over the bridge and the session id: the veth names (at most 15 characters) of a session.
std::string short_hash(const std::string& a, const std::string& b) {
  uint64_t h = 1469598103934665603ULL;
  for (const std::string* s : {&a, &b}) {
    for (unsigned char c : *s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out.push_back(kHex[(h >> (i * 4)) & 15]);
  return out;
}

// Whether nothing on the host holds `port` for `protocol` on any address (bind() succeeds).
bool host_port_free(uint16_t port, const std::string& protocol) {
  const int fd = ::socket(AF_INET, protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A tbf qdisc limiting what leaves `dev` to `bps`; `where` selects the namespace ({"-n", ns} or
// the host's). Burst: 20 ms at the rate, at least 32 KiB (one MTU plus a timer tick's worth);
// latency 50 ms (a longer queue is dropped, so TCP backs off instead of buffering).
std::vector<std::string> tbf(std::vector<std::string> where, const std::string& dev, int64_t bps) {
  const int64_t burst = std::max<int64_t>(32 << 10, bps / 8 / 50);
  std::vector<std::string> v{"tc"};
  v.insert(v.end(), where.begin(), where.end());
  for (const std::string& a :
       {std::string("qdisc"), std::string("replace"), std::string("dev"), dev, std::string("root"), std::string("tbf"),
        std::string("rate"), std::to_string(bps) + "bit", std::string("burst"), std::to_string(burst),
        std::string("latency"), std::string("50ms")}) {
    v.push_back(a);
  }
  return v;
}

// /proc/sys files are written in place (no rename).
Status write_sysctl(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value << "\n";
  f.flush();
  if (!f) return make_error(ErrorCode::kInternal, "cannot set " + path + " to " + value);
  return ok_status();
}
std::string read_sysctl(const std::string& path) {
  auto s = read_file_capped(path, 64);
  if (!s) return "";
  std::string v = *s;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

const Schema<PublishedPort>& published_port_schema() {
  static const auto s = Schema<PublishedPort>("port")
                            .str("name", &PublishedPort::name, 32)
                            .str("protocol", &PublishedPort::protocol, 8)
                            .custom(
                                "port", [](const PublishedPort& p) { return Json(p.port); },
                                [](JsonReader& r, PublishedPort& p, const char* k) {
                                  p.port = static_cast<uint16_t>(r.i64(k, 1, 65535));
                                })
                            .custom(
                                "host_port", [](const PublishedPort& p) { return Json(p.host_port); },
                                [](JsonReader& r, PublishedPort& p, const char* k) {
                                  p.host_port = static_cast<uint16_t>(r.i64(k, 1, 65535));
                                })
                            .check([](const PublishedPort& p) -> std::string {
                              return p.protocol == "tcp" || p.protocol == "udp" ? "" : ".protocol: must be tcp or udp";
                            });
  return s;
}
const Schema<SessionNet>& session_net_schema() {
  static const auto s = Schema<SessionNet>("network")
                            .str("netns", &SessionNet::netns, 128)
                            .str("veth", &SessionNet::veth, 15)
                            .str("address", &SessionNet::address, 15)
                            .array("ports", &SessionNet::ports, published_port_schema(), kMaxPublishedPorts)
                            .i64_or("egress_bps", &SessionNet::egress_bps, 0, 0, int64_t{1} << 50)
                            .i64_or("ingress_bps", &SessionNet::ingress_bps, 0, 0, int64_t{1} << 50)
                            .check([](const SessionNet& n) -> std::string {
                              return parse_ipv4(n.address) ? "" : ".address: not an IPv4 address";
                            });
  return s;
}

}  // namespace

Json to_json(const SessionNet& n) { return session_net_schema().encode(n); }
Result<SessionNet> session_net_from_json(const Json& j) { return session_net_schema().decode(j); }

std::string session_network_unavailable_reason() {
  if (::geteuid() != 0) return "not running as root";
  if (find_program("ip").empty()) return "the `ip` command (iproute2) is not installed";
  if (find_program("iptables").empty()) return "the `iptables` command is not installed";
  if (find_program("tc").empty()) return "the `tc` command (iproute2) is not installed";
  if (::access("/proc/sys/net/ipv4/ip_forward", W_OK) != 0) return "/proc/sys/net/ipv4/ip_forward is not writable";
  return "";
}

SessionNetwork::SessionNetwork(NetworkOptions opts, Ipv4Cidr cidr, PortRange ports)
    : opts_(std::move(opts)), addresses_(cidr), ports_(ports) {}

SessionNetwork::~SessionNetwork() = default;

std::string SessionNetwork::chain(const char* what) const { return "XOP-" + opts_.bridge + "-" + what; }

Result<std::unique_ptr<SessionNetwork>> SessionNetwork::open(NetworkOptions opts) {
  if (!valid_bridge_name(opts.bridge)) return invalid("network.bridge: 1 to 15 of letters, digits, '-' and '_'");
  XOP_ASSIGN_OR_RETURN(auto cidr, parse_ipv4_cidr(opts.pool).map_error([](Error e) {
    e.message = "network.pool: " + e.message;
    return e;
  }));
  XOP_ASSIGN_OR_RETURN(auto range, parse_port_range(opts.port_range).map_error([](Error e) {
    e.message = "network.port_range: " + e.message;
    return e;
  }));
  if (opts.state_file.empty()) return invalid("session network: state_file required");
  if (auto why = session_network_unavailable_reason(); !why.empty()) {
    return make_error(ErrorCode::kUnavailable, "session network unavailable: " + why);
  }
  std::unique_ptr<SessionNetwork> n(new SessionNetwork(std::move(opts), cidr, range));
  XOP_RETURN_IF_ERROR(n->claim());
  XOP_RETURN_IF_ERROR(n->open_bridge());
  XOP_RETURN_IF_ERROR(n->open_chains());
  XOP_LOGN_INFO("server", "network: bridge {} gateway {} pool {} ports {}", n->opts_.bridge, n->gateway(),
                cidr.to_string(), n->opts_.port_range);
  return n;
}

namespace {

// See the claim contract in the header. `record`: write this server's claim into its lock file.
Result<FileLock> claim_network(const NetworkOptions& opts, const Ipv4Cidr& pool, const PortRange& range, bool record) {
  const std::string& dir = opts.claim_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot create " + dir + ": " + ec.message());
  // One server at a time checks and claims, so two starting together cannot both pass.
  XOP_ASSIGN_OR_RETURN(auto guard, FileLock::acquire(dir + "/network.lock", FileLock::Mode::kExclusive));
  const std::string mine = dir + "/bridge-" + opts.bridge + ".lock";
  XOP_ASSIGN_OR_RETURN(auto lock, FileLock::try_acquire(mine, FileLock::Mode::kExclusive));
  if (!lock) {
    const auto held = read_file_capped(mine, 4096).value_or("");
    return make_error(ErrorCode::kConflict, "network.bridge " + opts.bridge + " is used by another live server (" +
                                                held.substr(0, held.find('\n')) +
                                                "); give each server on this host its own network.bridge and pool");
  }
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().string() == mine || name.rfind("bridge-", 0) != 0 || e.path().extension() != ".lock") continue;
    auto probe = FileLock::try_acquire(e.path().string(), FileLock::Mode::kShared);
    if (!probe) continue;
    if (probe->has_value()) {
      // No live holder: a claim left by a server that is gone. Every claim is taken under the
      // guard held here, so nobody is between opening this file and locking it: removing it is safe.
      std::error_code rm;
      fs::remove(e.path(), rm);
      continue;
    }
    auto text = read_file_capped(e.path().string(), 4096);
    if (!text) continue;
    // Another server's claim, read as outside input: anything malformed is no claim at all.
    auto j = parse_json(*text);
    if (!j || !j->is_object()) continue;
    auto field = [&](const char* key) {
      auto it = j->find(key);
      return it != j->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string other_bridge = field("bridge").empty() ? "?" : field("bridge");
    if (auto p = parse_ipv4_cidr(field("pool")); p) {
      // Two CIDR blocks overlap exactly when one holds the other's network address.
      if (p->contains(pool.network) || pool.contains(p->network)) {
        return make_error(ErrorCode::kConflict, "network.pool " + pool.to_string() + " overlaps the pool " +
                                                    p->to_string() + " of the live server on bridge " + other_bridge +
                                                    "; give each server on this host a pool of its own");
      }
    }
    if (auto r = parse_port_range(field("port_range")); r && r->first <= range.last && range.first <= r->last) {
      return make_error(ErrorCode::kConflict, "network.port_range " + opts.port_range + " overlaps the range " +
                                                  field("port_range") + " of the live server on bridge " +
                                                  other_bridge + "; give each server on this host a range of its own");
    }
  }
  // An address of another interface in the pool (another server's bridge, a container engine's,
  // a real link): the routes would clash.
  XOP_ASSIGN_OR_RETURN(CommandResult addrs, run_command({"ip", "-4", "-o", "addr", "show"}, kCommandDeadline));
  size_t at = 0;
  while (at < addrs.out.size()) {
    size_t end = addrs.out.find('\n', at);
    if (end == std::string::npos) end = addrs.out.size();
    const std::string line = addrs.out.substr(at, end - at);
    at = end + 1;
    // "4: eth0    inet 192.0.2.2/24 brd ..."
    std::vector<std::string> w;
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      if (j > i) w.push_back(line.substr(i, j - i));
      i = j;
    }
    if (w.size() < 4 || w[2] != "inet" || w[1] == opts.bridge) continue;
    auto a = parse_ipv4(w[3].substr(0, w[3].find('/')));
    if (a && pool.contains(*a)) {
      return make_error(ErrorCode::kConflict, "network.pool " + pool.to_string() + " holds " + w[3] + " of interface " +
                                                  w[1] + " (another server's bridge?); give this server another pool");
    }
  }
  const std::string text = Json{
      {"bridge", opts.bridge},
      {"pool", pool.to_string()},
      {"port_range", opts.port_range},
      {"pid", static_cast<int64_t>(
                  ::getpid())}}.dump();
  if (record) {
    // In place, not by rename: the lock is on this file's inode.
    std::ofstream f(mine, std::ios::trunc);
    f << text << "\n";
    f.flush();
    if (!f) return make_error(ErrorCode::kInternal, "cannot write " + mine);
  }
  return std::move(*lock);
}

}  // namespace

Status SessionNetwork::claim() {
  XOP_ASSIGN_OR_RETURN(auto lock, claim_network(opts_, addresses_.cidr(), ports_.range(), /*record=*/true));
  claim_ = std::move(lock);
  return ok_status();
}

Status check_session_network(const NetworkOptions& opts) {
  if (!valid_bridge_name(opts.bridge)) return invalid("network.bridge: 1 to 15 of letters, digits, '-' and '_'");
  XOP_ASSIGN_OR_RETURN(auto cidr, parse_ipv4_cidr(opts.pool));
  XOP_ASSIGN_OR_RETURN(auto range, parse_port_range(opts.port_range));
  if (auto why = session_network_unavailable_reason(); !why.empty()) {
    return make_error(ErrorCode::kUnavailable, "session network unavailable: " + why);
  }
  XOP_ASSIGN_OR_RETURN(auto lock, claim_network(opts, cidr, range, /*record=*/false));
  (void)lock;
  return ok_status();
}

Status SessionNetwork::open_bridge() {
  const std::string& br = opts_.bridge;
  std::error_code ec;
  if (!fs::exists("/sys/class/net/" + br, ec)) {
    XOP_RETURN_IF_ERROR(run({"ip", "link", "add", br, "type", "bridge"}));
    XOP_RETURN_IF_ERROR(write_file_atomic(opts_.state_file, "{\"created_bridge\":\"" + br + "\"}\n"));
    created_bridge_ = true;
    XOP_LOGN_INFO("server", "network: created bridge {}", br);
  } else if (auto s = read_file_capped(opts_.state_file, 4096); s && s->find("\"" + br + "\"") != std::string::npos) {
    created_bridge_ = true;  // this server created it before a restart
  }
  const std::string gw = gateway() + "/" + std::to_string(addresses_.cidr().prefix);
  XOP_RETURN_IF_ERROR(run({"ip", "addr", "replace", gw, "dev", br}));
  XOP_RETURN_IF_ERROR(run({"ip", "link", "set", br, "up"}));
  // The host's loopback reaches published ports: DNAT'd packets from 127.0.0.0/8 leave via the bridge.
  XOP_RETURN_IF_ERROR(write_sysctl("/proc/sys/net/ipv4/conf/" + br + "/route_localnet", "1"));
  if (read_sysctl("/proc/sys/net/ipv4/ip_forward") != "1") {
    XOP_RETURN_IF_ERROR(write_sysctl("/proc/sys/net/ipv4/ip_forward", "1"));
    XOP_LOGN_WARN("server", "network: enabled IPv4 forwarding (net.ipv4.ip_forward=1) for the sessions' NAT");
  }
  return ok_status();
}

Status SessionNetwork::open_chains() {
  const std::string& br = opts_.bridge;
  const std::string pool = addresses_.cidr().to_string();
  struct Jump {
    std::string table, builtin, chain;
    std::vector<std::string> match;
  };
  const std::vector<Jump> jumps = {
      {"filter", "INPUT", chain("IN"), {"-i", br}},
      {"filter", "FORWARD", chain("FWD"), {}},
      {"nat", "PREROUTING", chain("DNAT"), {"-m", "addrtype", "--dst-type", "LOCAL"}},
      {"nat", "OUTPUT", chain("DNAT"), {"-m", "addrtype", "--dst-type", "LOCAL"}},
      {"nat", "POSTROUTING", chain("POST"), {}},
  };
  for (const auto& [table, c] : std::vector<std::pair<std::string, std::string>>{
           {"filter", chain("IN")}, {"filter", chain("FWD")}, {"nat", chain("DNAT")}, {"nat", chain("POST")}}) {
    if (!succeeds(ipt(table, {"-n", "-L", c}))) XOP_RETURN_IF_ERROR(run(ipt(table, {"-N", c})));
    XOP_RETURN_IF_ERROR(run(ipt(table, {"-F", c})));
  }
  auto add = [&](const std::string& table, const std::string& c, std::vector<std::string> rule) {
    std::vector<std::string> args{"-A", c};
    args.insert(args.end(), rule.begin(), rule.end());
    return run(ipt(table, args));
  };
  // Replies only from the bridge into the host.
  XOP_RETURN_IF_ERROR(
      add("filter", chain("IN"), {"-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"}));
  XOP_RETURN_IF_ERROR(add("filter", chain("IN"), {"-j", "DROP"}));
  // No session to session, no link-local (cloud metadata); out to anywhere else; in only replies and published ports.
  XOP_RETURN_IF_ERROR(add("filter", chain("FWD"), {"-i", br, "-o", br, "-j", "DROP"}));
  XOP_RETURN_IF_ERROR(add("filter", chain("FWD"), {"-i", br, "-d", "169.254.0.0/16", "-j", "DROP"}));
  for (const auto& d : opts_.deny) {
    XOP_RETURN_IF_ERROR(add("filter", chain("FWD"), {"-i", br, "-d", d.to_string(), "-j", "REJECT"}));
  }
  XOP_RETURN_IF_ERROR(add("filter", chain("FWD"), {"-i", br, "-j", "ACCEPT"}));
  XOP_RETURN_IF_ERROR(add("filter", chain("FWD"),
                          {"-o", br, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED,DNAT", "-j", "ACCEPT"}));
  XOP_RETURN_IF_ERROR(add("filter", chain("FWD"), {"-o", br, "-j", "DROP"}));
  XOP_RETURN_IF_ERROR(add("nat", chain("POST"), {"-s", pool, "!", "-o", br, "-j", "MASQUERADE"}));
  XOP_RETURN_IF_ERROR(add("nat", chain("POST"), {"-s", "127.0.0.0/8", "-o", br, "-j", "MASQUERADE"}));
  for (const auto& j : jumps) {
    std::vector<std::string> spec{j.builtin};
    spec.insert(spec.end(), j.match.begin(), j.match.end());
    spec.push_back("-j");
    spec.push_back(j.chain);
    std::vector<std::string> check{"-C"};
    check.insert(check.end(), spec.begin(), spec.end());
    if (succeeds(ipt(j.table, check))) continue;
    std::vector<std::string> insert{"-I"};
    insert.insert(insert.end(), spec.begin(), spec.end());
    insert.insert(insert.begin() + 2, "1");
    XOP_RETURN_IF_ERROR(run(ipt(j.table, insert)));
  }
  return ok_status();
}

void SessionNetwork::remove_chains() {
  const std::string& br = opts_.bridge;
  const std::vector<std::vector<std::string>> jumps = {
      {"filter", "INPUT", "-i", br, "-j", chain("IN")},
      {"filter", "FORWARD", "-j", chain("FWD")},
      {"nat", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chain("DNAT")},
      {"nat", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chain("DNAT")},
      {"nat", "POSTROUTING", "-j", chain("POST")},
  };
  for (const auto& j : jumps) {
    std::vector<std::string> del{"-D"};
    del.insert(del.end(), j.begin() + 1, j.end());
    // A jump inserted twice (by hand, or two servers racing) goes entirely; bounded.
    for (int i = 0; i < 8 && succeeds(ipt(j[0], del)); ++i) {
    }
  }
  for (const auto& [table, c] : std::vector<std::pair<std::string, std::string>>{
           {"filter", chain("IN")}, {"filter", chain("FWD")}, {"nat", chain("DNAT")}, {"nat", chain("POST")}}) {
    if (!succeeds(ipt(table, {"-n", "-L", c}))) continue;
    run_logged(ipt(table, {"-F", c}), "flush chain");
    run_logged(ipt(table, {"-X", c}), "delete chain");
  }
}

void SessionNetwork::shutdown(bool sessions_left) {
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  shut_down_ = true;
  claim_.reset();  // another server may take this bridge now (this one is going)
  if (sessions_left) {
    XOP_LOGN_INFO("server", "network: bridge {} and chains {} kept for the sessions left running", opts_.bridge,
                  chain("*"));
    return;
  }
  remove_chains();
  if (created_bridge_) {
    run_logged({"ip", "link", "del", opts_.bridge}, "remove bridge");
    std::error_code ec;
    fs::remove(opts_.state_file, ec);
    XOP_LOGN_INFO("server", "network: removed bridge {}", opts_.bridge);
  }
}

Result<SessionNet> SessionNetwork::reserve(const std::string& session_id, const std::vector<PortSpec>& ports,
                                           int64_t bps) {
  std::lock_guard lock(mu_);
  SessionNet n;
  n.egress_bps = std::max<int64_t>(0, bps);
  n.ingress_bps = n.egress_bps;
  n.netns = "xop-" + session_id;
  n.veth = "xv" + short_hash(opts_.bridge, session_id);
  XOP_ASSIGN_OR_RETURN(uint32_t a, addresses_.allocate());
  n.address = ipv4_to_string(a);
  for (const auto& p : ports) {
    auto hp = ports_.allocate([&](uint16_t port) { return host_port_free(port, p.protocol); });
    if (!hp) {
      addresses_.release(a);
      for (const auto& q : n.ports) ports_.release(q.host_port);
      return tl::make_unexpected(hp.error());
    }
    n.ports.push_back(PublishedPort{p.name, p.protocol, static_cast<uint16_t>(p.port), *hp});
  }
  return n;
}

Status SessionNetwork::add_dnat(const SessionNet& n) {
  for (const auto& p : n.ports) {
    XOP_RETURN_IF_ERROR(run(ipt("nat", {"-A", chain("DNAT"), "-p", p.protocol, "--dport", std::to_string(p.host_port),
                                        "-j", "DNAT", "--to-destination", n.address + ":" + std::to_string(p.port)})));
  }
  return ok_status();
}

void SessionNetwork::remove_dnat(const SessionNet& n) {
  for (const auto& p : n.ports) {
    const auto rule = ipt("nat", {"-D", chain("DNAT"), "-p", p.protocol, "--dport", std::to_string(p.host_port), "-j",
                                  "DNAT", "--to-destination", n.address + ":" + std::to_string(p.port)});
    for (int i = 0; i < 4 && succeeds(rule); ++i) {
    }
  }
}

Status SessionNetwork::setup(const SessionNet& n) {
  const std::string& br = opts_.bridge;
  const std::string peer = "xc" + n.veth.substr(2);
  const std::string cidr = n.address + "/" + std::to_string(addresses_.cidr().prefix);
  XOP_RETURN_IF_ERROR(run({"ip", "netns", "add", n.netns}));
  XOP_RETURN_IF_ERROR(run({"ip", "link", "add", n.veth, "type", "veth", "peer", "name", peer, "netns", n.netns}));
  XOP_RETURN_IF_ERROR(run({"ip", "link", "set", n.veth, "master", br}));
  // An isolated bridge port forwards only to non-isolated ones (the bridge itself): sessions do
  // not reach each other even at layer 2.
  XOP_RETURN_IF_ERROR(run({"ip", "link", "set", "dev", n.veth, "type", "bridge_slave", "isolated", "on"}));
  XOP_RETURN_IF_ERROR(run({"ip", "link", "set", n.veth, "up"}));
  XOP_RETURN_IF_ERROR(run({"ip", "-n", n.netns, "link", "set", peer, "name", "eth0"}));
  XOP_RETURN_IF_ERROR(run({"ip", "-n", n.netns, "addr", "add", cidr, "dev", "eth0"}));
  XOP_RETURN_IF_ERROR(run({"ip", "-n", n.netns, "link", "set", "eth0", "up"}));
  XOP_RETURN_IF_ERROR(run({"ip", "-n", n.netns, "link", "set", "lo", "up"}));
  XOP_RETURN_IF_ERROR(run({"ip", "-n", n.netns, "route", "add", "default", "via", gateway()}));
  if (n.egress_bps > 0) XOP_RETURN_IF_ERROR(run(tbf({"-n", n.netns}, "eth0", n.egress_bps)));
  if (n.ingress_bps > 0) XOP_RETURN_IF_ERROR(run(tbf({}, n.veth, n.ingress_bps)));
  return add_dnat(n);
}

Status SessionNetwork::adopt(const SessionNet& n) {
  {
    std::lock_guard lock(mu_);
    XOP_ASSIGN_OR_RETURN(uint32_t a, parse_ipv4(n.address));
    XOP_RETURN_IF_ERROR(addresses_.adopt(a));
    for (const auto& p : n.ports) {
      if (auto s = ports_.adopt(p.host_port); !s) {
        XOP_LOGN_WARN("server", "network: {}: host port {}: {}", n.netns, p.host_port, s.error().message);
      }
    }
  }
  std::error_code ec;
  if (!fs::exists(netns_path(n), ec)) {
    return make_error(ErrorCode::kNotFound, "network namespace " + n.netns + " is gone");
  }
  XOP_RETURN_IF_ERROR(run({"ip", "link", "set", n.veth, "master", opts_.bridge}));
  XOP_RETURN_IF_ERROR(run({"ip", "link", "set", "dev", n.veth, "type", "bridge_slave", "isolated", "on"}));
  XOP_RETURN_IF_ERROR(run({"ip", "link", "set", n.veth, "up"}));
  // The host end's qdisc outlives the daemon with the veth; replacing it is idempotent (and gives a
  // session set up by an older server its receiving limit).
  if (n.ingress_bps > 0) XOP_RETURN_IF_ERROR(run(tbf({}, n.veth, n.ingress_bps)));
  return add_dnat(n);
}

void SessionNetwork::release(const SessionNet& n) {
  remove_dnat(n);
  std::error_code ec;
  if (fs::exists(netns_path(n), ec)) run_logged({"ip", "netns", "del", n.netns}, "remove namespace");
  // Deleting the namespace takes its veth pair with it (asynchronously): only a veth still there
  // after an explicit delete is worth a warning.
  if (fs::exists("/sys/class/net/" + n.veth, ec) && !succeeds({"ip", "link", "del", n.veth}) &&
      fs::exists("/sys/class/net/" + n.veth, ec)) {
    XOP_LOGN_WARN("server", "network: cannot remove veth {}", n.veth);
  }
  std::lock_guard lock(mu_);
  if (auto a = parse_ipv4(n.address)) addresses_.release(*a);
  for (const auto& p : n.ports) ports_.release(p.host_port);
}

Result<int64_t> SessionNetwork::bytes(const SessionNet& n) const {
  const std::string dir = "/sys/class/net/" + n.veth + "/statistics/";
  int64_t total = 0;
  for (const char* f : {"rx_bytes", "tx_bytes"}) {
    const std::string v = read_sysctl(dir + f);
    if (v.empty()) return make_error(ErrorCode::kNotFound, "no counters for " + n.veth);
    total += std::strtoll(v.c_str(), nullptr, 10);
  }
  return total;
}

}  // namespace xop
