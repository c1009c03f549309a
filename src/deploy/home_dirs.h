// Where the CLI keeps a profile's files. A profile (a "context", as kubectl calls it) is one
// platform a user talks to: its own key, config.toml, session records and cache.
//
//   config  key.json, config.toml, dev-admin.json   $XDG_CONFIG_HOME/xop  (default ~/.config/xop)
//   state   sessions.json                           $XDG_STATE_HOME/xop   (default ~/.local/state/xop)
//   cache   scratch/ (image unpacking)              $XDG_CACHE_HOME/xop   (default ~/.cache/xop)
//
// Profile "default" uses those directories; any other profile NAME uses <dir>/profiles/NAME in
// each. --home DIR or $XOP_HOME puts everything of the default profile in DIR (and of profile
// NAME in DIR/profiles/NAME). A default-profile home from before the XDG layout (sessions.json
// in the config directory) keeps its state there.
#pragma once

#include <string>

#include "core/result.h"

namespace xop {

inline constexpr const char* kDefaultProfile = "default";

struct HomeDirs {
  std::string profile = kDefaultProfile;
  std::string config;
  std::string state;
  std::string cache;
  // All in one directory (--home, $XOP_HOME, or tests).
  static HomeDirs single(const std::string& dir, const std::string& profile = kDefaultProfile);
};

// Profile names are 1 to 64 of [A-Za-z0-9_.-], not starting with '.'.
Status check_profile_name(const std::string& name);

// The directories of `profile` (empty: "default"): in `home` when it is not empty, else in
// $XOP_HOME when set, else under the XDG base directories ($HOME when they are unset).
Result<HomeDirs> resolve_home_dirs(const std::string& home, const std::string& profile);

// The directories of `profile` next to those of `of` (the same --home, $XOP_HOME or XDG bases),
// e.g. the profile "dev-owner" that `xop dev` writes beside its own.
Result<HomeDirs> sibling_profile_dirs(const HomeDirs& of, const std::string& profile);

}  // namespace xop
