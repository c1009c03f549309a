#include "server/host_check.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <filesystem>

#include "core/file_util.h"
#include "server/address_pool.h"
#include "server/sandbox_process.h"
#include "server/sandbox_runc.h"
#include "server/seccomp_profile.h"
#include "server/session_disk.h"
#include "server/session_network.h"

namespace xop {
namespace {

const char* mode_name(CgroupMode m) {
  switch (m) {
    case CgroupMode::kV1:
      return "v1";
    case CgroupMode::kHybrid:
      return "hybrid (v1 controllers, cgroup2 at unified)";
    case CgroupMode::kV2:
      return "v2";
  }
  return "unknown";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// The first line a program prints for `args`, or "" when it cannot be run.
std::string first_line(const std::vector<std::string>& argv) {
  auto r = run_command(argv, std::chrono::seconds(5));
  if (!r || r->exit_code != 0) return "";
  const std::string& text = r->out.empty() ? r->err : r->out;
  return text.substr(0, text.find('\n'));
}

HostCheck runtime_check(const std::string& runtime, const Result<CgroupLayout>& layout, bool needed,
                        std::string* version_out) {
  HostCheck c{"runtime " + runtime, false, needed, ""};
  const std::string path = find_program(runtime);
  if (path.empty()) {
    c.detail = "not installed (apt-get install " + runtime + ")";
    return c;
  }
  const std::string version = first_line({path, "--version"});
  *version_out = version;
  if (!layout) {
    c.detail = path + ": the cgroup layout is unknown";
    return c;
  }
  const std::string why = runtime_unavailable_reason(path, *layout);
  c.ok = why.empty();
  c.detail = path + (version.empty() ? "" : " (" + version + ")") + (why.empty() ? "" : ": " + why);
  return c;
}

}  // namespace

std::pair<int, int> runtime_version_of(std::string_view text) {
  // "runc version 1.1.5+ds1" or "crun version 1.8.1": the first digit run after "version ".
  const auto at = text.find("version ");
  if (at == std::string_view::npos) return {0, 0};
  std::string_view v = text.substr(at + 8);
  int major = 0;
  int minor = 0;
  auto r1 = std::from_chars(v.data(), v.data() + v.size(), major);
  if (r1.ec != std::errc() || r1.ptr == v.data() + v.size() || *r1.ptr != '.') return {0, 0};
  auto r2 = std::from_chars(r1.ptr + 1, v.data() + v.size(), minor);
  if (r2.ec != std::errc()) return {0, 0};
  return {major, minor};
}

UserNamespaceSupport user_namespace_support(std::string_view max_user_namespaces, std::string_view runtime_version) {
  UserNamespaceSupport u;
  std::string_view t = max_user_namespaces;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  int64_t n = 0;
  auto r = std::from_chars(t.data(), t.data() + t.size(), n);
  u.kernel = !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size() && n > 0;
  u.max_namespaces = u.kernel ? n : 0;
  const auto [major, minor] = runtime_version_of(runtime_version);
  u.runtime_idmap = major > 1 || (major == 1 && minor >= 2);
  std::string why;
  if (!u.kernel) {
    why = t.empty() ? "the kernel has no user namespaces (no /proc/sys/user/max_user_namespaces)"
                    : "user namespaces are disabled (max_user_namespaces = " + std::string(t) + ")";
  } else if (!u.runtime_idmap) {
    why = "the kernel allows them (max_user_namespaces = " + std::to_string(n) +
          "), but the runtime cannot id-map the session's root file system (needs runc >= 1.2; have " +
          (major == 0 ? std::string("an unknown version") : std::to_string(major) + "." + std::to_string(minor)) +
          "), and the image layers are owned by host uid 0";
  } else {
    why = "the kernel and runtime could, but XOP does not map sessions yet";
  }
  u.detail = "not used: " + why +
             ". Fallback: a session's root is host uid 0 with 10 capabilities (none of SYS_ADMIN, NET_ADMIN, "
             "NET_RAW, SYS_PTRACE, SYS_MODULE, MKNOD), no_new_privileges, the seccomp allow list and its own "
             "pid/mount/ipc/uts/net namespaces";
  return u;
}

std::string runtime_unavailable_reason(const std::string& runtime, const CgroupLayout& layout) {
  if (find_program(runtime).empty()) return runtime + " is not installed (not found on PATH)";
  return runtime_layout_refusal(runtime, layout);
}

std::string choose_runtime(const std::string& configured, const CgroupLayout& layout, std::string* why) {
  if (configured != "auto") return configured;
  const std::string crun = runtime_unavailable_reason("crun", layout);
  if (crun.empty()) {
    if (why != nullptr) *why = "runtime auto: crun works on this host; using it";
    return "crun";
  }
  if (why != nullptr) *why = "runtime auto: using runc (crun: " + crun + ")";
  return "runc";
}

std::vector<HostCheck> check_host(const ServerConfig& cfg) {
  std::vector<HostCheck> out;
  const bool real = cfg.runtime != "mock";
  out.push_back(HostCheck{
      "root", ::geteuid() == 0, real,
      ::geteuid() == 0 ? "running as root" : "not root: runc and crun need root (mounts, cgroups, namespaces)"});
  auto layout = detect_cgroup_layout("/sys/fs/cgroup");
  HostCheck cg{"cgroups", layout.has_value(), real, ""};
  if (layout) {
    cg.detail = mode_name(layout->mode);
    std::vector<std::string> v1;
    for (const auto& [name, dir] : layout->v1) v1.push_back(name);
    if (!v1.empty()) cg.detail += "; v1: " + join(v1);
    if (!layout->v2_dir.empty())
      cg.detail +=
          "; v2 controllers: " + (layout->v2_controllers.empty() ? std::string("none") : join(layout->v2_controllers));
  } else {
    cg.detail = layout.error().message;
  }
  out.push_back(cg);
  std::string chosen = cfg.runtime;
  if (layout) chosen = choose_runtime(cfg.runtime, *layout);
  std::string runc_version;
  std::string crun_version;
  out.push_back(runtime_check("runc", layout, real && chosen == "runc", &runc_version));
  out.push_back(runtime_check("crun", layout, real && chosen == "crun", &crun_version));
  std::string in_use = chosen + " (runtime = \"" + cfg.runtime + "\"";
  if (cfg.runtime == "auto") in_use += chosen == "crun" ? ": crun works here" : ": crun does not work here, see above";
  out.push_back(HostCheck{"runtime in use", true, false, in_use + ")"});
  if (real) {
    if (auto p = load_seccomp_profile(cfg.seccomp_profile); p) {
      out.push_back(HostCheck{"seccomp", true, true,
                              (cfg.seccomp_profile.empty() ? std::string("built-in profile") : cfg.seccomp_profile) +
                                  ": " + std::to_string((*p)["syscalls"].size()) + " rules, unlisted calls " +
                                  (*p)["defaultAction"].get<std::string>()});
    } else {
      out.push_back(HostCheck{"seccomp", false, true, p.error().message});
    }
    auto disks = check_session_disk_support();
    out.push_back(HostCheck{
        "session disks", disks.has_value(), true,
        disks ? "loop devices, ext4 and mkfs.ext4: each session's writable layer is bounded" : disks.error().message});
  }
  // The session network: optional (without it sessions get loopback only), except that a server
  // whose bridge, pool or port range clashes with another live server refuses to start.
  HostCheck net{"session network", false, false, ""};
  if (!cfg.network_enabled) {
    net.detail = "disabled (network.enabled = false): sessions get loopback only";
  } else if (!real) {
    net.detail = "not with the mock runtime: sessions get loopback only";
  } else {
    NetworkOptions no;
    no.bridge = cfg.network_bridge;
    no.pool = cfg.network_pool;
    no.port_range = cfg.network_port_range;
    auto deny = parse_cidr_list(cfg.network_deny);
    if (deny) no.deny = *deny;
    auto n = check_session_network(no);
    if (!deny) {
      net.needed = true;
      net.detail = "network.deny: " + deny.error().message;
    } else if (n) {
      std::error_code ec;
      const bool exists = std::filesystem::exists("/sys/class/net/" + no.bridge, ec);
      const std::string ipt = first_line({"iptables", "--version"});
      net.ok = true;
      net.detail =
          "bridge " + no.bridge + (exists ? " (exists)" : " (created at start)") + ", pool " + no.pool +
          ", host ports " + no.port_range + "; reserved bandwidth both ways with tc tbf" +
          (no.deny.empty() ? std::string() : "; " + std::to_string(no.deny.size()) + " denied destination(s)") +
          (ipt.empty() ? "" : "; " + ipt);
    } else if (n.error().code == ErrorCode::kUnavailable) {
      net.detail = n.error().message + ": sessions get loopback only and cannot publish ports";
    } else {
      net.needed = true;  // the server would refuse to start
      net.detail = "REFUSED: " + n.error().message;
    }
  }
  out.push_back(net);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (pidfd >= 0) ::close(pidfd);
  out.push_back(HostCheck{"pidfd", pidfd >= 0, false,
                          pidfd >= 0 ? "pidfd_open works: exits are seen without polling"
                                     : "pidfd_open is missing (kernel < 5.3): exits are polled"});
  const auto max_ns = read_file_capped("/proc/sys/user/max_user_namespaces", 64);
  const auto u = user_namespace_support(max_ns ? *max_ns : "", chosen == "crun" ? crun_version : runc_version);
  out.push_back(HostCheck{"user namespaces", u.used, false, u.detail});
  return out;
}

bool host_ready(const std::vector<HostCheck>& checks) {
  for (const auto& c : checks) {
    if (c.needed && !c.ok) return false;
  }
  return true;
}

}  // namespace xop
