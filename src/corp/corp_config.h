// Configuration of the `xop corp` daemon: one option table (core/config_table.h) read from a TOML
// file and from flags, defaults -> file -> flags (an explicit flag wins over the file). Unknown
// keys are errors. The keys are listed in docs/operating.md ("Corp configuration").
#pragma once

#include <string>

#include "core/config_table.h"
#include "corp/corp_service.h"

namespace xop {

struct CorpConfig {
  std::string listen = "127.0.0.1:7400";  // host:port (port 0: any free port)
  std::string data_dir;                   // required: corp.db and corp.key live here
  std::string admin_public_key;           // base64; the key allowed to deposit funds
  std::string admin_key_file;             // or a key file whose public key is the admin (wins)
  std::string port_file;                  // the bound URL is written here once listening
  // db_path = <data_dir>/corp.db and admin_key are filled in by load_corp_config.
  CorpOptions options;
};

// The table over `c` (defaults are c's current values). `c` must outlive the table.
ConfigTable corp_config_table(CorpConfig* c);

// Defaults, then `t`, then `flags`; checks required keys and the listen address, and resolves the
// admin key (reads admin_key_file if given) and options.db_path. Does not create data_dir.
Result<CorpConfig> corp_config_from_toml(const toml::table& t, const ConfigFlags& flags = {});
// As above from a file (`path` empty: no file, defaults then flags).
Result<CorpConfig> load_corp_config(const std::string& path, const ConfigFlags& flags = {});

}  // namespace xop
