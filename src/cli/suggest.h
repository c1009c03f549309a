// "Did you mean ...?" for mistyped verbs and flags.
#pragma once

#include <string>
#include <vector>

namespace xop {

// The candidate closest to `word` (edit distance, counting a swap of two neighbours as one), or
// empty when none is close: within 1 edit for words up to 4 characters, 2 for longer ones. A
// candidate that starts with `word` (at least 2 characters) also counts as close. Ties go to the
// earlier candidate.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace xop
