// What a client verb needs: the user's home, key and config, and clients for corp and XIS.
#pragma once

#include <memory>

#include "cli/commands.h"
#include "client/api_client.h"
#include "deploy/user_home.h"

namespace xop {

struct ClientContext {
  UserHome home{""};
  KeyPair key;
  UserConfig config;
  std::unique_ptr<ApiClient> corp;
  std::unique_ptr<ApiClient> xis;
};

Result<ClientContext> load_client_context(const CliState& st);
// Shared views: the `xop statement` and `xop sessions` output (also used by `xop dev --demo`).
int show_statement(ClientContext& c, bool json, bool records);
int show_sessions(ClientContext& c, bool json);

// Parses "lat,lon" in degrees.
Result<std::pair<double, double>> parse_lat_lon(const std::string& s);

}  // namespace xop
