// `xop xis`: runs XIS, the information service with XenoSearch.
#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "core/toml_reader.h"
#include "net/http_server.h"
#include "xis/xis_service.h"

namespace xop {

namespace {
struct XisArgs {
  std::string config;
  std::string listen = "127.0.0.1:7401";
  std::string corp_url;
  bool open = false;
  int64_t max_ttl_ms = 60'000;
  int64_t max_adverts = 10'000;
  int64_t max_per_owner = 256;
  std::string port_file;
  std::string instance_id;
};

int run(XisArgs a) {
  if (!a.config.empty()) {
    auto t = load_toml_file(a.config);
    if (!t) return fail(t.error());
    TomlReader r(*t, "xis");
    if (auto v = r.opt_str("listen")) a.listen = *v;
    if (auto v = r.opt_str("corp_url")) a.corp_url = *v;
    if (auto v = r.opt_i64("max_ttl_ms", 100, 3'600'000)) a.max_ttl_ms = *v;
    if (auto v = r.opt_str("instance_id")) a.instance_id = *v;
    if (auto v = r.opt_i64("max_adverts", 1, 1'000'000)) a.max_adverts = *v;
    if (auto v = r.opt_i64("max_per_owner", 1, 1'000'000)) a.max_per_owner = *v;
    if (auto s = r.finish(); !s) return fail(s.error());
  }
  auto listen = parse_listen(a.listen);
  if (!listen) return fail(listen.error());
  // Only servers registered with the corp may advertise: a corp URL is required unless --open
  // says explicitly that anyone with a key may (isolated tests only).
  XisPeers peers;
  if (!a.corp_url.empty()) {
    auto reg = corp_registry(a.corp_url);
    if (!reg) return fail(reg.error());
    peers.registry = std::move(*reg);
    peers.endpoint_key = http_endpoint_key();
  } else if (!a.open) {
    return fail(Error{ErrorCode::kInvalidArgument,
                      "xop xis needs --corp-url (only registered servers may advertise), or --open to let anyone"});
  }
  block_termination_signals();
  XisOptions opts;
  opts.max_ttl_ms = a.max_ttl_ms;
  opts.instance_id = a.instance_id;
  opts.max_adverts = static_cast<size_t>(a.max_adverts);
  opts.max_per_owner = static_cast<size_t>(a.max_per_owner);
  XisService xis(opts, SystemClock::instance(), std::move(peers));
  HttpServerOptions ho;
  ho.host = listen->first;
  ho.port = listen->second;
  HttpServer http(ho, xis.router());
  if (auto s = http.start(); !s) return fail(s.error());
  if (auto s = announce("xop xis", http.url(), a.port_file); !s) return fail(s.error());
  wait_for_termination();
  http.stop();
  return 0;
}
}  // namespace

void add_xis_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<XisArgs>();
  auto* cmd = app.add_subcommand("xis", "Run XIS, the information service (adverts and discovery)");
  cmd->add_option("--config", a->config,
                  "TOML config file (keys: listen, corp_url, max_ttl_ms, max_adverts, max_per_owner, instance_id)");
  cmd->add_option("--listen", a->listen, "host:port to listen on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--corp-url", a->corp_url, "XenoCorp: only servers registered there may advertise");
  cmd->add_flag("--open", a->open, "Without --corp-url: let anyone with a key advertise (isolated tests only)");
  cmd->add_option("--max-ttl-ms", a->max_ttl_ms, "Longest time an advert is kept without refresh")
      ->capture_default_str();
  cmd->add_option("--max-adverts", a->max_adverts, "Most adverts held")->capture_default_str();
  cmd->add_option("--max-per-owner", a->max_per_owner, "Most adverts held per owner account")->capture_default_str();
  cmd->add_option("--port-file", a->port_file, "Write the bound URL to this file once listening");
  cmd->add_option("--instance-id", a->instance_id,
                  "This XIS's identity, the audience signed requests name (default: random per run)");
  cmd->callback([a, &st] { st.code = run(*a); });
}

}  // namespace xop
