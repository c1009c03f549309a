#include <cstdio>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/log.h"
#include "deploy/user_home.h"

namespace xop {

int run_cli(int argc, char** argv) {
  CLI::App app{"xop: the XenoServer Open Platform (global public computing)"};
  app.require_subcommand(1);
  CliState st;
  std::string log_level;  // default: info for the daemons (one line per lifecycle event), warn otherwise
  app.add_flag("--json", st.json, "Machine-readable JSON output");
  app.add_option("--home", st.home, "Directory with your key and config (default $XOP_HOME or ~/.config/xop)");
  app.add_option("--log-level", log_level, "debug, info, warn, error (default: info for corp, xis, server; else warn)");
  app.set_version_flag("--version", "xop 0.1.0");
  add_corp_command(app, st);
  add_xis_command(app, st);
  add_server_command(app, st);
  add_dev_command(app, st);
  add_account_command(app, st);
  add_search_command(app, st);
  add_deploy_command(app, st);
  add_sessions_commands(app, st);
  add_statement_command(app, st);
  add_key_command(app, st);
  add_earnings_command(app, st);
  app.parse_complete_callback([&] {
    const bool daemon = app.got_subcommand("corp") || app.got_subcommand("xis") || app.got_subcommand("server");
    log::init(!log_level.empty() ? log_level : daemon ? "info" : "warn");
    if (st.home.empty()) st.home = UserHome::default_dir();
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // A malformed answer from a daemon must not crash the CLI with an uncaught exception.
    std::fprintf(stderr, "error: unexpected response: %s\n", e.what());
    return 1;
  }
  return st.code;
}

}  // namespace xop
