// The user an image's config names ("User": "uid", "uid:gid", "name", "name:group", "uid:group",
// ...) resolved to numeric ids with the image's own /etc/passwd and /etc/group, as docker and
// runc resolve it. Pure functions of their input: the files come from a hostile image, so lines
// are length-capped, malformed lines are skipped (never matched), numbers are strict decimal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace xop {

inline constexpr size_t kMaxImageUserLen = 256;           // the User string of an image config
inline constexpr size_t kMaxAccountFileBytes = 1u << 20;  // /etc/passwd, /etc/group: read at most this
inline constexpr size_t kMaxAccountLineLen = 4096;        // longer lines are skipped
inline constexpr uint32_t kMaxImageId = 0x7fffffff;       // uids and gids are 0..2^31-1
inline constexpr size_t kMaxAdditionalGids = 64;          // supplementary groups kept

struct ImageUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;  // groups of /etc/group listing the user by name, ascending, no gid
  bool operator==(const ImageUser&) const = default;
};

// Checks the syntax of a User string: empty (root), or USER[:GROUP] where each part is a decimal
// id in 0..kMaxImageId or a name of [A-Za-z0-9_.-] (not starting with '-'), at most
// kMaxImageUserLen characters in all.
Status validate_image_user(std::string_view user);

// Resolves `user` (validated as above). `passwd` and `group` are the image's files (nullopt:
// absent). A numeric user needs no passwd entry (its gid is then 0 unless GROUP says otherwise);
// a named user or group must exist in its file (kInvalidArgument naming it otherwise). Without
// GROUP the gid is the passwd entry's; supplementary groups are those whose member list names the
// user (only when the user has a passwd entry).
Result<ImageUser> resolve_image_user(std::string_view user, const std::optional<std::string>& passwd,
                                     const std::optional<std::string>& group);

// The HOME a workload running as `user` gets when its environment sets none, as runc and docker
// choose it: the home field of the passwd entry `user` resolves to (its name, or for a numeric
// user the first entry with that uid; empty `user` is uid 0), else "/". A home that is not an
// absolute path (or is longer than a line may be) counts as none. Never fails: call it after
// resolve_image_user succeeded.
std::string resolve_image_home(std::string_view user, const std::optional<std::string>& passwd);

}  // namespace xop
