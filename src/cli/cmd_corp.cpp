// `xop corp`: runs XenoCorp, the clearing house.
#include <filesystem>

#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "core/toml_reader.h"
#include "corp/corp_service.h"
#include "net/http_server.h"

namespace xop {

namespace {
struct CorpArgs {
  std::string config;
  std::string listen = "127.0.0.1:7400";
  std::string data_dir;
  std::string admin_key;       // base64 public key
  std::string admin_key_file;  // or a key file whose public key is the admin
  std::string port_file;
  int64_t unused_po_grace_ms = -1;  // -1: the corp's default (also for the three below)
  int64_t unreported_po_backstop_ms = -1;
  int64_t usage_clock_skew_ms = -1;
  int64_t ledger_check_interval_ms = -1;
};

Status apply_config(CorpArgs& a) {
  if (a.config.empty()) return {};
  XOP_ASSIGN_OR_RETURN(auto t, load_toml_file(a.config));
  TomlReader r(t, "corp");
  if (auto v = r.opt_str("listen")) a.listen = *v;
  if (auto v = r.opt_str("data_dir")) a.data_dir = *v;
  if (auto v = r.opt_str("admin_public_key")) a.admin_key = *v;
  if (auto v = r.opt_i64("unused_po_grace_ms", 0, 7LL * 24 * 3'600'000)) a.unused_po_grace_ms = *v;
  if (auto v = r.opt_i64("unreported_po_backstop_ms", 0, 30LL * 24 * 3'600'000)) a.unreported_po_backstop_ms = *v;
  if (auto v = r.opt_i64("usage_clock_skew_ms", 0, 3'600'000)) a.usage_clock_skew_ms = *v;
  if (auto v = r.opt_i64("ledger_check_interval_ms", 1, 3'600'000)) a.ledger_check_interval_ms = *v;
  return r.finish();
}

int run(CorpArgs a) {
  if (auto s = apply_config(a); !s) return fail(s.error());
  if (a.data_dir.empty()) return fail("--data-dir (or data_dir in the config) is required");
  std::error_code ec;
  std::filesystem::create_directories(a.data_dir, ec);
  if (ec) return fail("cannot create " + a.data_dir + ": " + ec.message());
  CorpOptions opts;
  opts.db_path = a.data_dir + "/corp.db";
  if (a.unused_po_grace_ms >= 0) opts.unused_po_grace_ms = a.unused_po_grace_ms;
  if (a.unreported_po_backstop_ms >= 0) opts.unreported_po_backstop_ms = a.unreported_po_backstop_ms;
  if (a.usage_clock_skew_ms >= 0) opts.usage_clock_skew_ms = a.usage_clock_skew_ms;
  if (a.ledger_check_interval_ms >= 0) opts.ledger_check_interval_ms = a.ledger_check_interval_ms;
  if (!a.admin_key_file.empty()) {
    auto k = load_key_file(a.admin_key_file);
    if (!k) return fail(k.error());
    opts.admin_key = k->public_key();
  } else if (!a.admin_key.empty()) {
    auto k = PublicKey::from_base64(a.admin_key);
    if (!k) return fail("admin key: " + k.error().message);
    opts.admin_key = *k;
  }
  const std::string key_path = a.data_dir + "/corp.key";
  auto key = load_key_file(key_path);
  if (!key && key.error().code == ErrorCode::kNotFound) {
    key = KeyPair::generate();
    if (auto s = save_key_file(*key, key_path); !s) return fail(s.error());
  }
  if (!key) return fail(key.error());
  auto listen = parse_listen(a.listen);
  if (!listen) return fail(listen.error());
  block_termination_signals();
  auto corp = CorpService::open(opts, *key, SystemClock::instance());
  if (!corp) return fail(corp.error());
  HttpServerOptions ho;
  ho.host = listen->first;
  ho.port = listen->second;
  HttpServer http(ho, (*corp)->router());
  if (auto s = http.start(); !s) return fail(s.error());
  if (auto s = announce("xop corp", http.url(), a.port_file); !s) return fail(s.error());
  wait_for_termination();
  http.stop();
  return 0;
}
}  // namespace

void add_corp_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<CorpArgs>();
  auto* cmd = app.add_subcommand("corp", "Run XenoCorp, the clearing house (accounts, purchase orders, ledger)");
  cmd->add_option("--config", a->config,
                  "TOML config file (keys: listen, data_dir, admin_public_key, unused_po_grace_ms, "
                  "unreported_po_backstop_ms, usage_clock_skew_ms, ledger_check_interval_ms)");
  cmd->add_option("--listen", a->listen, "host:port to listen on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--data-dir", a->data_dir, "Where the ledger database and the corp key live");
  cmd->add_option("--admin-key", a->admin_key, "Base64 public key allowed to deposit funds");
  cmd->add_option("--admin-key-file", a->admin_key_file, "Key file whose public key may deposit funds");
  cmd->add_option("--port-file", a->port_file, "Write the bound URL to this file once listening");
  cmd->callback([a, &st] { st.code = run(*a); });
}

}  // namespace xop
