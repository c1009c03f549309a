#include "core/config_table.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "core/money.h"
#include "core/units.h"

namespace xop {
namespace {

std::string flag_of(const std::string& key) {
  std::string f = "--" + key;
  for (char& ch : f) {
    if (ch == '.' || ch == '_') ch = '-';
  }
  return f;
}

// Digits then an optional unit from `units`; the value times the unit's factor, checked.
Result<int64_t> parse_with_unit(const std::string& text, const std::vector<std::pair<std::string, int64_t>>& units,
                                const char* what) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 19) return invalid("not a " + std::string(what) + ": \"" + text + "\"");
  const std::string digits = text.substr(0, i);
  const std::string unit = text.substr(i);
  int64_t factor = 0;
  for (const auto& [name, f] : units) {
    if (unit == name) factor = f;
  }
  if (factor == 0) return invalid("not a " + std::string(what) + ": \"" + text + "\" (unknown unit \"" + unit + "\")");
  errno = 0;
  const unsigned long long v = std::strtoull(digits.c_str(), nullptr, 10);
  if (errno != 0 || v > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max() / factor)) {
    return invalid(std::string(what) + " too large: \"" + text + "\"");
  }
  return static_cast<int64_t>(v) * factor;
}

Result<int64_t> parse_plain_int(const std::string& text) {
  size_t i = (!text.empty() && text[0] == '-') ? 1 : 0;
  if (i == text.size() || text.size() > 20 || text.find_first_not_of("0123456789", i) != std::string::npos) {
    return invalid("not an integer: \"" + text + "\"");
  }
  errno = 0;
  const long long v = std::strtoll(text.c_str(), nullptr, 10);
  if (errno != 0) return invalid("integer out of range: \"" + text + "\"");
  return static_cast<int64_t>(v);
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t min_cp = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::string bounds_text(const ConfigOption& o) {
  return "must be between " + std::to_string(o.min) + " and " + std::to_string(o.max);
}

}  // namespace

const char* config_type_name(ConfigType t) {
  switch (t) {
    case ConfigType::kString:
      return "string";
    case ConfigType::kInteger:
      return "integer";
    case ConfigType::kBytes:
      return "bytes";
    case ConfigType::kDuration:
      return "duration";
    case ConfigType::kCredits:
      return "credits";
    case ConfigType::kNumber:
      return "number";
    case ConfigType::kBool:
      return "bool";
  }
  return "?";
}

Result<int64_t> parse_byte_size(const std::string& text) { return parse_size(text); }

Result<int64_t> parse_duration_ms(const std::string& text) {
  static const std::vector<std::pair<std::string, int64_t>> kUnits = {
      {"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000},
  };
  return parse_with_unit(text, kUnits, "duration");
}

Result<std::pair<std::string, uint16_t>> parse_listen_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return invalid("expected host:port, e.g. 127.0.0.1:0");
  const std::string port = text.substr(colon + 1);
  // Digits only (no sign, spaces or trailing junk), at most 5 of them.
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return invalid("port is not a number");
  }
  const int p = std::stoi(port);
  if (p > 65535) return invalid("port out of range");
  return std::make_pair(text.substr(0, colon), static_cast<uint16_t>(p));
}

ConfigOption& ConfigTable::add(const std::string& key, ConfigType type, std::string help) {
  ConfigOption o;
  o.key = key;
  o.flag = flag_of(key);
  o.type = type;
  o.help = std::move(help);
  options_.push_back(std::move(o));
  return options_.back();
}

ConfigOption& ConfigTable::add_string(const std::string& key, std::string* target, std::string help) {
  auto& o = add(key, ConfigType::kString, std::move(help));
  o.default_text = *target;
  o.set_string = [target](const std::string& v) { *target = v; };
  return o;
}

ConfigOption& ConfigTable::add_bool(const std::string& key, bool* target, std::string help) {
  auto& o = add(key, ConfigType::kBool, std::move(help));
  o.default_text = *target ? "true" : "false";
  o.set_bool = [target](bool v) { *target = v; };
  return o;
}

ConfigOption& ConfigTable::add_number(const std::string& key, double* target, double min, double max,
                                      std::string help) {
  auto& o = add(key, ConfigType::kNumber, std::move(help));
  std::ostringstream s;
  s << *target;
  o.default_text = s.str();
  o.dmin = min;
  o.dmax = max;
  o.set_number = [target](double v) { *target = v; };
  return o;
}

namespace {
std::string int_default(ConfigType type, int64_t v) {
  if (type == ConfigType::kCredits) return Money::micros(v).to_string();
  return std::to_string(v);
}
}  // namespace

ConfigOption& ConfigTable::add_int(const std::string& key, ConfigType type, int64_t* target, int64_t min, int64_t max,
                                   std::string help) {
  auto& o = add(key, type, std::move(help));
  o.default_text = int_default(type, *target);
  o.min = min;
  o.max = max;
  o.set_int = [target](int64_t v) { *target = v; };
  return o;
}

ConfigOption& ConfigTable::add_int(const std::string& key, ConfigType type, int* target, int64_t min, int64_t max,
                                   std::string help) {
  auto& o = add(key, type, std::move(help));
  o.default_text = int_default(type, *target);
  o.min = std::max<int64_t>(min, std::numeric_limits<int>::min());
  o.max = std::min<int64_t>(max, std::numeric_limits<int>::max());
  o.set_int = [target](int64_t v) { *target = static_cast<int>(v); };
  return o;
}

ConfigOption& ConfigTable::add_int(const std::string& key, ConfigType type, size_t* target, int64_t min, int64_t max,
                                   std::string help) {
  auto& o = add(key, type, std::move(help));
  o.default_text = int_default(type, static_cast<int64_t>(*target));
  o.min = std::max<int64_t>(min, 0);
  o.max = max;
  o.set_int = [target](int64_t v) { *target = static_cast<size_t>(v); };
  return o;
}

const ConfigOption* ConfigTable::find(const std::string& key) const {
  for (const auto& o : options_) {
    if (o.key == key) return &o;
  }
  return nullptr;
}

bool ConfigTable::is_table_prefix(const std::string& key) const {
  const std::string prefix = key + ".";
  for (const auto& o : options_) {
    if (o.key.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

Error ConfigTable::error(const std::string& key, const std::string& what) const {
  return Error{ErrorCode::kInvalidArgument, where_ + "." + key + ": " + what};
}

Status ConfigTable::apply_table(const std::string& prefix, const toml::table& t) {
  for (const auto& [k, node] : t) {
    const std::string key = prefix + std::string(k.str());
    if (is_table_prefix(key)) {
      if (!node.is_table()) return tl::make_unexpected(error(key, "expected a table"));
      XOP_RETURN_IF_ERROR(apply_table(key + ".", *node.as_table()));
      continue;
    }
    XOP_RETURN_IF_ERROR(apply_node(key, node));
  }
  return {};
}

Status ConfigTable::apply_toml(const toml::table& t) { return apply_table("", t); }

Status ConfigTable::apply_node(const std::string& key, const toml::node& n) {
  const ConfigOption* o = find(key);
  if (o == nullptr) return tl::make_unexpected(error(key, "unknown key"));
  switch (o->type) {
    case ConfigType::kString:
      if (!n.is_string()) return tl::make_unexpected(error(key, "expected a string"));
      o->set_string(n.as_string()->get());
      return {};
    case ConfigType::kBool:
      if (!n.is_boolean()) return tl::make_unexpected(error(key, "expected true or false"));
      o->set_bool(n.as_boolean()->get());
      return {};
    case ConfigType::kNumber: {
      double v = 0;
      if (n.is_floating_point()) {
        v = n.as_floating_point()->get();
      } else if (n.is_integer()) {
        v = static_cast<double>(n.as_integer()->get());
      } else {
        return tl::make_unexpected(error(key, "expected a number"));
      }
      if (!std::isfinite(v) || v < o->dmin || v > o->dmax) return tl::make_unexpected(error(key, "out of range"));
      o->set_number(v);
      return {};
    }
    default:
      break;
  }
  // Integer-valued: a TOML integer, or (bytes, duration, credits) a string with a unit.
  int64_t v = 0;
  if (n.is_integer()) {
    v = n.as_integer()->get();
  } else if (n.is_string() && o->type != ConfigType::kInteger) {
    return apply_flag(key, n.as_string()->get());
  } else if (o->type == ConfigType::kInteger) {
    return tl::make_unexpected(error(key, "expected an integer"));
  } else {
    return tl::make_unexpected(
        error(key, std::string("expected an integer or a string (") + config_type_name(o->type) + ")"));
  }
  if (v < o->min || v > o->max) return tl::make_unexpected(error(key, bounds_text(*o)));
  o->set_int(v);
  return {};
}

Status ConfigTable::apply_flag(const std::string& key, const std::string& text) {
  const ConfigOption* o = find(key);
  if (o == nullptr) return tl::make_unexpected(error(key, "unknown option"));
  if (!valid_utf8(text)) return tl::make_unexpected(error(key, "not valid UTF-8"));
  switch (o->type) {
    case ConfigType::kString:
      o->set_string(text);
      return {};
    case ConfigType::kBool:
      if (text == "true" || text == "1" || text.empty()) {
        o->set_bool(true);
      } else if (text == "false" || text == "0") {
        o->set_bool(false);
      } else {
        return tl::make_unexpected(error(key, "expected true or false"));
      }
      return {};
    case ConfigType::kNumber: {
      double v = 0;
      size_t used = 0;
      try {
        v = std::stod(text, &used);
      } catch (...) {
        used = 0;
      }
      if (used == 0 || used != text.size()) return tl::make_unexpected(error(key, "expected a number"));
      if (!std::isfinite(v) || v < o->dmin || v > o->dmax) return tl::make_unexpected(error(key, "out of range"));
      o->set_number(v);
      return {};
    }
    default:
      break;
  }
  Result<int64_t> v = invalid("");
  switch (o->type) {
    case ConfigType::kBytes:
      v = parse_byte_size(text);
      break;
    case ConfigType::kDuration:
      v = parse_duration_ms(text);
      break;
    case ConfigType::kCredits:
      // Text is credits ("0.10", "10"), as everywhere people type money (core/units.h).
      if (auto m = parse_credits(text); m) {
        v = m->micros();
      } else {
        v = tl::make_unexpected(m.error());
      }
      break;
    default:
      v = parse_plain_int(text);
      break;
  }
  if (!v) return tl::make_unexpected(error(key, v.error().message));
  if (*v < o->min || *v > o->max) return tl::make_unexpected(error(key, bounds_text(*o)));
  o->set_int(*v);
  return {};
}

Status ConfigTable::apply_flags(const ConfigFlags& flags) {
  for (const auto& [key, text] : flags) XOP_RETURN_IF_ERROR(apply_flag(key, text));
  return {};
}

std::string ConfigTable::help_line(const ConfigOption& o) {
  std::string s = o.help + " [key: " + o.key + ", " + config_type_name(o.type);
  if (!o.default_text.empty()) s += ", default: " + o.default_text;
  return s + "]";
}

std::string ConfigTable::markdown() const {
  std::string s = "| Key | Flag | Type | Default | Meaning |\n|---|---|---|---|---|\n";
  for (const auto& o : options_) {
    s += "| `" + o.key + "` | `" + o.flag + "` | " + config_type_name(o.type) + " | " +
         (o.default_text.empty() ? "" : "`" + o.default_text + "`") + " | " + o.help + " |\n";
  }
  return s;
}

}  // namespace xop
