// `xop sessions`, `xop logs ID`, `xop stop ID|--all`: your sessions, wherever they run.
#include <iostream>

#include "cli/client_context.h"
#include "cli/output.h"
#include "client/server_client.h"

namespace xop {

namespace {
struct SessionArgs {
  std::string id;
  bool all = false;
};

Result<Json> fetch(const ClientContext& c, const DeployedSession& d, const std::string& method,
                   const std::string& suffix) {
  XOP_ASSIGN_OR_RETURN(auto server, ApiClient::connect(d.endpoint, c.key));
  // Signed for the server the session was placed on, never for whatever the endpoint claims.
  if (!d.server.empty()) server.set_audience(d.server);
  ServerClient client(std::move(server));
  if (suffix == "/logs") return client.logs(d.session).map(logs_answer_json);
  auto s = method == "DELETE" ? client.stop_session(d.session) : client.session(d.session);
  return s.map([](const SessionInfo& v) { return session_answer_json(v); });
}

int list(const CliState& st) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  return show_sessions(*c, st.json);
}
}  // namespace

int show_sessions(ClientContext& ctx, bool json) {
  auto* c = &ctx;
  auto known = c->home.load_sessions();
  if (!known) return fail(known.error());
  Table t({"SESSION", "APP", "SERVER", "CITY", "STATE", "CPU USED", "MEMORY", "CLAIMED", "RECORDS"});
  Json out = Json::array();
  for (const auto& d : *known) {
    auto r = fetch(*c, d, "GET", "");
    if (!r) {
      t.add({d.session, d.label, d.name, d.city, "unreachable: " + r.error().message});
      out.push_back(Json{{"session", d.session}, {"error", r.error().message}});
      continue;
    }
    const Json s = r->value("session", Json::object());
    const Json u = s.value("usage", Json::object());
    out.push_back(s);
    // "stopped (oom-killed)": how the workload ended, once it did.
    std::string state = s.value("state", "?");
    if (const std::string how = s.value("exit_reason", ""); !how.empty()) state += " (" + how + ")";
    t.add({d.session, d.label, d.name, d.city, state, cpu_seconds(u.value("cpu_ns", int64_t{0})),
           human_bytes(s.value("memory_bytes", int64_t{0})), credits(s.value("claimed", int64_t{0})),
           std::to_string(s.value("records", int64_t{0}))});
  }
  if (json) {
    print_json(Json{{"sessions", out}});
  } else {
    std::cout << t.render();
  }
  return 0;
}

namespace {

int logs(const CliState& st, const SessionArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  auto known = c->home.load_sessions();
  if (!known) return fail(known.error());
  for (const auto& d : *known) {
    if (d.session != a.id) continue;
    auto r = fetch(*c, d, "GET", "/logs");
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

int stop(const CliState& st, const SessionArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  auto known = c->home.load_sessions();
  if (!known) return fail(known.error());
  if (a.id.empty() && !a.all) return fail("name a session, or pass --all");
  int stopped = 0;
  int failed = 0;
  for (const auto& d : *known) {
    if (!a.all && d.session != a.id) continue;
    auto r = fetch(*c, d, "DELETE", "");
    if (!r) {
      ++failed;
      std::cerr << "error: " << d.session << ": " << r.error().message << "\n";
      continue;
    }
    ++stopped;
    const Json s = r->value("session", Json::object());
    if (!st.json) std::cout << d.session << " " << s.value("state", "?") << " (" << s.value("reason", "") << ")\n";
  }
  if (stopped + failed == 0) return fail("unknown session " + a.id + " (see `xop sessions`)");
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
