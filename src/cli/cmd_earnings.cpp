// `xop earnings`: what the servers you own earned you, per server, today (since 00:00 UTC) and in
// total, from the corp's ledger (GET /v1/accounts/{id}/earnings, docs/api/corp.yaml).
#include <fmt/format.h>

#include <iostream>

#include "cli/client_context.h"
#include "cli/output.h"
#include "cli/statement_summary.h"

namespace xop {

namespace {

struct EarningsArgs {
  std::string server;  // an id or a prefix of one; empty: all your servers
  bool csv = false;
};

int run(const CliState& st, const EarningsArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  auto r = c->corp->earnings(c->key.account_id());
  if (!r) return fail(r.error());
  if (a.csv && st.json) return usage_error("--csv and --json are two formats: choose one");
  // Only the servers asked for, and their sums.
  EarningsView shown = *r;
  shown.servers.clear();
  shown.total = 0;
  shown.today = 0;
  for (const auto& s : r->servers) {
    if (!a.server.empty() && s.server.rfind(a.server, 0) != 0) continue;
    shown.total += s.total;
    shown.today += s.today;
    shown.servers.push_back(s);
  }
  const auto& servers = shown.servers;
  const int64_t total = shown.total;
  const int64_t today = shown.today;
  if (!a.server.empty() && servers.empty()) return fail("you own no server " + a.server);
  if (st.json) {
    print_json(to_json(shown));
    return 0;
  }
  if (a.csv) {
    std::cout << "server,name,settlements,today_micros,total_micros,today_credits,total_credits\r\n";
    for (const auto& s : servers) {
      std::cout << fmt::format("{},{},{},{},{},{},{}\r\n", csv_field(s.server), csv_field(s.name), s.settlements,
                               s.today, s.total, credits_decimal(s.today), credits_decimal(s.total));
    }
    return 0;
  }
  if (servers.empty()) {
    std::cout << "you own no servers (a server names its owner with `owner = \"" << c->key.account_id()
              << "\"` in its config)\n";
    return 0;
  }
  Table t({"SERVER", "NAME", "RECORDS", "TODAY", "TOTAL"});
  for (const auto& s : servers) {
    t.add({s.server.substr(0, 12), s.name, std::to_string(s.settlements), credits(s.today), credits(s.total)});
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
  cmd->add_flag("--csv", a->csv, "Write CSV (RFC 4180): one line per server");
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
