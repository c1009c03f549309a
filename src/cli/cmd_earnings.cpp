// `xop earnings`: what the servers you own earned you, per server, today (since 00:00 UTC) and in
// total, from the corp's ledger (GET /v1/accounts/{id}/earnings, docs/api/corp.yaml).
#include <iostream>

#include "cli/client_context.h"
#include "cli/output.h"

namespace xop {

namespace {

struct EarningsArgs {
  std::string server;  // an id or a prefix of one; empty: all your servers
};

int run(const CliState& st, const EarningsArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  auto r = c->corp->call("GET", "/v1/accounts/" + c->key.account_id() + "/earnings");
  if (!r) return fail(r.error());
  Json servers = Json::array();
  int64_t total = 0;
  int64_t today = 0;
  for (const auto& s : r->value("servers", Json::array())) {
    const std::string id = s.value("server", "");
    if (!a.server.empty() && id.rfind(a.server, 0) != 0) continue;
    total += s.value("total_micros", int64_t{0});
    today += s.value("today_micros", int64_t{0});
    servers.push_back(s);
  }
  if (!a.server.empty() && servers.empty()) return fail("you own no server " + a.server);
  if (st.json) {
    Json out = *r;
    out["servers"] = servers;
    out["total_micros"] = total;
    out["today_micros"] = today;
    print_json(out);
    return 0;
  }
  if (servers.empty()) {
    std::cout << "you own no servers (a server names its owner with `owner = \"" << c->key.account_id()
              << "\"` in its config)\n";
    return 0;
  }
  Table t({"SERVER", "NAME", "RECORDS", "TODAY", "TOTAL"});
  for (const auto& s : servers) {
    t.add({s.value("server", "").substr(0, 12), s.value("name", ""), std::to_string(s.value("settlements", int64_t{0})),
           credits(s.value("today_micros", int64_t{0})), credits(s.value("total_micros", int64_t{0}))});
  }
  if (servers.size() > 1) t.add({"", "all", "", credits(today), credits(total)});
  std::cout << t.render();
  return 0;
}

}  // namespace

void add_earnings_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<EarningsArgs>();
  auto* cmd = app.add_subcommand("earnings", "What your servers earned you, per server, today and in total (owners)");
  cmd->add_option("--server", a->server, "Only this server (its account id or a prefix of it)");
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
