// The country-to-country RTT dataset (data/rtt/country_rtt.csv; data/rtt/README.md): a strict
// parser of its CSV text. Pure: it reads a string the caller has loaded (bounded by
// kMaxRttCsvBytes), never a file.
//
// Contract of parse_rtt_csv():
//  - The text is ASCII, lines end in "\n" (a "\r\n" is accepted), the first line is exactly the
//    header `cty1,cty2,rtt_cnt,rtt_avg,rtt_std,rtt_min,rtt_max`, every other line has exactly
//    seven comma-separated fields, no quotes, no spaces; an empty last line is allowed, no other.
//  - cty1/cty2 are ISO 3166 alpha-2 codes ([A-Z]{2}) or one of the source's placeholders for an
//    address it could not place ("None", "Unknown"); rows naming a placeholder are counted in
//    `unplaced_rows` and not kept.
//  - rtt_cnt is a decimal integer in [1, 1e12]; the times are plain decimals (digits, one '.',
//    an optional exponent such as e-05 or e+06; no sign, NaN, infinity or hex): rtt_avg and rtt_min in
//    [0, kMaxRttCsvMs], rtt_std and rtt_max (raw extremes: the source has maxima of an hour) in
//    [0, kMaxRttCsvRawMs]; rtt_std is empty
//    only when rtt_cnt is 1 (then 0); rtt_min <= rtt_avg <= rtt_max within float rounding.
//  - A row whose two codes are equal is the intra-country RTT of that country (`self`); every
//    other row is a pair. An unordered pair (or a country's self row) listed twice is an error.
//  - Any violation fails the whole parse with the 1-based line number and what is wrong; at
//    most kMaxRttCsvRows data rows and kMaxRttCsvLine bytes per line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace xop {

inline constexpr size_t kMaxRttCsvBytes = size_t{8} * 1024 * 1024;
inline constexpr size_t kMaxRttCsvRows = 200'000;
inline constexpr size_t kMaxRttCsvLine = 256;
inline constexpr double kMaxRttCsvMs = 100'000;
inline constexpr double kMaxRttCsvRawMs = 100'000'000;

struct RttRow {
  std::string a;  // cty1
  std::string b;  // cty2
  int64_t count = 0;
  double avg_ms = 0;
  double std_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
};

struct RttDataset {
  std::vector<RttRow> pairs;  // a != b, in file order
  std::vector<RttRow> self;   // a == b: intra-country measurements
  size_t unplaced_rows = 0;   // rows naming "None" or "Unknown"
};

Result<RttDataset> parse_rtt_csv(std::string_view text);

}  // namespace xop
