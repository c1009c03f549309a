#include "core/toml_reader.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/file_util.h"

namespace xop {

Result<toml::table> parse_toml(std::string_view text, const std::string& source_name) {
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return invalid(source_name + ":" + std::to_string(e.source().begin.line) + ":" +
                   std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
}

Result<toml::table> load_toml_file(const std::string& path) {
  auto text = read_file_capped(path, 1 << 20);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound)
      return make_error(ErrorCode::kNotFound, "cannot read config file " + path);
    return invalid(path + ": config file larger than 1 MiB");
  }
  return parse_toml(*text, path);
}

TomlReader::TomlReader(const toml::table& t, std::string where) : t_(t), where_(std::move(where)) {}

void TomlReader::fail(const std::string& key, const std::string& what) {
  if (!error_) error_ = Error{ErrorCode::kInvalidArgument, where_ + "." + key + ": " + what};
}
void TomlReader::absorb(const Status& s) {
  if (!s && !error_) error_ = s.error();
}

const toml::node* TomlReader::field(const char* key) {
  seen_.emplace_back(key);
  if (error_) return nullptr;
  return t_.get(key);
}

std::optional<std::string> TomlReader::opt_str(const char* key) {
  const auto* n = field(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_string()) {
    fail(key, "expected a string");
    return std::nullopt;
  }
  return n->as_string()->get();
}

std::optional<int64_t> TomlReader::opt_i64(const char* key, int64_t min, int64_t max) {
  const auto* n = field(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_integer()) {
    fail(key, "expected an integer");
    return std::nullopt;
  }
  const int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> TomlReader::opt_double(const char* key, double min, double max) {
  const auto* n = field(key);
  if (n == nullptr) return std::nullopt;
  double v = 0;
  if (n->is_floating_point()) {
    v = n->as_floating_point()->get();
  } else if (n->is_integer()) {
    v = static_cast<double>(n->as_integer()->get());
  } else {
    fail(key, "expected a number");
    return std::nullopt;
  }
  if (!std::isfinite(v) || v < min || v > max) {
    fail(key, "out of range");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> TomlReader::opt_bool(const char* key) {
  const auto* n = field(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_boolean()) {
    fail(key, "expected true or false");
    return std::nullopt;
  }
  return n->as_boolean()->get();
}

const toml::table* TomlReader::opt_table(const char* key) {
  const auto* n = field(key);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) {
    fail(key, "expected a table");
    return nullptr;
  }
  return n->as_table();
}

Status TomlReader::finish() {
  if (error_) return tl::make_unexpected(*error_);
  for (const auto& [k, v] : t_) {
    const std::string key(k.str());
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end()) {
      return invalid(where_ + "." + key + ": unknown key");
    }
  }
  return {};
}

}  // namespace xop
