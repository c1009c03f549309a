// The OCI runtime bundle configuration (config.json) the runc driver writes for a session. A
// pure function of the spec: no clock, no I/O, so tests check its content directly.
//
// Contract: the process runs as spec.uid:spec.gid (with spec.additional_gids) without a
// terminal, with no_new_privileges, a reduced capability set (docker's default minus MKNOD,
// NET_RAW and SETFCAP), RLIMIT_NOFILE, a default seccomp profile (deny-list of
// kernel-administration and escape-prone system calls, and CLONE_NEWUSER), fresh
// pid/ipc/uts/mount namespaces, the network namespace at spec.netns_path (or a fresh one
// with loopback only), runc's standard mounts and
// masked/read-only paths, and cgroup limits for what was reserved.
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

// Checks what the driver relies on: an id usable as a container and cgroup name
// ([A-Za-z0-9_.-], 1..64, not starting with '.'), an absolute rootfs and cwd, non-empty args,
// KEY=value env, uid and gid in 0..2^31-1 with at most 64 additional gids, positive cpu and
// memory reservations, pids limit in 1..1<<22.
Status validate_sandbox_spec(const SandboxSpec& spec);

// CFS quota for a milli-core reservation (period kCpuPeriodUs): cpu_millis * 100, at least the
// kernel minimum.
int64_t cpu_quota_us(int64_t cpu_millis);

// The config.json document. `cgroups_path` is the container's cgroup, e.g. "/xop/<id>/ctr".
Json make_runc_config(const SandboxSpec& spec, const std::string& cgroups_path);

}  // namespace xop
