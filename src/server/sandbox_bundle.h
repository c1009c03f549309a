// The OCI runtime bundle configuration (config.json) the runc driver writes for a session. A
// pure function of the spec: no clock, no I/O, so tests check its content directly.
//
// Contract: the process runs as spec.uid:spec.gid (with spec.additional_gids) without a
// terminal, with no_new_privileges, a reduced capability set (docker's default minus MKNOD,
// NET_RAW, SETFCAP and AUDIT_WRITE), rlimits (NOFILE kNofileLimit, CORE 0, RTPRIO 0, MEMLOCK
// kMemlockLimit; processes are bounded by the pids cgroup), the given seccomp allow list
// (server/seccomp_profile.h; default: the built-in one), fresh pid/ipc/uts/mount namespaces, the
// network namespace at spec.netns_path (or a fresh one with loopback only), runc's standard mounts,
// the OCI defaults' masked and read-only /proc and /sys paths, and cgroup limits for what was
// reserved. No user namespace: see docs/operating.md "Sandbox hardening".
#pragma once

#include <string>

#include "core/json_reader.h"
#include "core/result.h"
#include "server/sandbox.h"

namespace xop {

inline constexpr int64_t kCpuPeriodUs = 100000;
inline constexpr int64_t kMinCpuQuotaUs = 1000;  // the kernel's minimum
inline constexpr int64_t kMinMemoryBytes = 4 << 20;
inline constexpr int64_t kNofileLimit = 4096;
inline constexpr int64_t kMemlockLimit = 8 << 20;

// Checks what the driver relies on: an id usable as a container and cgroup name
// ([A-Za-z0-9_.-], 1..64, not starting with '.'), an absolute rootfs and cwd, non-empty args,
// KEY=value env, uid and gid in 0..2^31-1 with at most 64 additional gids, positive cpu and
// memory reservations, pids limit in 1..1<<22.
Status validate_sandbox_spec(const SandboxSpec& spec);

// CFS quota for a milli-core reservation (period kCpuPeriodUs): cpu_millis * 100, at least the
// kernel minimum.
int64_t cpu_quota_us(int64_t cpu_millis);

// The config.json document. `cgroups_path` is the container's cgroup, e.g. "/xop/<id>/ctr";
// `seccomp` a profile from parse_seccomp_profile (nullptr: the built-in one).
Json make_runc_config(const SandboxSpec& spec, const std::string& cgroups_path, const Json* seccomp = nullptr);

}  // namespace xop
