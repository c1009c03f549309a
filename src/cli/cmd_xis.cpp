// `xop xis`: runs XIS, the information service with XenoSearch. Options: xis/xis_config.h.
#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "core/log.h"
#include "core/log_backoff.h"
#include "net/http_server.h"
#include "xis/xis_config.h"

namespace xop {

namespace {
int run(const DaemonFlags& f) {
  auto cfg = load_xis_config(f.config, f.given());
  if (!cfg) return fail(cfg.error());
  auto listen = parse_listen_address(cfg->listen);
  if (!listen) return fail(listen.error());
  XisPeers peers;
  if (!cfg->corp_url.empty()) {
    auto reg = corp_registry(cfg->corp_url);
    if (!reg) return fail(reg.error());
    peers.registry = std::move(*reg);
    peers.endpoint_key = http_endpoint_key();
  }
  block_termination_signals();
  XisService xis(cfg->options, SystemClock::instance(), std::move(peers));
  HttpServerOptions ho;
  ho.host = listen->first;
  ho.port = listen->second;
  HttpServer http(ho, xis.router());
  // Sharing with other instances: the bus starts after the service it feeds and stops before it.
  std::unique_ptr<NatsAdvertBus> bus;
  if (!cfg->nats.url.empty()) {
    // Called from the bus's one thread only. An advert this instance holds already (or holds a
    // newer one of) is refused as a conflict: the normal case. Anything else off the bus (bad
    // signature, malformed) means a writer that is not a healthy XIS: logged, rate limited.
    auto refused = std::make_shared<LogBackoff>(10'000, 600'000);
    auto b = NatsAdvertBus::start(cfg->nats, [&xis, refused](std::string_view body) {
      auto s = xis.accept_shared(body);
      if (s || s.error().code == ErrorCode::kConflict) return;
      if (refused->failure(SystemClock::instance().now_ms())) {
        XOP_LOGN_WARN("xis", "advert bus: refused a shared advert ({} so far): {}", refused->failures(),
                      s.error().message);
      }
    });
    if (!b) return fail(b.error());
    bus = std::move(*b);
    xis.set_bus(bus.get());
  }
  if (auto s = http.start(); !s) return fail(s.error());
  if (auto s = announce("xop xis", http.url(), cfg->port_file); !s) return fail(s.error());
  XOP_LOGN_INFO("xis", "listening on {} (peers: {})", http.url(),
                cfg->corp_url.empty() ? std::string("none, open") : "corp " + cfg->corp_url);
  wait_for_termination();
  http.stop();
  xis.set_bus(nullptr);
  bus.reset();
  return 0;
}
}  // namespace

void add_xis_command(CLI::App& app, CliState& st) {
  auto f = std::make_shared<DaemonFlags>();
  auto* cmd = app.add_subcommand("xis", "Run XIS, the information service (adverts and discovery)");
  XisConfig defaults;
  add_daemon_flags(cmd, xis_config_table(&defaults), f.get());
  cmd->callback([f, &st] { st.code = run(*f); });
}

}  // namespace xop
