// What this host offers a XenoServer, detected rather than assumed: the OCI runtimes and whether
// each works with the host's cgroup layout, the seccomp profile, session disks, the session
// network, pidfds and user namespaces. `xop server --check` prints it (docs/operating.md
// "Privileges and host requirements"); start-up uses runtime_unavailable_reason() and
// choose_runtime() to pick the sandbox driver (runtime = "auto").
//
// Contract: check_host() only reads (files under /proc and /sys, `<runtime> --version`); it
// creates nothing. Each item says whether it is needed for real sessions; a host is ready when
// every needed item is ok.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
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

// User namespaces for sessions (a session's root mapped to an unprivileged host id range).
struct UserNamespaceSupport {
  bool kernel = false;  // /proc/sys/user/max_user_namespaces > 0
  int64_t max_namespaces = 0;
  bool runtime_idmap = false;  // the runtime can id-map the rootfs mount (runc >= 1.2)
  bool used = false;           // sessions get one (never yet: see the detail)
  std::string detail;
};

// Pure: from the text of /proc/sys/user/max_user_namespaces (empty: the file is absent, a kernel
// without CONFIG_USER_NS) and the first line of `<runtime> --version` ("runc version 1.1.5+ds1").
UserNamespaceSupport user_namespace_support(std::string_view max_user_namespaces, std::string_view runtime_version);

// The runtime's "major.minor" from its --version text; {0, 0} when unreadable.
std::pair<int, int> runtime_version_of(std::string_view version_text);

// Every check, in the order `xop server --check` prints them; `cfg` says which runtime and
// network are configured (what "needed" means).
std::vector<HostCheck> check_host(const ServerConfig& cfg);

// True when every needed check passed.
bool host_ready(const std::vector<HostCheck>& checks);

}  // namespace xop
