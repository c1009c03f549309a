// Short, prefix-matched ids, as docker and nomad take them: a session may be named by any
// prefix of its id that no other id shares.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace xop {

// How many characters of an id tables show ("s" and 11 hex digits of 32).
inline constexpr size_t kShortIdLength = 12;
// The first kShortIdLength characters of `id`.
std::string short_id(const std::string& id);

// The index in `ids` of the one id that `prefix` names: an exact match wins; otherwise the only
// id that starts with `prefix`. Errors: invalid_argument for an empty prefix, not_found when no
// id starts with it, invalid_argument "ambiguous" listing the candidates (short form, at most 10)
// when several do. Duplicate ids in `ids` count once (the first index).
Result<size_t> match_id(const std::vector<std::string>& ids, const std::string& prefix);

}  // namespace xop
