// `xop corp`: runs XenoCorp, the clearing house. Options: corp/corp_config.h.
#include <filesystem>

#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "core/log.h"
#include "corp/corp_config.h"
#include "net/http_server.h"

namespace xop {

namespace {
int run(const DaemonFlags& f) {
  auto cfg = load_corp_config(f.config, f.given());
  if (!cfg) return fail(cfg.error());
  std::error_code ec;
  std::filesystem::create_directories(cfg->data_dir, ec);
  if (ec) return fail("cannot create " + cfg->data_dir + ": " + ec.message());
  const std::string key_path = cfg->data_dir + "/corp.key";
  auto key = load_key_file(key_path);
  if (!key && key.error().code == ErrorCode::kNotFound) {
    key = KeyPair::generate();
    if (auto s = save_key_file(*key, key_path); !s) return fail(s.error());
  }
  if (!key) return fail(key.error());
  auto listen = parse_listen_address(cfg->listen);
  if (!listen) return fail(listen.error());
  block_termination_signals();
  auto corp = CorpService::open(cfg->options, *key, SystemClock::instance());
  if (!corp) return fail(corp.error());
  XOP_LOGN_INFO("corp", "database opened {}", cfg->options.db_path);
  HttpServerOptions ho;
  ho.host = listen->first;
  ho.port = listen->second;
  HttpServer http(ho, (*corp)->router());
  if (auto s = http.start(); !s) return fail(s.error());
  if (auto s = announce("xop corp", http.url(), cfg->port_file); !s) return fail(s.error());
  XOP_LOGN_INFO("corp", "listening on {}", http.url());
  wait_for_termination();
  http.stop();
  return 0;
}
}  // namespace

void add_corp_command(CLI::App& app, CliState& st) {
  auto f = std::make_shared<DaemonFlags>();
  auto* cmd = app.add_subcommand("corp", "Run XenoCorp, the clearing house (accounts, purchase orders, ledger)");
  CorpConfig defaults;
  add_daemon_flags(cmd, corp_config_table(&defaults), f.get());
  cmd->callback([f, &st] { st.code = run(*f); });
}

}  // namespace xop
