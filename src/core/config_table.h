// One table of a daemon's configuration options, read the same way from a TOML file and from
// command-line flags. Each option is declared once: its TOML key ("listen", "capacity.cpu_millis"),
// the flag derived from it ("--listen", "--capacity-cpu-millis"), its type, bounds, default (the
// target's value when the option is added) and help text. The corp, XIS and server config modules
// (corp/corp_config.h, xis/xis_config.h, server/server_config.h) each build one table over their
// config struct, so the three daemons take the same scheme and `--help` and docs/operating.md list
// the same keys.
//
// Precedence is the caller's order of application: defaults (the struct's initial values), then
// apply_toml (the config file), then apply_flag for each flag given on the command line, so an
// explicit flag always wins over the file. Unknown keys and unknown flags are refused naming them;
// a value of the wrong type or out of range is refused naming the key ("<where>.<key>: ...").
// A failed apply may have set earlier options; callers discard the struct on error.
//
// Value forms (TOML value, or the flag's text):
//   string    any string
//   integer   an integer within [min, max]
//   bytes     an integer count of bytes, or a string with a unit: "64MiB", "2GiB", "512KiB", "10MB"
//             (core/units.h parse_size)
//   duration  an integer count of milliseconds, or a string with a unit: "250ms", "5s", "2m", "1h", "7d"
//   credits   a string of credits: "0.10", "10" (core/units.h parse_credits); a TOML integer is
//             still read as micro-credits, for older files
//   number    a finite floating-point number within [min, max]
//   bool      true or false (a flag without a value means true)
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace xop {

enum class ConfigType { kString, kInteger, kBytes, kDuration, kCredits, kNumber, kBool };

// "string", "integer", "bytes", ...
const char* config_type_name(ConfigType t);

struct ConfigOption {
  std::string key;                        // TOML key; a dot separates a table from its key ("capacity.cpu_millis")
  std::string flag;                       // "--" + key with '.' and '_' as '-'
  std::vector<std::string> flag_aliases;  // older spellings still accepted ("--admin-key")
  ConfigType type = ConfigType::kString;
  std::string default_text;  // rendered default; empty: none
  std::string help;
  int64_t min = 0, max = 0;   // integer, bytes, duration, credits
  double dmin = 0, dmax = 0;  // number
  std::function<void(const std::string&)> set_string;
  std::function<void(int64_t)> set_int;  // integer, bytes, duration, credits
  std::function<void(double)> set_number;
  std::function<void(bool)> set_bool;
};

// Flags given on the command line, in order: (TOML key, text).
using ConfigFlags = std::vector<std::pair<std::string, std::string>>;

class ConfigTable {
 public:
  // `where` prefixes error messages ("corp" -> "corp.listen: ...").
  explicit ConfigTable(std::string where) : where_(std::move(where)) {}

  ConfigOption& add_string(const std::string& key, std::string* target, std::string help);
  ConfigOption& add_bool(const std::string& key, bool* target, std::string help);
  ConfigOption& add_number(const std::string& key, double* target, double min, double max, std::string help);
  // Integer-valued types (kInteger, kBytes, kDuration, kCredits) into int64_t, int or size_t.
  ConfigOption& add_int(const std::string& key, ConfigType type, int64_t* target, int64_t min, int64_t max,
                        std::string help);
  ConfigOption& add_int(const std::string& key, ConfigType type, int* target, int64_t min, int64_t max,
                        std::string help);
  ConfigOption& add_int(const std::string& key, ConfigType type, size_t* target, int64_t min, int64_t max,
                        std::string help);

  // Sets every option the table holds; refuses keys the table has not.
  Status apply_toml(const toml::table& t);
  // Sets one option from its text; refuses keys the table has not.
  Status apply_flag(const std::string& key, const std::string& text);
  Status apply_flags(const ConfigFlags& flags);

  [[nodiscard]] const std::vector<ConfigOption>& options() const { return options_; }
  [[nodiscard]] const std::string& where() const { return where_; }
  // One help line for an option: "<help> [key: k, type, default: d]".
  [[nodiscard]] static std::string help_line(const ConfigOption& o);
  // A Markdown table of the options (key, flag, type, default, meaning) for docs/operating.md.
  [[nodiscard]] std::string markdown() const;

 private:
  ConfigOption& add(const std::string& key, ConfigType type, std::string help);
  Status apply_node(const std::string& key, const toml::node& n);
  Status apply_table(const std::string& prefix, const toml::table& t);
  [[nodiscard]] const ConfigOption* find(const std::string& key) const;
  [[nodiscard]] bool is_table_prefix(const std::string& key) const;
  [[nodiscard]] Error error(const std::string& key, const std::string& what) const;

  std::string where_;
  std::vector<ConfigOption> options_;
};

// parse_size (core/units.h): "64MiB" -> 67108864; plain digits are bytes.
Result<int64_t> parse_byte_size(const std::string& text);
// "5s" -> 5000; plain digits are milliseconds. Units: ms, s, m, h, d. Errors on junk, a sign or overflow.
Result<int64_t> parse_duration_ms(const std::string& text);
// "host:port" -> (host, port): the port is 1 to 5 digits, at most 65535 (0: any free port).
Result<std::pair<std::string, uint16_t>> parse_listen_address(const std::string& text);

}  // namespace xop
