// Strict reading of JSON objects from outside input. A JsonReader reads typed fields from one
// object, remembers the first problem (missing field, wrong type, out of range) and, at
// finish(), also refuses any field it was not asked about. Errors name the full field path,
// e.g. "manifest.resources.cpu_millis: expected an integer".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace xop {

using Json = nlohmann::json;

// Parses text as JSON with a nesting-depth limit; never throws.
Result<Json> parse_json(std::string_view text, size_t max_depth = 32);

class JsonReader {
 public:
  // `where` names the object in error messages.
  JsonReader(const Json& j, std::string where);

  std::string str(const char* key, size_t max_len = 4096);
  std::optional<std::string> opt_str(const char* key, size_t max_len = 4096);
  int64_t i64(const char* key, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  std::optional<int64_t> opt_i64(const char* key, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  bool boolean(const char* key);
  std::optional<bool> opt_bool(const char* key);
  double number(const char* key, double min, double max);
  // The raw value of an object field (must be an object).
  const Json& object(const char* key);
  const Json* opt_object(const char* key);
  // The raw value of an array field, with a length cap.
  const Json& array(const char* key, size_t max_len);
  std::vector<std::string> str_array(const char* key, size_t max_len, size_t max_item_len = 4096);

  // A nested reader's error, folded into this one.
  void absorb(const Status& s);
  void fail(const std::string& key, const std::string& what);
  [[nodiscard]] std::string path(const std::string& key) const { return where_ + "." + key; }

  [[nodiscard]] bool ok() const { return !error_.has_value(); }
  // Reports the first error, or an unknown-field error, or success.
  Status finish();

 private:
  const Json* field(const char* key, bool required);

  const Json& j_;
  std::string where_;
  std::vector<std::string> seen_;
  std::optional<Error> error_;
  static const Json kEmptyObject;
  static const Json kEmptyArray;
};

}  // namespace xop
