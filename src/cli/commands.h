// Registration of every `xop` subcommand; one file per subcommand (cmd_*.cpp).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "deploy/home_dirs.h"

namespace xop {

struct CliState {
  int code = 0;         // the process exit code
  bool json = false;    // --json: machine-readable output
  std::string home;     // --home / $XOP_HOME as given; after parsing, the profile's config directory
  std::string profile;  // --profile / $XOP_PROFILE as given (empty: not chosen)
  bool profile_chosen = false;
  HomeDirs dirs;  // the profile's directories (deploy/home_dirs.h), set after parsing
};

void add_corp_command(CLI::App& app, CliState& st);
void add_xis_command(CLI::App& app, CliState& st);
void add_server_command(CLI::App& app, CliState& st);
void add_dev_command(CLI::App& app, CliState& st);
void add_account_command(CLI::App& app, CliState& st);
void add_search_command(CLI::App& app, CliState& st);
void add_locate_command(CLI::App& app, CliState& st);  // locate (network coordinate)
void add_quote_command(CLI::App& app, CliState& st);   // quote (POST /v1/query)
void add_deploy_command(CLI::App& app, CliState& st);
void add_sessions_commands(CLI::App& app, CliState& st);  // sessions, logs, stop
void add_extend_command(CLI::App& app, CliState& st);     // extend (credit control)
void add_statement_command(CLI::App& app, CliState& st);
void add_key_command(CLI::App& app, CliState& st);       // key new, key show
void add_earnings_command(CLI::App& app, CliState& st);  // earnings (owners)

}  // namespace xop
