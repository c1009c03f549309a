// `xop corp`: runs XenoCorp, the clearing house. Options: corp/corp_config.h.
// `xop corp check`: asks a running corp, with the admin key, for a fresh proof of its ledger.
#include <filesystem>
#include <iostream>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "client/corp_client.h"
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
// Exit 0 when the ledger balances, 1 (with every problem) when it does not.
int check(const CliState& st, const std::string& admin_key_file) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  const std::string admin_file = admin_key_file.empty() ? c->home.dir() + "/dev-admin.json" : admin_key_file;
  auto admin = load_key_file(admin_file);
  if (!admin)
    return fail("checking the ledger needs the corp's admin key (" + admin_file + "): " + admin.error().message);
  auto corp = CorpClient::connect(c->config.corp_url, *admin);
  if (!corp) return fail(corp.error());
  auto r = corp->ledger_check();
  if (!r) return fail(r.error());
  if (st.json) {
    print_json(to_json(*r));
  } else {
    std::cout << (r->balanced ? "balanced" : "NOT BALANCED") << ": " << r->transactions << " transactions, "
              << r->entries << " entries\n"
              << "money in   " << credits(r->deposited.value_or(0)) << " (deposits)\n"
              << "money out  " << credits(r->paid_out.value_or(0)) << " (payouts)\n"
              << "balances   " << credits(r->available.value_or(0)) << "\n"
              << "holds      " << credits(r->held.value_or(0)) << "\n";
    for (const auto& p : r->problems) std::cout << "problem: " << p << "\n";
  }
  return r->balanced ? 0 : kExitFailure;
}
}  // namespace

void add_corp_command(CLI::App& app, CliState& st) {
  auto f = std::make_shared<DaemonFlags>();
  auto* cmd = app.add_subcommand("corp", "Run XenoCorp, the clearing house (accounts, purchase orders, ledger)");
  CorpConfig defaults;
  add_daemon_flags(cmd, corp_config_table(&defaults), f.get());
  auto admin_key_file = std::make_shared<std::string>();
  auto* chk = cmd->add_subcommand("check", "Prove a running corp's ledger: money in = money out + balances + holds");
  chk->add_option("--admin-key-file", *admin_key_file,
                  "Admin key file (default: dev-admin.json in the profile's config directory)");
  chk->callback([admin_key_file, &st] { st.code = check(st, *admin_key_file); });
  cmd->callback([f, chk, &st] {
    if (chk->parsed()) return;  // `xop corp check` runs no daemon
    st.code = run(*f);
  });
}

}  // namespace xop
