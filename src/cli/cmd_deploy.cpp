// `xop deploy MANIFEST.yaml`: deploy onto the best-matching servers, in parallel.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/client_context.h"
#include "cli/exit_codes.h"
#include "cli/funds_check.h"
#include "cli/interrupt.h"
#include "cli/output.h"
#include "core/units.h"
#include "deploy/deployer.h"

namespace xop {

namespace {
struct DeployArgs {
  std::string manifest;
  int64_t count = 0;
  std::string near;
  bool keep_partial = false;
};

// Stops a session this deploy started (after an interrupt), signed for the server it runs on.
Status stop_session(const ClientContext& c, const DeployOutcome& o) {
  XOP_ASSIGN_OR_RETURN(auto server, ApiClient::connect(o.endpoint, c.key));
  server.set_audience(o.server);
  XOP_ASSIGN_OR_RETURN(auto r, server.call("DELETE", "/v1/sessions/" + o.session));
  return {};
}

int run(const CliState& st, const DeployArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  auto m = load_manifest(a.manifest);
  if (!m) return fail(m.error());
  if (a.count > 0) m->count = a.count;
  if (!a.near.empty()) {
    auto ll = parse_lat_lon(a.near);
    if (!ll) return usage_error("--near: " + ll.error().message);
    m->near = GeoPoint{std::llround(ll->first * 1e6), std::llround(ll->second * 1e6)};
  }
  // Before buying: every session holds its budget, so count x budget must fit in the balance.
  auto acct = c->corp->call("GET", "/v1/accounts/" + c->key.account_id());
  if (!acct) return fail(acct.error());
  const std::string short_of =
      funds_shortfall(m->count, m->budget, Money::micros(acct->value("balance_micros", int64_t{0})));
  if (!short_of.empty()) return fail(Error{ErrorCode::kPaymentRequired, short_of});
  // This run's own scratch directory (an image archive is unpacked there), removed on return.
  auto scratch = c->home.make_scratch();
  if (!scratch) return fail(scratch.error());
  Deployer d(c->key, c->config.corp_url, c->config.xis_url, (*scratch)->path());
  // Ctrl-C / SIGTERM: stop admitting, then stop (or keep) what already runs, below.
  auto cancel = std::make_shared<Cancellation>();
  InterruptRelay relay(cancel);
  d.set_cancellation(cancel);
  if (const char* p = std::getenv("XOP_TEST_PAUSE_AFTER_FIRST_PO"); p != nullptr && *p != '\0') {
    d.set_pause_after_first_po(true);  // test only (docs/testing.md)
  }
  // Each session is recorded in the home as soon as its server answered.
  d.set_on_session([&](const DeployOutcome& o) {
    auto s = c->home.append_session(DeployedSession{o.session, o.server, o.name, o.city, o.endpoint, o.po_id, m->name});
    if (!s) std::cerr << "warning: session " << o.session << " not recorded in the home: " << s.error().message << "\n";
  });
  auto res = d.deploy(*m, [&](const std::string& line) {
    if (!st.json) std::cout << "  " << line << std::endl;
  });
  if (!res) return fail(res.error());
  const bool interrupted = res->interrupted || cancel->cancelled();
  int ok = 0;
  int running = 0;
  Json out = Json::array();
  Table t({"SESSION", "SERVER", "CITY", "DISTANCE", "PRICE/H", "TIME", "STATUS"});
  for (const auto& o : res->outcomes) {
    std::string status = o.ok ? "running" : "failed: " + o.error;
    bool runs = o.ok;
    if (o.ok) {
      ++ok;
      if (interrupted && !a.keep_partial) {
        if (auto s = stop_session(*c, o); s) {
          status = "stopped (interrupted)";
          runs = false;
        } else {
          status = "running (stopping it failed: " + s.error().message + ")";
        }
      }
    } else if (o.interrupted) {
      status = o.error;
    }
    if (runs) ++running;
    out.push_back(Json{{"server", o.server},
                       {"name", o.name},
                       {"city", o.city},
                       {"ok", o.ok},
                       {"session", o.session},
                       {"po_id", o.po_id},
                       {"price_per_hour_micros", o.price_per_hour.micros()},
                       {"error", o.error},
                       {"running", runs},
                       {"interrupted", o.interrupted},
                       {"seconds", o.seconds}});
    t.add({o.ok ? o.session : "-", o.name, o.city, fmt::format("{:.0f} km", o.distance_km),
           format_credits(o.price_per_hour), fmt::format("{:.2f} s", o.seconds), status});
  }
  if (st.json) {
    print_json(Json{{"deployed", out}, {"seconds", res->seconds}, {"interrupted", interrupted}, {"running", running}});
  } else {
    std::cout << t.render();
    if (interrupted) {
      std::cout << fmt::format("interrupted: {} session(s) still running{}\n", running,
                               running > 0 ? " (see `xop sessions`, `xop stop`)" : "");
    } else {
      std::cout << fmt::format("{} of {} sessions running after {:.2f} s\n", ok, res->outcomes.size(), res->seconds);
    }
  }
  // Exit codes (docs/cli.md): interrupted with nothing left running 130, interrupted with sessions
  // kept running (--keep-partial, or a stop that failed) 3; else 0 all placed, 3 fewer sessions than
  // asked for (some failed, or fewer servers matched), 1 none.
  if (interrupted) return running > 0 ? kExitPartial : kExitInterrupted;
  if (ok == static_cast<int>(res->outcomes.size()) && ok >= m->count) return kExitOk;
  return ok > 0 ? kExitPartial : kExitFailure;
}
}  // namespace

void add_deploy_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<DeployArgs>();
  auto* cmd = app.add_subcommand("deploy", "Deploy a manifest onto the best-matching servers");
  cmd->add_option("manifest", a->manifest, "Deployment manifest (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--count", a->count, "Override the manifest's count");
  cmd->add_option("--near", a->near, "Override the manifest's location: LAT,LON");
  cmd->add_flag("--keep-partial", a->keep_partial,
                "On Ctrl-C/SIGTERM keep the sessions already started (default: stop them); exit 3 if any runs");
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
