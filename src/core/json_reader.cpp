#include "core/json_reader.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace xop {

const Json JsonReader::kEmptyObject = Json::object();
const Json JsonReader::kEmptyArray = Json::array();

Result<Json> parse_json(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool too_deep = false;
  // Duplicate keys are refused: parsers disagree on which one wins, and a signed or checked
  // document must mean one thing to every reader.
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto cb = [&](int /*depth*/, Json::parse_event_t ev, Json& parsed) {
    switch (ev) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case Json::parse_event_t::array_start:
        if (++depth > max_depth) too_deep = true;
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        [[fallthrough]];
      case Json::parse_event_t::array_end:
        --depth;
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return !too_deep;
  };
  Json j = Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (too_deep) return invalid("JSON nests deeper than " + std::to_string(max_depth) + " levels");
  if (j.is_discarded()) return invalid("body is not valid JSON");
  if (!duplicate.empty()) return invalid("JSON object has the key \"" + duplicate.substr(0, 64) + "\" twice");
  return j;
}

JsonReader::JsonReader(const Json& j, std::string where) : j_(j), where_(std::move(where)) {
  if (!j_.is_object()) error_ = Error{ErrorCode::kInvalidArgument, where_ + ": expected an object"};
}

void JsonReader::fail(const std::string& key, const std::string& what) {
  if (!error_) error_ = Error{ErrorCode::kInvalidArgument, path(key) + ": " + what};
}

void JsonReader::absorb(const Status& s) {
  if (!s && !error_) error_ = s.error();
}

const Json* JsonReader::field(const char* key, bool required) {
  if (error_) return nullptr;
  seen_.emplace_back(key);
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) {
    if (required) fail(key, "missing");
    return nullptr;
  }
  return &*it;
}

std::string JsonReader::str(const char* key, size_t max_len) {
  auto v = opt_str(key, max_len);
  if (!v && ok()) fail(key, "missing");
  return v.value_or("");
}

std::optional<std::string> JsonReader::opt_str(const char* key, size_t max_len) {
  const Json* v = field(key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail(key, "expected a string");
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_len) {
    fail(key, "longer than " + std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  return s;
}

int64_t JsonReader::i64(const char* key, int64_t min, int64_t max) {
  auto v = opt_i64(key, min, max);
  if (!v && ok()) fail(key, "missing");
  return v.value_or(0);
}

std::optional<int64_t> JsonReader::opt_i64(const char* key, int64_t min, int64_t max) {
  const Json* v = field(key, false);
  if (v == nullptr) return std::nullopt;
  int64_t x = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      fail(key, "integer out of range");
      return std::nullopt;
    }
    x = v->get<int64_t>();
  } else {
    fail(key, "expected an integer");
    return std::nullopt;
  }
  if (x < min || x > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return x;
}

bool JsonReader::boolean(const char* key) {
  auto v = opt_bool(key);
  if (!v && ok()) fail(key, "missing");
  return v.value_or(false);
}

std::optional<bool> JsonReader::opt_bool(const char* key) {
  const Json* v = field(key, false);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail(key, "expected true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

double JsonReader::number(const char* key, double min, double max) {
  const Json* v = field(key, true);
  if (v == nullptr) return 0;
  if (!v->is_number()) {
    fail(key, "expected a number");
    return 0;
  }
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return 0;
  }
  return d;
}

const Json& JsonReader::object(const char* key) {
  const Json* v = field(key, true);
  if (v == nullptr) return kEmptyObject;
  if (!v->is_object()) {
    fail(key, "expected an object");
    return kEmptyObject;
  }
  return *v;
}

const Json* JsonReader::opt_object(const char* key) {
  const Json* v = field(key, false);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    fail(key, "expected an object");
    return nullptr;
  }
  return v;
}

const Json& JsonReader::array(const char* key, size_t max_len) {
  const Json* v = field(key, true);
  if (v == nullptr) return kEmptyArray;
  if (!v->is_array()) {
    fail(key, "expected an array");
    return kEmptyArray;
  }
  if (v->size() > max_len) {
    fail(key, "more than " + std::to_string(max_len) + " items");
    return kEmptyArray;
  }
  return *v;
}

std::vector<std::string> JsonReader::str_array(const char* key, size_t max_len, size_t max_item_len) {
  std::vector<std::string> out;
  const Json* v = field(key, false);
  if (v == nullptr) return out;
  if (!v->is_array()) {
    fail(key, "expected an array of strings");
    return out;
  }
  if (v->size() > max_len) {
    fail(key, "more than " + std::to_string(max_len) + " items");
    return out;
  }
  for (const auto& e : *v) {
    if (!e.is_string() || e.get_ref<const std::string&>().size() > max_item_len) {
      fail(key, "expected strings of at most " + std::to_string(max_item_len) + " characters");
      return {};
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

Status JsonReader::finish() {
  if (error_) return tl::make_unexpected(*error_);
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (std::find(seen_.begin(), seen_.end(), it.key()) == seen_.end()) {
      return invalid(path(it.key()) + ": unknown field");
    }
  }
  return {};
}

}  // namespace xop
