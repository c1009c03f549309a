#include "server/sandbox_bundle.h"

#include <limits>

#include "server/seccomp_profile.h"

namespace xop {
namespace {

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  for (char c : id) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// The capabilities a session keeps (docs/operating.md "Sandbox hardening"): what ordinary
// services need to run as root inside their own file system and drop to another user. Left out of
// docker's default set: CAP_MKNOD (device nodes), CAP_NET_RAW (raw and packet sockets: spoofing on
// the shared bridge), CAP_SETFCAP (file capabilities) and CAP_AUDIT_WRITE (the audit log is the
// host's; nothing in a session needs to write to it).
const char* const kCapabilities[] = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
};

Json rlimit(const char* type, int64_t n) { return {{"type", type}, {"hard", n}, {"soft", n}}; }

Json mount(const char* dest, const char* type, const char* source, std::initializer_list<const char*> options) {
  Json o = Json::array();
  for (const char* x : options) o.push_back(x);
  return {{"destination", dest}, {"type", type}, {"source", source}, {"options", o}};
}

}  // namespace

Status validate_sandbox_spec(const SandboxSpec& spec) {
  if (!valid_id(spec.id)) return invalid("sandbox id \"" + spec.id + "\": expected 1-64 characters of [A-Za-z0-9_.-]");
  if (spec.rootfs.empty() || spec.rootfs[0] != '/' || has_nul(spec.rootfs)) {
    return invalid("sandbox rootfs: expected an absolute path");
  }
  if (spec.bundle_dir.empty() || spec.bundle_dir[0] != '/')
    return invalid("sandbox bundle_dir: expected an absolute path");
  if (spec.cwd.empty() || spec.cwd[0] != '/' || has_nul(spec.cwd))
    return invalid("sandbox cwd: expected an absolute path");
  if (!spec.netns_path.empty() && (spec.netns_path[0] != '/' || has_nul(spec.netns_path))) {
    return invalid("sandbox netns_path: expected an absolute path");
  }
  if (spec.args.empty() || spec.args[0].empty()) return invalid("sandbox args: a command is required");
  for (const auto& a : spec.args) {
    if (has_nul(a)) return invalid("sandbox args: NUL byte in argument");
  }
  for (const auto& e : spec.env) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || has_nul(e)) return invalid("sandbox env: \"" + e + "\" is not KEY=value");
  }
  if (spec.reserved.cpu_millis <= 0 || spec.reserved.cpu_millis > 1'000'000) {
    return invalid("sandbox reserved.cpu_millis: must be between 1 and 1000000");
  }
  if (spec.reserved.memory_bytes < kMinMemoryBytes) {
    return invalid("sandbox reserved.memory_bytes: must be at least " + std::to_string(kMinMemoryBytes));
  }
  if (spec.uid > 0x7fffffff || spec.gid > 0x7fffffff) return invalid("sandbox uid/gid: must be in 0..2147483647");
  if (spec.additional_gids.size() > 64) return invalid("sandbox additional_gids: at most 64");
  if (spec.pids_limit <= 0 || spec.pids_limit > (1 << 22)) return invalid("sandbox pids_limit: must be in 1..4194304");
  if (spec.log_path.empty() || spec.log_path[0] != '/') return invalid("sandbox log_path: expected an absolute path");
  if (spec.log_max_bytes < 8192) return invalid("sandbox log_max_bytes: must be at least 8192");
  if (spec.log_rate_bytes_per_s <= 0) return invalid("sandbox log_rate_bytes_per_s: must be positive");
  return ok_status();
}

int64_t cpu_quota_us(int64_t cpu_millis) {
  if (cpu_millis > std::numeric_limits<int64_t>::max() / 100) return std::numeric_limits<int64_t>::max();
  return std::max(kMinCpuQuotaUs, cpu_millis * (kCpuPeriodUs / 1000));
}

Json make_runc_config(const SandboxSpec& spec, const std::string& cgroups_path, const Json* seccomp) {
  Json caps = Json::array();
  for (const char* c : kCapabilities) caps.push_back(c);
  Json env = Json::array();
  for (const auto& e : spec.env) env.push_back(e);
  Json user = {{"uid", spec.uid}, {"gid", spec.gid}};
  if (!spec.additional_gids.empty()) user["additionalGids"] = spec.additional_gids;

  Json process = {
      {"terminal", false},
      {"user", user},
      {"args", spec.args},
      {"env", env},
      {"cwd", spec.cwd},
      {"noNewPrivileges", true},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      // The number of processes is the pids cgroup's (RLIMIT_NPROC counts per user across the
      // whole host, and a session's root is the host's uid 0).
      {"rlimits",
       {rlimit("RLIMIT_NOFILE", kNofileLimit), rlimit("RLIMIT_CORE", 0), rlimit("RLIMIT_RTPRIO", 0),
        rlimit("RLIMIT_MEMLOCK", kMemlockLimit)}},
  };

  Json mounts = Json::array({
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  });

  Json resources = {
      {"devices", {{{"allow", false}, {"access", "rwm"}}}},
      {"memory", {{"limit", spec.reserved.memory_bytes}}},
      {"cpu", {{"quota", cpu_quota_us(spec.reserved.cpu_millis)}, {"period", kCpuPeriodUs}}},
      {"pids", {{"limit", spec.pids_limit}}},
  };

  // The network namespace: the server's one for this session (on its bridge), or a fresh one with
  // loopback only.
  Json netns = {{"type", "network"}};
  if (!spec.netns_path.empty()) netns["path"] = spec.netns_path;
  Json linux_section = {
      {"namespaces", {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, netns}},
      {"cgroupsPath", cgroups_path},
      {"resources", resources},
      {"seccomp", seccomp != nullptr ? *seccomp : default_seccomp_profile().value_or(Json::object())},
      {"maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/sys/devices/virtual/powercap"}},
      // /sys/fs/cgroup: under cgroup v1 runc mounts a tmpfs there (read-write, whatever the cgroup
      // mount's options) to hold the read-only hierarchies; this makes the tmpfs read-only too.
      {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys/fs/cgroup"}},
  };

  return {
      {"ociVersion", "1.0.2"}, {"process", process}, {"root", {{"path", spec.rootfs}, {"readonly", false}}},
      {"hostname", "xop"},     {"mounts", mounts},   {"linux", linux_section},
  };
}

}  // namespace xop
