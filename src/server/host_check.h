// What this host offers a XenoServer, detected rather than assumed: the OCI runtimes and whether
// each works with the host's cgroup layout, session disks, the session network, pidfds and user
// namespaces. `xop server --check` prints it; start-up uses runtime_unavailable_reason() and
// choose_runtime() to pick the sandbox driver (runtime = "auto").
#pragma once

#include <string>
#include <vector>

#include "server/cgroup.h"
#include "server/server_config.h"

namespace xop {

// Empty when `runtime` ("runc", "crun", or a path to one) can run sessions on a host with
// `layout`; otherwise why not: not installed, or crun on a hybrid host whose cgroup2 mount holds
// controllers (crun 1.8 refuses that layout; the fix is named).
std::string runtime_unavailable_reason(const std::string& runtime, const CgroupLayout& layout);

// The runtime a server configured with `configured` uses: itself unless it is "auto", which
// takes crun when it works here (it starts containers about twice as fast), else runc. `why`
// (optional) gets a sentence for the log.
std::string choose_runtime(const std::string& configured, const CgroupLayout& layout, std::string* why = nullptr);

struct HostCheck {
  std::string name;    // e.g. "runtime runc"
  bool ok = false;     // available
  bool needed = true;  // false: optional (the server runs without it, with less)
  std::string detail;  // what was found, or why not
};

// Every check, in the order `xop server --check` prints them; `cfg` says which runtime and
// network are configured (what "needed" means).
std::vector<HostCheck> check_host(const ServerConfig& cfg);

// True when every needed check passed.
bool host_ready(const std::vector<HostCheck>& checks);

}  // namespace xop
