// Session cgroups, for cgroup v1 (one hierarchy per controller; cpu and cpuacct may be separate
// mounts), v2 (one unified tree) and the hybrid layout (v1 controllers plus a v2 mount).
//
// A session owns the cgroup "<parent>/<id>" in every relevant hierarchy; its container runs in
// "<parent>/<id>/ctr", created by the OCI runtime. Counters are read at the session level, so they
// stay readable (hierarchical accounting) after the runtime deleted the container's own cgroup.
//
// The cgroup root is a parameter: unit tests point it at a fake directory tree.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace xop {

enum class CgroupMode {
  kV1,      // v1 controllers only
  kHybrid,  // v1 controllers plus a cgroup2 mount at <root>/unified
  kV2,      // unified tree at <root>
};

struct CgroupLayout {
  CgroupMode mode = CgroupMode::kV1;
  std::string root;
  // v1: controller name ("cpu", "cpuacct", "memory", "pids", "blkio", ...) -> hierarchy directory.
  std::map<std::string, std::string> v1;
  // Every v1 hierarchy directory (including ones such as devices, freezer, name=systemd, which
  // the runtime populates with the session's path too).
  std::vector<std::string> v1_hierarchies;
  // The cgroup2 directory (the root itself in kV2, <root>/unified in kHybrid), and the
  // controllers it offers (its cgroup.controllers).
  std::string v2_dir;
  std::vector<std::string> v2_controllers;
};

// Inspects `root` (normally /sys/fs/cgroup). v2 when <root>/cgroup.controllers exists; otherwise
// every subdirectory is a v1 hierarchy named after its controllers ("cpu,cpuacct" serves both),
// and <root>/unified with a cgroup.controllers file makes it hybrid. Fails when a controller
// needed for metering (cpu, cpuacct, memory, pids) is missing.
Result<CgroupLayout> detect_cgroup_layout(const std::string& root);

// What the session cgroup enforces (the container's own cgroup gets the same from the runtime).
struct CgroupLimits {
  int64_t memory_bytes = 0;  // 0: no limit
  int64_t cpu_quota_us = 0;  // per cpu_period_us; 0: no limit
  int64_t cpu_period_us = 100000;
  int64_t pids = 0;  // 0: no limit
  // "major:minor" of the disk the session writes to; v1 gets a huge throttle rule on it so that
  // blkio counts bytes (without a rule v1 throttle stats stay 0). Empty: none.
  std::string block_device;
};

// Creates "<rel>" (e.g. "xop/<id>") in every relevant hierarchy and applies the limits. For v2 it
// enables +cpu +memory +pids +io down the path. Idempotent.
Status create_session_cgroup(const CgroupLayout& layout, const std::string& rel, const CgroupLimits& limits);

// Sets the CFS quota of the cgroup "<rel>" (v1 cpu.cfs_period_us + cpu.cfs_quota_us, v2
// cpu.max). The runc driver applies a session's quota this way once its runtime finished setting
// the container up, so that a tiny reservation does not throttle the runtime itself.
Status set_cgroup_cpu_quota(const CgroupLayout& layout, const std::string& rel, int64_t quota_us, int64_t period_us);

// Cumulative counters of the session cgroup (includes its exited children).
struct CgroupUsage {
  int64_t cpu_ns = 0;
  int64_t memory_bytes = 0;  // current level
  int64_t disk_bytes = 0;    // read + written
  std::string io_text;       // the file disk_bytes came from (v1 blkio recursive, v2 io.stat), for the read part
};
// kNotFound when the session cgroup does not exist.
Result<CgroupUsage> read_session_usage(const CgroupLayout& layout, const std::string& rel);

// Removes "<rel>/ctr" (if the runtime left it) and "<rel>" in every hierarchy, retrying while the
// kernel still reports the cgroup busy, until `deadline`. Idempotent.
Status remove_session_cgroup(const CgroupLayout& layout, const std::string& rel, std::chrono::milliseconds deadline);

// Removes the directory "<parent>" from every hierarchy where it is empty; one still holding
// sessions (e.g. left running for re-adoption) stays. Never fails: a best-effort tidy-up.
void remove_parent_cgroup_if_empty(const CgroupLayout& layout, const std::string& parent);

// "major:minor" of the whole disk holding `path` (partitions resolved to their disk), or empty
// when it is not on a block device.
std::string block_device_of(const std::string& path);

// Pure parsers of cgroup counter files (exposed for tests).
Result<int64_t> parse_cgroup_int(std::string_view text);           // "123\n"; "max" is an error
Result<int64_t> parse_v1_blkio_total(std::string_view text);       // the "Total N" line
Result<int64_t> parse_v2_cpu_usage_ns(std::string_view cpu_stat);  // usage_usec * 1000
Result<int64_t> parse_v2_io_bytes(std::string_view io_stat);       // sum of rbytes + wbytes

}  // namespace xop
