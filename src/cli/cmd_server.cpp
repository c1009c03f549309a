// `xop server`: runs a XenoServer daemon. Options: server/server_config.h, docs/operating.md.
#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "server/xeno_server.h"

namespace xop {

namespace {
int run(const DaemonFlags& f) {
  auto cfg = load_server_config(f.config, f.given());
  if (!cfg) return fail(cfg.error());
  block_termination_signals();
  auto server = XenoServer::open(*cfg, SystemClock::instance());
  if (!server) return fail(server.error());
  if (auto s = (*server)->start(); !s) return fail(s.error());
  if (auto s = announce("xop server " + cfg->name, (*server)->url(), cfg->port_file); !s) return fail(s.error());
  wait_for_termination();
  (*server)->stop(cfg->stop_sessions);
  return 0;
}
}  // namespace

void add_server_command(CLI::App& app, CliState& st) {
  auto f = std::make_shared<DaemonFlags>();
  auto* cmd = app.add_subcommand("server", "Run a XenoServer: host sessions for others and get paid");
  ServerConfigInput defaults;
  add_daemon_flags(cmd, server_config_table(&defaults), f.get());
  cmd->callback([f, &st] { st.code = run(*f); });
}

}  // namespace xop
