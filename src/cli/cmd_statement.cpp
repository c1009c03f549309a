// `xop statement`: every charge with the usage behind it, and the corp's ledger check.
#include <fmt/format.h>

#include <cctype>
#include <iostream>
#include <map>

#include "cli/client_context.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/statement_summary.h"
#include "client/corp_client.h"

namespace xop {

namespace {
struct StatementArgs {
  bool records = false;
  std::string by;  // session, server or day: sums instead of purchase orders
  bool csv = false;
};

// `--by` and/or `--csv`: the statement summed per session, server or UTC day, or every record,
// as a table, JSON or CSV (cli/statement_summary.h).
int show_summary(ClientContext& c, const CliState& st, const StatementArgs& a) {
  auto s = c.corp->statement(c.key.account_id());
  if (!s) return fail(s.error());
  if (a.by.empty()) {  // --csv alone: every record
    std::cout << records_csv(*s);
    return kExitOk;
  }
  const StatementGrouping by = a.by == "session"  ? StatementGrouping::kSession
                               : a.by == "server" ? StatementGrouping::kServer
                                                  : StatementGrouping::kDay;
  auto rows = summarize_statement(*s, by);
  if (!rows) return fail(rows.error());
  if (a.csv) {
    std::cout << summary_csv(*rows, by);
    return kExitOk;
  }
  if (st.json) {
    Json arr = Json::array();
    for (const auto& r : *rows) {
      arr.push_back(Json{{a.by, r.key},
                         {"records", r.records},
                         {"used", to_json(r.used)},
                         {"claimed_micros", r.claimed},
                         {"charged_micros", r.charged}});
    }
    print_json(Json{{"account", s->account}, {"by", a.by}, {"rows", std::move(arr)}});
    return kExitOk;
  }
  std::string head = a.by;
  for (auto& ch : head) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  Table t({head + (by == StatementGrouping::kDay ? " (UTC)" : ""), "RECORDS", "CPU USED", "MEM GiB-s", "NET MiB",
           "CHARGED"});
  int64_t total = 0;
  for (const auto& r : *rows) {
    total += r.charged;
    t.add({by == StatementGrouping::kDay ? r.key : r.key.substr(0, 16), std::to_string(r.records),
           cpu_seconds(r.used.cpu_ns),
           fmt::format("{:.2f}", static_cast<double>(r.used.memory_byte_seconds) / (1 << 30)),
           fmt::format("{:.2f}", static_cast<double>(r.used.net_bytes) / (1 << 20)), credits(r.charged)});
  }
  std::cout << "statement for " << s->account << " by " << a.by << "\n\n"
            << t.render() << "\ntotal charged  " << credits(total) << "\n";
  return kExitOk;
}

int run(const CliState& st, const StatementArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  if (a.csv && st.json) return usage_error("--csv and --json are two formats: choose one");
  if (a.csv && a.records) return usage_error("--csv already lists every record (without --by): drop --records");
  if (!a.by.empty() || a.csv) return show_summary(*c, st, a);
  return show_statement(*c, st.json, a.records);
}
}  // namespace

int show_statement(ClientContext& ctx, bool json, bool records) {
  auto* c = &ctx;
  auto r = c->corp->statement(c->key.account_id()).map([](const StatementView& v) { return to_json(v); });
  if (!r) return fail(r.error());
  auto check = c->corp->ledger_check().map([](const LedgerCheckView& v) { return to_json(v); });
  if (!check) return fail(check.error());
  if (json) {
    print_json(Json{{"statement", *r}, {"ledger_check", *check}});
    return 0;
  }
  std::cout << "statement for " << c->key.account_id() << "\n\n";
  // Name servers by what this user deployed there (the corp knows only their account ids).
  std::map<std::string, std::string> where;
  if (auto known = c->home.load_sessions(); known) {
    for (const auto& d : *known) where[d.po_id] = d.name;
  }
  Table t({"PURCHASE ORDER", "SERVER", "STATE", "RECORDS", "CPU USED", "MEM GiB-s", "NET MiB", "HELD", "CHARGED"});
  int64_t total = 0;
  for (const auto& po : r->value("purchase_orders", Json::array())) {
    int64_t cpu = 0;
    int64_t mem = 0;
    int64_t net = 0;
    const Json recs = po.value("records", Json::array());
    for (const auto& rec : recs) {
      const Json used = rec.value("used", Json::object());
      cpu += used.value("cpu_ns", int64_t{0});
      mem += used.value("memory_byte_seconds", int64_t{0});
      net += used.value("net_bytes", int64_t{0});
    }
    const int64_t charged = po.value("charged_micros", int64_t{0});
    total += charged;
    const std::string po_id = po.value("po_id", "");
    const std::string server = where.contains(po_id) ? where[po_id] : po.value("server", "").substr(0, 12);
    t.add({po_id, server, po.value("state", ""), std::to_string(recs.size()), cpu_seconds(cpu),
           fmt::format("{:.2f}", static_cast<double>(mem) / (1 << 30)),
           fmt::format("{:.2f}", static_cast<double>(net) / (1 << 20)),
           credits(po.value("max_amount_micros", int64_t{0})), credits(charged)});
    if (records) {
      for (const auto& rec : recs) {
        const Json used = rec.value("used", Json::object());
        std::cout << fmt::format(
            "  {} seq {:>3}  {:>6} ms  cpu {:>10}  net {:>10} B  claimed {}  charged {}{}\n", rec.value("session", ""),
            rec.value("seq", int64_t{0}), rec.value("period_end", int64_t{0}) - rec.value("period_start", int64_t{0}),
            cpu_seconds(used.value("cpu_ns", int64_t{0})), used.value("net_bytes", int64_t{0}),
            credits(rec.value("amount_micros", int64_t{0})), credits(rec.value("charged_micros", int64_t{0})),
            rec.value("final", false) ? "  final" : "");
      }
    }
  }
  std::cout << t.render() << "\n"
            << "total charged  " << credits(total) << "\n"
            << "balance        " << credits(r->value("balance_micros", int64_t{0})) << "\n"
            << "still held     " << credits(r->value("held_micros", int64_t{0})) << "\n\n";
  const bool balanced = check->value("balanced", false);
  std::cout << "ledger check: " << (balanced ? "BALANCED" : "NOT BALANCED") << " ("
            << check->value("transactions", int64_t{0}) << " transactions, " << check->value("entries", int64_t{0})
            << " entries, sum of all accounts " << credits(check->value("total_micros", int64_t{0})) << ")\n";
  for (const auto& p : check->value("problems", Json::array())) std::cout << "  problem: " << p.dump() << "\n";
  return balanced ? kExitOk : kExitFailure;
}

void add_statement_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<StatementArgs>();
  auto* cmd = app.add_subcommand("statement", "Your charges, with the usage behind each, and the ledger check");
  cmd->add_flag("--records", a->records, "Show every usage record");
  cmd->add_option("--by", a->by, "Sum the charges per session, server or UTC day")
      ->check(CLI::IsMember({"session", "server", "day"}));
  cmd->add_flag("--csv", a->csv, "Write CSV: every usage record, or with --by the sums (RFC 4180, UTC times)");
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
