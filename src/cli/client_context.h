// What a client verb needs: the user's home, key and config, and the typed clients of corp and
// XIS (client/corp_client.h, client/xis_client.h): every verb calls the platform through them.
#pragma once

#include <memory>

#include "cli/commands.h"
#include "client/corp_client.h"
#include "client/xis_client.h"
#include "deploy/user_home.h"

namespace xop {

struct ClientContext {
  UserHome home{""};
  KeyPair key;
  UserConfig config;
  std::unique_ptr<CorpClient> corp;
  std::unique_ptr<XisClient> xis;  // null without an XIS URL
};

// Loads the home's key and config (XOP_CORP_URL / XOP_XIS_URL override config.toml and suffice
// without one) and connects to corp and XIS.
Result<ClientContext> load_client_context(const CliState& st);
// An environment variable, or "" when unset.
std::string env_or_empty(const char* name);
// `c` with XOP_CORP_URL and XOP_XIS_URL, when set and not empty, in place of its URLs.
UserConfig with_env_overrides(UserConfig c);
// Shared views: the `xop statement` and `xop sessions` output (also used by `xop dev --demo`).
int show_statement(ClientContext& c, bool json, bool records);
// `all`: also the sessions that ended (else only live ones, and any whose server did not answer).
int show_sessions(ClientContext& c, bool json, bool all = true);

// Parses "lat,lon" in degrees.
Result<std::pair<double, double>> parse_lat_lon(const std::string& s);

}  // namespace xop
