// What `xop server --check` reports: whether this host can run real sessions, and how they are
// confined here (docs/operating.md "Host requirements" and "Sandbox hardening").
//
// Contract: check_host() only reads (files under /proc and /sys, `<runtime> --version`); it
// creates nothing. Each item says whether it is required for real sessions; a host passes when
// every required item is ok.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/server_config.h"

namespace xop {

struct HostCheckItem {
  std::string name;  // "runtime", "cgroups", "seccomp", "user namespaces", ...
  bool ok = false;
  bool required = true;
  std::string detail;
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

std::vector<HostCheckItem> check_host(const ServerConfig& cfg);

}  // namespace xop
