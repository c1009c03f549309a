#include "deploy/home_dirs.h"

#include <cstdlib>
#include <filesystem>

namespace xop {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// An XDG base directory: the variable when it is an absolute path (the spec says relative ones
// are ignored), else $HOME + fallback.
std::string xdg(const char* var, const char* fallback) {
  const std::string v = env(var);
  if (!v.empty() && v.front() == '/') return v;
  const std::string home = env("HOME");
  return (home.empty() ? std::string(".") : home) + fallback;
}

std::string in_profile(const std::string& dir, const std::string& profile) {
  return profile == kDefaultProfile ? dir : dir + "/profiles/" + profile;
}
}  // namespace

HomeDirs HomeDirs::single(const std::string& dir, const std::string& profile) {
  const std::string d = in_profile(dir, profile);
  return HomeDirs{profile, d, d, d};
}

Status check_profile_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') {
    return invalid("profile name must be 1 to 64 letters, digits, '_', '-' or '.', not starting with '.'");
  }
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return invalid("profile name must be 1 to 64 letters, digits, '_', '-' or '.': \"" + name + "\"");
  }
  return {};
}

Result<HomeDirs> resolve_home_dirs(const std::string& home, const std::string& profile) {
  const std::string p = profile.empty() ? kDefaultProfile : profile;
  XOP_RETURN_IF_ERROR(check_profile_name(p));
  if (!home.empty()) return HomeDirs::single(home, p);
  if (const std::string h = env("XOP_HOME"); !h.empty()) return HomeDirs::single(h, p);
  HomeDirs d;
  d.profile = p;
  d.config = in_profile(xdg("XDG_CONFIG_HOME", "/.config") + "/xop", p);
  d.state = in_profile(xdg("XDG_STATE_HOME", "/.local/state") + "/xop", p);
  d.cache = in_profile(xdg("XDG_CACHE_HOME", "/.cache") + "/xop", p);
  // A home from before the XDG layout keeps its session records where they are.
  std::error_code ec;
  if (std::filesystem::exists(d.config + "/sessions.json", ec) &&
      !std::filesystem::exists(d.state + "/sessions.json", ec)) {
    d.state = d.config;
  }
  return d;
}

Result<HomeDirs> sibling_profile_dirs(const HomeDirs& of, const std::string& profile) {
  XOP_RETURN_IF_ERROR(check_profile_name(profile));
  // A profile's directory is its base's own (default) or <base>/profiles/NAME.
  const std::string suffix = "/profiles/" + of.profile;
  auto base = [&](const std::string& dir) {
    if (of.profile == kDefaultProfile || dir.size() < suffix.size() ||
        dir.compare(dir.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return dir;
    }
    return dir.substr(0, dir.size() - suffix.size());
  };
  return HomeDirs{profile, in_profile(base(of.config), profile), in_profile(base(of.state), profile),
                  in_profile(base(of.cache), profile)};
}

}  // namespace xop
