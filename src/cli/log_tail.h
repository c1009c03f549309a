// Helpers for `xop logs`: the last N lines, and what is new between two polls of a log window.
#pragma once

#include <string>

namespace xop {

// The last `n` lines of `text` (a final line without a newline counts); all of it when it has
// fewer; "" for n == 0.
std::string last_lines(const std::string& text, size_t n);

// The part of `next` that follows what `prev` showed, for polling a server that returns the tail
// of a growing log (at most a fixed window): `next` minus its longest prefix that is a suffix of
// `prev`. When nothing overlaps (more output than the window between polls) all of `next` is new.
std::string log_delta(const std::string& prev, const std::string& next);

}  // namespace xop
