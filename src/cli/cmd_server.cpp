// `xop server`: runs a XenoServer daemon from a TOML config (see docs/operating.md).
#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "server/xeno_server.h"

namespace xop {

namespace {
struct ServerArgs {
  std::string config;
  std::string port_file;
  bool stop_sessions = false;
};

int run(const ServerArgs& a) {
  auto cfg = load_server_config(a.config);
  if (!cfg) return fail(cfg.error());
  block_termination_signals();
  auto server = XenoServer::open(*cfg, SystemClock::instance());
  if (!server) return fail(server.error());
  if (auto s = (*server)->start(); !s) return fail(s.error());
  if (auto s = announce("xop server " + cfg->name, (*server)->url(), a.port_file); !s) return fail(s.error());
  wait_for_termination();
  (*server)->stop(a.stop_sessions);
  return 0;
}
}  // namespace

void add_server_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<ServerArgs>();
  auto* cmd = app.add_subcommand("server", "Run a XenoServer: host sessions for others and get paid");
  cmd->add_option("--config", a->config, "TOML config file")->required();
  cmd->add_option("--port-file", a->port_file, "Write the bound URL to this file once listening");
  cmd->add_flag("--stop-sessions", a->stop_sessions,
                "Stop all sessions on shutdown (default: leave them running; they are re-adopted on restart)");
  cmd->callback([a, &st] { st.code = run(*a); });
}

}  // namespace xop
