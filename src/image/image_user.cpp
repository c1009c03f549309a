#include "image/image_user.h"

#include <algorithm>

namespace xop {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// Strict decimal in 0..kMaxImageId: digits only, no sign, no spaces.
std::optional<uint32_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > kMaxImageId) return std::nullopt;
  return static_cast<uint32_t>(v);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status validate_part(std::string_view part, const char* what) {
  if (part.empty()) return invalid(std::string("image config User: empty ") + what);
  if (all_digits(part)) {
    if (!parse_id(part)) return invalid(std::string("image config User: ") + what + " id out of range 0..2147483647");
    return ok_status();
  }
  if (part[0] == '-') return invalid(std::string("image config User: ") + what + " name must not start with '-'");
  for (char c : part) {
    if (!is_name_char(c)) return invalid(std::string("image config User: ") + what + " name has a bad character");
  }
  return ok_status();
}

// Calls f(fields) for each well-formed line of a colon-separated account file: at most
// kMaxAccountFileBytes are looked at, lines longer than kMaxAccountLineLen, with NUL bytes or
// with fewer than `min_fields` fields are skipped.
template <typename F>
void for_each_entry(std::string_view text, size_t min_fields, F&& f) {
  if (text.size() > kMaxAccountFileBytes) text = text.substr(0, kMaxAccountFileBytes);
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.size() > kMaxAccountLineLen || line.find('\0') != std::string_view::npos) continue;
    std::vector<std::string_view> fields;
    while (true) {
      const size_t c = line.find(':');
      fields.push_back(line.substr(0, c));
      if (c == std::string_view::npos) break;
      line = line.substr(c + 1);
    }
    if (fields.size() < min_fields || fields[0].empty()) continue;
    if (!f(fields)) return;
  }
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;  // "" when the entry has no home field
};

// The first entry whose name (by_name) or uid matches; entries with bad ids are skipped.
std::optional<PasswdEntry> find_passwd(std::string_view text, std::string_view name, std::optional<uint32_t> uid) {
  std::optional<PasswdEntry> found;
  for_each_entry(text, 4, [&](const std::vector<std::string_view>& f) {
    auto u = parse_id(f[2]);
    auto g = parse_id(f[3]);
    if (!u || !g) return true;
    if (uid ? *u == *uid : f[0] == name) {
      found = PasswdEntry{std::string(f[0]), *u, *g, f.size() > 5 ? std::string(f[5]) : std::string()};
      return false;
    }
    return true;
  });
  return found;
}

}  // namespace

Status validate_image_user(std::string_view user) {
  if (user.empty()) return ok_status();
  if (user.size() > kMaxImageUserLen) {
    return invalid("image config User: longer than " + std::to_string(kMaxImageUserLen) + " characters");
  }
  const size_t colon = user.find(':');
  XOP_RETURN_IF_ERROR(validate_part(user.substr(0, colon), "user"));
  if (colon != std::string_view::npos) XOP_RETURN_IF_ERROR(validate_part(user.substr(colon + 1), "group"));
  return ok_status();
}

Result<ImageUser> resolve_image_user(std::string_view user, const std::optional<std::string>& passwd,
                                     const std::optional<std::string>& group) {
  XOP_RETURN_IF_ERROR(validate_image_user(user));
  ImageUser out;
  if (user.empty()) return out;
  const size_t colon = user.find(':');
  const std::string_view upart = user.substr(0, colon);
  const std::optional<std::string_view> gpart =
      colon == std::string_view::npos ? std::nullopt : std::optional(user.substr(colon + 1));
  const std::string quoted = "image config User \"" + std::string(user) + "\": ";

  std::optional<PasswdEntry> entry;
  if (auto uid = parse_id(upart)) {
    out.uid = *uid;
    if (passwd) entry = find_passwd(*passwd, {}, uid);
  } else {
    if (!passwd) return invalid(quoted + "the image has no /etc/passwd to look up user \"" + std::string(upart) + "\"");
    entry = find_passwd(*passwd, upart, std::nullopt);
    if (!entry) return invalid(quoted + "no user \"" + std::string(upart) + "\" in the image's /etc/passwd");
    out.uid = entry->uid;
  }
  if (entry) out.gid = entry->gid;

  if (gpart) {
    if (auto gid = parse_id(*gpart)) {
      out.gid = *gid;
    } else {
      if (!group) {
        return invalid(quoted + "the image has no /etc/group to look up group \"" + std::string(*gpart) + "\"");
      }
      std::optional<uint32_t> found;
      for_each_entry(*group, 3, [&](const std::vector<std::string_view>& f) {
        auto g = parse_id(f[2]);
        if (g && f[0] == *gpart) {
          found = *g;
          return false;
        }
        return true;
      });
      if (!found) return invalid(quoted + "no group \"" + std::string(*gpart) + "\" in the image's /etc/group");
      out.gid = *found;
    }
  }

  if (entry && group) {
    for_each_entry(*group, 4, [&](const std::vector<std::string_view>& f) {
      auto g = parse_id(f[2]);
      if (!g || *g == out.gid) return true;
      std::string_view members = f[3];
      while (!members.empty()) {
        const size_t comma = members.find(',');
        if (members.substr(0, comma) == entry->name) {
          out.additional_gids.push_back(*g);
          break;
        }
        members = comma == std::string_view::npos ? std::string_view{} : members.substr(comma + 1);
      }
      return out.additional_gids.size() < kMaxAdditionalGids;
    });
    std::sort(out.additional_gids.begin(), out.additional_gids.end());
    out.additional_gids.erase(std::unique(out.additional_gids.begin(), out.additional_gids.end()),
                              out.additional_gids.end());
  }
  return out;
}

std::string resolve_image_home(std::string_view user, const std::optional<std::string>& passwd) {
  if (!passwd) return "/";
  const std::string_view upart = user.substr(0, user.find(':'));
  std::optional<PasswdEntry> entry;
  if (upart.empty()) {
    entry = find_passwd(*passwd, {}, 0);
  } else if (auto uid = parse_id(upart)) {
    entry = find_passwd(*passwd, {}, uid);
  } else {
    entry = find_passwd(*passwd, upart, std::nullopt);
  }
  if (!entry || entry->home.empty() || entry->home[0] != '/') return "/";
  return entry->home;
}

}  // namespace xop
