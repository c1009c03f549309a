#include "server/host_check.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

#include "core/file_util.h"
#include "server/sandbox_process.h"
#include "server/sandbox_runc.h"
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

HostCheck runtime_check(const std::string& runtime, const Result<CgroupLayout>& layout, bool needed) {
  HostCheck c{"runtime " + runtime, false, needed, ""};
  const std::string path = find_program(runtime);
  if (path.empty()) {
    c.detail = "not installed (apt-get install " + runtime + ")";
    return c;
  }
  const std::string version = first_line({path, "--version"});
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
  out.push_back(runtime_check("runc", layout, real && chosen == "runc"));
  out.push_back(runtime_check("crun", layout, real && chosen == "crun"));
  std::string in_use = chosen + " (runtime = \"" + cfg.runtime + "\"";
  if (cfg.runtime == "auto") in_use += chosen == "crun" ? ": crun works here" : ": crun does not work here, see above";
  out.push_back(HostCheck{"runtime in use", true, false, in_use + ")"});
  if (real) {
    auto disks = check_session_disk_support();
    out.push_back(HostCheck{
        "session disks", disks.has_value(), true,
        disks ? "loop devices, ext4 and mkfs.ext4: each session's writable layer is bounded" : disks.error().message});
  }
  const std::string net = session_network_unavailable_reason();
  std::string net_detail;
  if (!cfg.network_enabled) {
    net_detail = "disabled (network.enabled = false): sessions get loopback only";
  } else if (!real) {
    net_detail = "not with the mock runtime: sessions get loopback only";
  } else if (net.empty()) {
    const std::string ipt = first_line({"iptables", "--version"});
    net_detail = "bridge " + cfg.network_bridge + ", pool " + cfg.network_pool + ", ports " + cfg.network_port_range +
                 (ipt.empty() ? "" : "; " + ipt);
  } else {
    net_detail = net + ": sessions get loopback only and cannot publish ports";
  }
  out.push_back(HostCheck{"session network", net.empty() && cfg.network_enabled && real, false, net_detail});
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (pidfd >= 0) ::close(pidfd);
  out.push_back(HostCheck{"pidfd", pidfd >= 0, false,
                          pidfd >= 0 ? "pidfd_open works: exits are seen without polling"
                                     : "pidfd_open is missing (kernel < 5.3): exits are polled"});
  auto userns = read_file_capped("/proc/sys/user/max_user_namespaces", 64);
  const bool userns_ok = userns && !userns->empty() && userns->front() != '0';
  out.push_back(HostCheck{"user namespaces", userns_ok, false,
                          userns ? "max_user_namespaces " + userns->substr(0, userns->find('\n'))
                                 : "no /proc/sys/user/max_user_namespaces"});
  return out;
}

bool host_ready(const std::vector<HostCheck>& checks) {
  for (const auto& c : checks) {
    if (c.needed && !c.ok) return false;
  }
  return true;
}

}  // namespace xop
