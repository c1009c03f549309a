#include "server/host_check.h"

#include <unistd.h>

#include <charconv>
#include <chrono>

#include "core/file_util.h"
#include "server/cgroup.h"
#include "server/sandbox_process.h"
#include "server/seccomp_profile.h"
#include "server/session_disk.h"
#include "server/session_network.h"

namespace xop {

std::pair<int, int> runtime_version_of(std::string_view text) {
  // "runc version 1.1.5+ds1" or "crun version 1.8.1": the first digit run after "version ".
  const auto at = text.find("version ");
  if (at == std::string_view::npos) return {0, 0};
  std::string_view v = text.substr(at + 8);
  int major = 0, minor = 0;
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

std::vector<HostCheckItem> check_host(const ServerConfig& cfg) {
  std::vector<HostCheckItem> out;
  if (cfg.runtime == "mock") {
    out.push_back({"runtime", true, true, "mock (tests only): no real sessions, nothing else to check"});
    return out;
  }
  out.push_back({"root", ::geteuid() == 0, true, ::geteuid() == 0 ? "running as root" : "real sessions need root"});
  std::string version;
  auto v = run_command({cfg.runtime, "--version"}, std::chrono::seconds(10));
  if (v && v->exit_code == 0) {
    version = v->out.substr(0, v->out.find('\n'));
    out.push_back({"runtime", true, true, version});
  } else {
    out.push_back({"runtime", false, true, cfg.runtime + " --version failed: " + (v ? v->err : v.error().message)});
  }
  if (auto cg = detect_cgroup_layout("/sys/fs/cgroup"); cg) {
    const char* mode = cg->mode == CgroupMode::kV2       ? "v2"
                       : cg->mode == CgroupMode::kHybrid ? "hybrid (v1 + cgroup2)"
                                                         : "v1";
    out.push_back({"cgroups", true, true, mode});
  } else {
    out.push_back({"cgroups", false, true, cg.error().message});
  }
  if (auto p = load_seccomp_profile(cfg.seccomp_profile); p) {
    out.push_back({"seccomp", true, true,
                   (cfg.seccomp_profile.empty() ? std::string("built-in profile") : cfg.seccomp_profile) + ": " +
                       std::to_string((*p)["syscalls"].size()) + " rules, unlisted calls " +
                       (*p)["defaultAction"].get<std::string>()});
  } else {
    out.push_back({"seccomp", false, true, p.error().message});
  }
  if (auto d = check_session_disk_support(); d) {
    out.push_back({"session disks", true, true, "loop-mounted ext4 per session"});
  } else {
    out.push_back({"session disks", false, true, d.error().message});
  }
  if (!cfg.network_enabled) {
    out.push_back({"session network", true, false, "disabled by network.enabled = false: loopback only"});
  } else if (auto why = session_network_unavailable_reason(); !why.empty()) {
    out.push_back({"session network", false, false, why + ": sessions get loopback only"});
  } else {
    out.push_back({"session network", true, false, "bridge " + cfg.network_bridge + ", pool " + cfg.network_pool});
  }
  const auto max_ns = read_file_capped("/proc/sys/user/max_user_namespaces", 64);
  const auto u = user_namespace_support(max_ns ? *max_ns : "", version);
  out.push_back({"user namespaces", u.used, false, u.detail});
  return out;
}

}  // namespace xop
