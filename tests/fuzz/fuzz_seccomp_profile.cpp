// Fuzz target: the seccomp profile parser (server/seccomp_profile.h) on arbitrary bytes. An
// accepted profile must be an allow list of the shape the bundle embeds: a non-allowing default
// action, known architectures, rules with valid names and at most 6 conditions, execve allowed,
// no comment left; and parsing its own output gives the same document.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/seccomp_profile.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto p = xop::parse_seccomp_profile(in);
  if (!p) {
    check(!p.error().message.empty());
    return 0;
  }
  check(in.size() <= xop::kMaxSeccompProfileBytes);
  check(p->is_object() && !p->contains("comment"));
  const std::string def = (*p)["defaultAction"].get<std::string>();
  check(def != "SCMP_ACT_ALLOW" && def != "SCMP_ACT_LOG");
  check((*p)["architectures"].is_array() && !(*p)["architectures"].empty());
  check((*p)["syscalls"].is_array() && !(*p)["syscalls"].empty() && (*p)["syscalls"].size() <= 512);
  bool execve = false;
  for (const auto& r : (*p)["syscalls"]) {
    check(!r.contains("comment") && r["names"].is_array() && !r["names"].empty());
    for (const auto& n : r["names"]) {
      const std::string& s = n.get_ref<const std::string&>();
      check(!s.empty() && s.size() <= 64 &&
            s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
      if (s == "execve" && r["action"] == "SCMP_ACT_ALLOW" && !r.contains("args")) execve = true;
    }
    if (r.contains("args")) {
      check(r["args"].size() <= 6);
      for (const auto& a : r["args"]) check(a["index"].get<int64_t>() >= 0 && a["index"].get<int64_t>() <= 5);
    }
  }
  check(execve);
  auto again = xop::parse_seccomp_profile(p->dump());
  check(again && *again == *p);
  return 0;
}
