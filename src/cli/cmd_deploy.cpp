// `xop deploy MANIFEST.yaml`: deploy onto the best-matching servers, in parallel.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli/client_context.h"
#include "cli/exit_codes.h"
#include "cli/funds_check.h"
#include "cli/output.h"
#include "core/units.h"
#include "deploy/deployer.h"

namespace xop {

namespace {
struct DeployArgs {
  std::string manifest;
  int64_t count = 0;
  std::string near;
};

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
  const std::string short_of = funds_shortfall(m->count, m->budget, Money::micros(acct->value("balance", int64_t{0})));
  if (!short_of.empty()) return fail(Error{ErrorCode::kPaymentRequired, short_of});
  Deployer d(c->key, c->config.corp_url, c->config.xis_url, c->home.scratch_dir());
  auto res = d.deploy(*m, [&](const std::string& line) {
    if (!st.json) std::cout << "  " << line << std::endl;
  });
  if (!res) return fail(res.error());
  auto known = c->home.load_sessions();
  std::vector<DeployedSession> sessions = known ? *known : std::vector<DeployedSession>{};
  int ok = 0;
  Json out = Json::array();
  Table t({"SESSION", "SERVER", "CITY", "DISTANCE", "PRICE/H", "TIME", "STATUS"});
  for (const auto& o : res->outcomes) {
    if (o.ok) {
      ++ok;
      sessions.push_back(DeployedSession{o.session, o.server, o.name, o.city, o.endpoint, o.po_id, m->name});
    }
    out.push_back(Json{{"server", o.server},
                       {"name", o.name},
                       {"city", o.city},
                       {"ok", o.ok},
                       {"session", o.session},
                       {"po_id", o.po_id},
                       {"price_per_hour_micros", o.price_per_hour.micros()},
                       {"error", o.error},
                       {"seconds", o.seconds}});
    t.add({o.ok ? o.session : "-", o.name, o.city, fmt::format("{:.0f} km", o.distance_km),
           format_credits(o.price_per_hour), fmt::format("{:.2f} s", o.seconds),
           o.ok ? "running" : "failed: " + o.error});
  }
  if (auto s = c->home.save_sessions(sessions); !s) return fail(s.error());
  if (st.json) {
    print_json(Json{{"deployed", out}, {"seconds", res->seconds}});
  } else {
    std::cout << t.render()
              << fmt::format("{} of {} sessions running after {:.2f} s\n", ok, res->outcomes.size(), res->seconds);
  }
  // Partial: fewer sessions than asked for (some failed, or fewer servers matched).
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
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
