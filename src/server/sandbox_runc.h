// The runc/crun driver's checked constructor. make_runc_sandbox() (sandbox.h) wraps it and, on
// error, returns a driver whose every call fails with that error; callers that want the error up
// front (the server at start-up) use this.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "server/cgroup.h"
#include "server/sandbox.h"

namespace xop {

// Detects the cgroup layout under opts.cgroup_root and refuses combinations that cannot work (crun
// on a hybrid host whose cgroup2 mount has controllers; a cgroup_parent with "..").
Result<std::unique_ptr<Sandbox>> open_runc_sandbox(RuncOptions opts);

// Empty when `runtime` (runc, crun, or a path to one) accepts the cgroup `layout`; otherwise why
// not, naming the fix (crun 1.8 refuses a hybrid host whose cgroup2 mount holds controllers).
std::string runtime_layout_refusal(const std::string& runtime, const CgroupLayout& layout);

// The "oom_kill N" line of a v1 memory.oom_control or a v2 memory.events file (0 when absent,
// as on kernels before 4.13).
Result<int64_t> parse_oom_kill_count(std::string_view text);

// The bytes read in a v1 blkio.throttle.io_service_bytes_recursive ("M:m Read N" lines) or a v2
// io.stat ("rbytes=N" fields) file.
Result<int64_t> parse_disk_read_bytes(std::string_view text);

}  // namespace xop
