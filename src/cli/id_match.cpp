#include "cli/id_match.h"

#include <set>

namespace xop {

std::string short_id(const std::string& id) { return id.substr(0, kShortIdLength); }

Result<size_t> match_id(const std::vector<std::string>& ids, const std::string& prefix) {
  if (prefix.empty()) return invalid("an empty session id");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == prefix) return i;
  }
  std::vector<size_t> hits;
  std::set<std::string> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].starts_with(prefix) && seen.insert(ids[i]).second) hits.push_back(i);
  }
  if (hits.empty()) return make_error(ErrorCode::kNotFound, "no session " + prefix + " (see `xop sessions -a`)");
  if (hits.size() == 1) return hits.front();
  std::string list;
  for (size_t k = 0; k < hits.size() && k < 10; ++k) list += (k == 0 ? "" : ", ") + ids[hits[k]];
  if (hits.size() > 10) list += ", ...";
  return invalid("session id " + prefix + " is ambiguous: " + std::to_string(hits.size()) +
                 " sessions start with it (" + list + "); give more characters");
}

}  // namespace xop
