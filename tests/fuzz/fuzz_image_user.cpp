// Fuzzes the image User resolver over hostile /etc/passwd and /etc/group files. Input: the User
// string, a NUL, the passwd file, a NUL, the group file (a missing part is an absent file). It
// must return a value or an error, never crash, and what it resolves must keep its invariants.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "image/image_user.h"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // The next NUL-terminated part; nullopt once the input is used up.
  auto take = [&]() -> std::optional<std::string> {
    if (in.empty()) return std::nullopt;
    const size_t nul = in.find('\0');
    std::string part(in.substr(0, nul));
    in = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);
    return part;
  };
  const std::string user = take().value_or("");
  const auto passwd = take();
  const auto group = take();
  auto u = xop::resolve_image_user(user, passwd, group);
  if (u) {
    check(xop::validate_image_user(user).has_value());
    check(u->uid <= xop::kMaxImageId && u->gid <= xop::kMaxImageId);
    check(u->additional_gids.size() <= xop::kMaxAdditionalGids);
    check(std::is_sorted(u->additional_gids.begin(), u->additional_gids.end()));
    check(std::adjacent_find(u->additional_gids.begin(), u->additional_gids.end()) == u->additional_gids.end());
    for (uint32_t g : u->additional_gids) check(g <= xop::kMaxImageId && g != u->gid);
    if (user.empty()) check(u->uid == 0 && u->gid == 0 && u->additional_gids.empty());
    // HOME is an absolute path fit for an environment entry.
    const std::string home = xop::resolve_image_home(user, passwd);
    check(!home.empty() && home[0] == '/' && home.size() <= xop::kMaxAccountLineLen);
    check(home.find('\0') == std::string::npos && home.find('\n') == std::string::npos);
  }
  return 0;
}
