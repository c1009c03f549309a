// The runc/crun driver's checked constructor. make_runc_sandbox() (sandbox.h) wraps it and, on
// error, returns a driver whose every call fails with that error; callers that want the error up
// front (the server at start-up) use this.
#pragma once

#include <memory>

#include "core/result.h"
#include "server/sandbox.h"

namespace xop {

// Detects the cgroup layout under opts.cgroup_root and refuses combinations that cannot work (crun
// on a hybrid host whose cgroup2 mount has controllers; a cgroup_parent with "..").
Result<std::unique_ptr<Sandbox>> open_runc_sandbox(RuncOptions opts);

}  // namespace xop
