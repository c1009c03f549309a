// Resource vectors: what a session reserves and what it used. Plain integers, units in the
// field names. Reservation and usage are distinct types so they cannot be confused.
#pragma once

#include <cstdint>
#include <optional>

#include "core/json_reader.h"
#include "core/schema.h"

namespace xop {

// What is reserved (a capacity held for the session's lifetime).
struct Resources {
  int64_t cpu_millis = 0;  // milli-cores
  int64_t memory_bytes = 0;
  int64_t disk_bytes = 0;
  int64_t net_bps = 0;  // bits per second

  friend bool operator==(const Resources&, const Resources&) = default;
  // True when every component of *this is >= the one in `o`.
  [[nodiscard]] bool covers(const Resources& o) const;
  // Component-wise sum/difference; nullopt on overflow.
  [[nodiscard]] std::optional<Resources> plus(const Resources& o) const;
  [[nodiscard]] std::optional<Resources> minus(const Resources& o) const;
  [[nodiscard]] bool any_negative() const;
};

// What was used over an interval (counters, not levels).
struct Usage {
  int64_t cpu_ns = 0;               // CPU time
  int64_t memory_byte_seconds = 0;  // integral of resident memory over time
  int64_t disk_bytes = 0;           // bytes read + written
  int64_t net_bytes = 0;            // bytes sent + received

  friend bool operator==(const Usage&, const Usage&) = default;
  [[nodiscard]] std::optional<Usage> plus(const Usage& o) const;
};

// The wire forms (docs/formats.md): every field an integer; a Resources field may be absent (0).
const Schema<Resources>& resources_schema();
const Schema<Usage>& usage_schema();
Json to_json(const Resources& r);
Result<Resources> resources_from_json(const Json& j, const std::string& where);
Json to_json(const Usage& u);
Result<Usage> usage_from_json(const Json& j, const std::string& where);

}  // namespace xop
