// The one syntax for quantities that people type and read: sizes with units and amounts of
// credits. Every parser of human input (manifests, daemon config files, flags) uses these, so
// "64MiB" and "0.10" mean the same everywhere. Integer micro-credits appear only on the wire and
// in JSON fields named `*_micros`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/money.h"
#include "core/result.h"

namespace xop {

// A size in bytes: plain digits are bytes ("4096"); otherwise a number and a unit, optionally
// separated by one space: B, KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024),
// case-insensitive ("64MiB", "1 GiB", "10mb"). A decimal fraction is allowed with a unit when the
// result is a whole number of bytes ("1.5GiB", not "0.3B"). Errors (invalid_argument) on empty
// input, a sign, junk, more than one point, an unknown unit and a value above INT64_MAX bytes.
Result<int64_t> parse_size(std::string_view text);

// A size for people and for config files: the largest binary unit that divides it exactly
// ("64MiB", "1GiB", "1536KiB", "100B"), so parse_size(format_size(n)) == n for every n >= 0.
// Negative values print as "-" + the magnitude's form.
std::string format_size(int64_t bytes);
// An approximate size for tables: one decimal in the largest binary unit below it ("1.5GiB",
// "64MiB", "512B"). Not for round trips.
std::string format_size_approx(int64_t bytes);

// An amount of credits typed by a person: a non-negative decimal number with at most six
// decimals ("10", "0.10", "2.5", ".5" is refused: digits are needed before the point). Errors on
// empty input, a sign, junk, more than one point, more than six decimals and overflow.
Result<Money> parse_credits(std::string_view text);

// An amount of credits for people: at least two decimals, more only when needed ("0.10",
// "25.00", "1.234567", "-0.50"). parse_credits(format_credits(m)) == m for every m >= 0.
std::string format_credits(Money m);

}  // namespace xop
