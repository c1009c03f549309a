// `xop sessions`, `xop logs ID`, `xop stop ID|--all`: your sessions, wherever they run.
#include <iostream>

#include "cli/client_context.h"
#include "cli/output.h"
#include "cli/session_directory.h"

namespace xop {

namespace {
struct SessionArgs {
  std::string id;
  bool all = false;
};

int list(const CliState& st) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  return show_sessions(*c, st.json);
}

std::string found_on(const DeployedSession& d) {
  return "found on " + d.name + (d.city.empty() ? "" : " (" + d.city + ")");
}
}  // namespace

// The platform's view (corp POs + the servers' session APIs) merged with the home's records.
int show_sessions(ClientContext& ctx, bool json) {
  SessionDirectory dir(ctx);
  auto found = dir.list();
  if (!found) return fail(found.error());
  Table t({"SESSION", "APP", "SERVER", "CITY", "STATE", "CPU USED", "MEMORY", "CLAIMED", "RECORDS"});
  Json out = Json::array();
  std::vector<std::string> notes = dir.notes();
  for (const auto& f : *found) {
    const auto& d = f.where;
    if (!f.live) {
      t.add({d.session, d.label, d.name, d.city, "unreachable: " + f.error});
      out.push_back(Json{{"session", d.session}, {"error", f.error}});
      continue;
    }
    Json s = *f.live;
    const Json u = s.value("usage", Json::object());
    // "stopped (oom-killed)": how the workload ended, once it did.
    std::string state = s.value("state", "?");
    if (const std::string how = s.value("exit_reason", ""); !how.empty()) state += " (" + how + ")";
    t.add({d.session, d.label, d.name, d.city, state, cpu_seconds(u.value("cpu_ns", int64_t{0})),
           human_bytes(s.value("memory_bytes", int64_t{0})), credits(s.value("claimed", int64_t{0})),
           std::to_string(s.value("records", int64_t{0}))});
    s["server"] = d.server;
    s["server_name"] = d.name;
    s["recorded"] = f.recorded;
    if (!f.recorded) {
      s["found_on"] = d.name;
      notes.push_back(d.session + " is not recorded in this home; " + found_on(d));
    }
    out.push_back(std::move(s));
  }
  if (json) {
    print_json(Json{{"sessions", out}, {"notes", notes}});
  } else {
    std::cout << t.render();
    for (const auto& n : notes) std::cout << "note: " << n << "\n";
  }
  return 0;
}

namespace {

int logs(const CliState& st, const SessionArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  SessionDirectory dir(*c);
  auto found = dir.list();
  if (!found) return fail(found.error());
  for (const auto& f : *found) {
    if (f.where.session != a.id) continue;
    auto server = dir.server_client(f.where);
    if (!server) return fail(server.error());
    auto r = server->call("GET", "/v1/sessions/" + f.where.session + "/logs");
    if (!r) return fail(r.error());
    if (st.json) {
      print_json(*r);
    } else {
      std::cout << r->value("logs", "");
    }
    return 0;
  }
  return fail("unknown session " + a.id + " (see `xop sessions`)");
}

// `stop ID` stops that session wherever it runs (recorded in the home or only found on the
// platform); `stop --all` every session that is not stopped yet.
int stop(const CliState& st, const SessionArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  if (a.id.empty() && !a.all) return fail("name a session, or pass --all");
  SessionDirectory dir(*c);
  auto found = dir.list();
  if (!found) return fail(found.error());
  int stopped = 0;
  int failed = 0;
  bool named = false;
  for (const auto& f : *found) {
    const auto& d = f.where;
    if (!a.all && d.session != a.id) continue;
    named = true;
    if (a.all && f.live && f.live->value("state", "") == "stopped") continue;
    auto server = dir.server_client(d);
    auto r = server ? server->call("DELETE", "/v1/sessions/" + d.session)
                    : Result<Json>(tl::make_unexpected(server.error()));
    if (!r) {
      ++failed;
      std::cerr << "error: " << d.session << ": " << r.error().message << "\n";
      continue;
    }
    ++stopped;
    const Json s = r->value("session", Json::object());
    if (!st.json) {
      std::cout << d.session << " " << s.value("state", "?") << " (" << s.value("reason", "") << ")"
                << (f.recorded ? "" : "; " + found_on(d)) << "\n";
    }
  }
  if (!named && !a.all) return fail("unknown session " + a.id + " (see `xop sessions`)");
  if (st.json) print_json(Json{{"stopped", stopped}, {"failed", failed}});
  return failed == 0 ? 0 : 1;
}
}  // namespace

void add_sessions_commands(CLI::App& app, CliState& st) {
  auto a = std::make_shared<SessionArgs>();
  app.add_subcommand("sessions", "List your sessions with live usage")->callback([&st] { st.code = list(st); });
  auto* l = app.add_subcommand("logs", "Show a session's output");
  l->add_option("id", a->id, "Session id")->required();
  l->callback([a, &st] { st.code = logs(st, *a); });
  auto* s = app.add_subcommand("stop", "Stop a session (or --all)");
  s->add_option("id", a->id, "Session id");
  s->add_flag("--all", a->all, "Stop every session you deployed");
  s->callback([a, &st] { st.code = stop(st, *a); });
}

}  // namespace xop
