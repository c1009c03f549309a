// Configuration of the `xop xis` daemon: one option table (core/config_table.h) read from a TOML
// file and from flags, defaults -> file -> flags (an explicit flag wins over the file). Unknown
// keys are errors. The keys are listed in docs/operating.md ("XIS configuration").
#pragma once

#include <string>

#include "core/config_table.h"
#include "xis/nats_advert_bus.h"
#include "xis/xis_service.h"

namespace xop {

struct XisConfig {
  std::string listen = "127.0.0.1:7401";  // host:port (port 0: any free port)
  std::string corp_url;                   // only servers registered there may advertise
  bool open = false;                      // without corp_url: anyone with a key may advertise (tests only)
  std::string port_file;                  // the bound URL is written here once listening
  XisOptions options;
  // Sharing adverts with other instances through NATS (docs/xis.md "Several instances"): off
  // while nats.url is empty. nats.max_age_ms is set from options.max_ttl_ms.
  NatsBusOptions nats;
};

// The table over `c` (defaults are c's current values). `c` must outlive the table.
ConfigTable xis_config_table(XisConfig* c);

// Defaults, then `t`, then `flags`; checks the listen address and that corp_url or open is given.
Result<XisConfig> xis_config_from_toml(const toml::table& t, const ConfigFlags& flags = {});
// As above from a file (`path` empty: no file, defaults then flags).
Result<XisConfig> load_xis_config(const std::string& path, const ConfigFlags& flags = {});

}  // namespace xop
