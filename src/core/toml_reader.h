// Typed reading of TOML configuration: like JsonReader, it refuses unknown keys, wrong types and
// out-of-range values, naming the full key path in the error.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace xop {

// Parses TOML text (errors carry line and column).
Result<toml::table> parse_toml(std::string_view text, const std::string& source_name);
// Reads and parses a file (at most 1 MiB).
Result<toml::table> load_toml_file(const std::string& path);

class TomlReader {
 public:
  TomlReader(const toml::table& t, std::string where);

  std::optional<std::string> opt_str(const char* key);
  std::optional<int64_t> opt_i64(const char* key, int64_t min, int64_t max);
  std::optional<double> opt_double(const char* key, double min, double max);
  std::optional<bool> opt_bool(const char* key);
  // A sub-table; nullptr when absent.
  const toml::table* opt_table(const char* key);
  void absorb(const Status& s);
  Status finish();

 private:
  void fail(const std::string& key, const std::string& what);
  const toml::node* field(const char* key);

  const toml::table& t_;
  std::string where_;
  std::vector<std::string> seen_;
  std::optional<Error> error_;
};

}  // namespace xop
