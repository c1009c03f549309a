// `xop sessions [-a]`, `xop logs ID [-f] [--tail N]`, `xop stop ID...|--all`: your sessions,
// wherever they run. The platform is the source of truth (cli/session_directory.h: the corp's
// purchase orders and the servers' session APIs, the home a cache); servers are reached by
// identity through XIS. IDs may be shortened to any unique prefix (cli/id_match.h).
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/client_context.h"
#include "cli/exit_codes.h"
#include "cli/id_match.h"
#include "cli/log_tail.h"
#include "cli/output.h"
#include "cli/session_directory.h"
#include "cli/session_status.h"
#include "client/server_client.h"
#include "core/clock.h"

namespace xop {

namespace {
struct SessionArgs {
  std::string id;
  std::vector<std::string> ids;
  bool all = false;
  bool follow = false;
  int64_t tail = -1;  // -1: everything
};

Result<Json> fetch(SessionDirectory& dir, const DeployedSession& d, const std::string& method,
                   const std::string& suffix) {
  // Signed for the server the session was placed on, at its current endpoint (XIS's advert).
  XOP_ASSIGN_OR_RETURN(auto client, dir.server_client(d));
  if (suffix == "/logs") return client.logs(d.session).map(logs_answer_json);
  auto s = method == "DELETE" ? client.stop_session(d.session) : client.session(d.session);
  return s.map([](const SessionInfo& v) { return session_answer_json(v); });
}

SessionStatusInput status_input(const SessionInfo& s) {
  return SessionStatusInput{s.state, s.reason, s.exit_reason, s.exit_code, s.low_funds};
}

// The session `prefix` names (an exact id or a unique prefix) among those found.
Result<FoundSession> resolve(const std::vector<FoundSession>& found, const std::string& prefix) {
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (const auto& f : found) ids.push_back(f.where.session);
  XOP_ASSIGN_OR_RETURN(auto i, match_id(ids, prefix));
  return found[i];
}

std::string found_on(const DeployedSession& d) {
  return "found on " + d.name + (d.city.empty() ? "" : " (" + d.city + ")");
}

int list(const CliState& st, const SessionArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  return show_sessions(*c, st.json, a.all);
}
}  // namespace

int show_sessions(ClientContext& ctx, bool json, bool all) {
  SessionDirectory dir(ctx);
  auto found = dir.list();
  if (!found) return fail(found.error());
  Table t({"SESSION", "APP", "SERVER", "CITY", "STATUS", "AGE", "CPU USED", "MEMORY", "NET", "CLAIMED", "RECORDS"});
  Json out = Json::array();
  std::vector<std::string> notes = dir.notes();
  std::vector<std::string> endpoints;  // published ports of the listed sessions
  const TimeMs now = SystemClock::instance().now_ms();
  size_t hidden = 0;
  for (const auto& f : *found) {
    const auto& d = f.where;
    if (!f.live) {
      // Unknown whether it still runs (and charges): always listed, the reason in a note.
      t.add({short_id(d.session), d.label, d.name, d.city, "unknown", "-", "-", "-", "-", "-", "-"});
      out.push_back(Json{{"session", d.session}, {"server", d.server}, {"error", f.error}});
      notes.push_back(short_id(d.session) + " on " + d.name + ": " + f.error);
      continue;
    }
    const SessionInfo& s = *f.live;
    if (!all && !session_is_live(s.state)) {
      ++hidden;
      continue;
    }
    const std::string status = session_status(status_input(s));
    Json js = to_json(s);
    js["status"] = status;
    js["server"] = d.server;
    js["server_name"] = d.name;
    js["recorded"] = f.recorded;
    if (!f.recorded) {
      js["found_on"] = d.name;
      notes.push_back(short_id(d.session) + " is not recorded in this home; " + found_on(d));
    }
    out.push_back(std::move(js));
    if (s.network) {
      for (const auto& e : s.network->endpoints) {
        endpoints.push_back(short_id(d.session) + " " + e.name + " (" + e.protocol + " " + std::to_string(e.port) +
                            "): " + e.endpoint);
      }
    }
    t.add({short_id(d.session), d.label, d.name, d.city, status, session_age(s.created_at, now),
           cpu_seconds(s.usage.cpu_ns), human_bytes(s.memory_bytes), human_bytes(s.usage.net_bytes), credits(s.claimed),
           std::to_string(s.records)});
  }
  // A listing the platform could not fully confirm is not a success: a session missing from it may
  // still be charging. 3 when part of the platform answered, 1 when none of it did.
  const ListingCompleteness completeness = dir.completeness();
  if (json) {
    print_json(Json{{"sessions", out}, {"notes", notes}, {"complete", completeness == ListingCompleteness::kComplete}});
  } else {
    std::cout << t.render();
    for (const auto& e : endpoints) std::cout << "endpoint: " << e << "\n";
    for (const auto& n : notes) std::cout << "note: " << n << "\n";
    if (hidden > 0) std::cout << hidden << " ended session(s) not shown (xop sessions -a)\n";
    if (completeness == ListingCompleteness::kNothingAnswered) {
      std::cout << "note: neither the corp nor any server answered: this is only what this home recorded"
                   " (is the platform running? `xop account show` checks the corp)\n";
    } else if (completeness == ListingCompleteness::kPartial) {
      std::cout << "note: part of the platform did not answer: sessions may be missing or stale\n";
    }
  }
  switch (completeness) {
    case ListingCompleteness::kComplete:
      return kExitOk;
    case ListingCompleteness::kPartial:
      return kExitPartial;
    case ListingCompleteness::kNothingAnswered:
      break;
  }
  return kExitFailure;
}

namespace {

int logs(const CliState& st, const SessionArgs& a) {
  if (a.tail < -1) return usage_error("--tail: a count of lines, 0 or more");
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  SessionDirectory dir(*c);
  auto found = dir.list();
  if (!found) return fail(found.error());
  auto f = resolve(*found, a.id);
  if (!f) return fail(f.error());
  const DeployedSession d = f->where;
  auto r = fetch(dir, d, "GET", "/logs");
  if (!r) return fail(r.error());
  std::string seen = r->value("logs", "");
  if (st.json && !a.follow) {
    print_json(a.tail >= 0 ? Json{{"logs", last_lines(seen, static_cast<size_t>(a.tail))}} : *r);
    return kExitOk;
  }
  std::cout << (a.tail >= 0 ? last_lines(seen, static_cast<size_t>(a.tail)) : seen) << std::flush;
  if (!a.follow) return kExitOk;
  // Follow: poll the server, backing off while nothing new arrives, until the session ends (then
  // one last read) or the user presses Ctrl-C.
  auto wait = std::chrono::milliseconds(250);
  for (bool ended = false; !ended;) {
    std::this_thread::sleep_for(wait);
    auto s = fetch(dir, d, "GET", "");
    if (!s) return fail(s.error());
    ended = !session_is_live(s->value("session", Json::object()).value("state", ""));
    auto next = fetch(dir, d, "GET", "/logs");
    if (!next) return fail(next.error());
    const std::string text = next->value("logs", "");
    const std::string fresh = log_delta(seen, text);
    seen = text;
    std::cout << fresh << std::flush;
    wait = fresh.empty() ? std::min(wait * 2, std::chrono::milliseconds(2000)) : std::chrono::milliseconds(250);
  }
  return kExitOk;
}

// `stop ID...` stops those sessions wherever they run (recorded in the home or only found on the
// platform); `stop --all` every session that has not ended yet.
int stop(const CliState& st, const SessionArgs& a) {
  if (a.ids.empty() && !a.all) return usage_error("name one or more sessions, or pass --all");
  if (!a.ids.empty() && a.all) return usage_error("give session ids or --all, not both");
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  SessionDirectory dir(*c);
  auto found = dir.list();
  if (!found) return fail(found.error());
  std::vector<FoundSession> targets;
  int stopped = 0;
  int failed = 0;
  if (a.all) {
    for (const auto& f : *found) {
      if (f.live && !session_is_live(f.live->state)) continue;  // ended already
      targets.push_back(f);
    }
  } else {
    for (const auto& id : a.ids) {
      auto f = resolve(*found, id);
      if (!f) {
        ++failed;
        print_error(f.error().code_name(), f.error().message);
        continue;
      }
      targets.push_back(*f);
    }
  }
  Json results = Json::array();
  for (const auto& f : targets) {
    const auto& d = f.where;
    auto r = fetch(dir, d, "DELETE", "");
    if (!r) {
      ++failed;
      print_error(r.error().code_name(), d.session + ": " + r.error().message);
      results.push_back(Json{{"session", d.session}, {"error", r.error().message}});
      continue;
    }
    ++stopped;
    const Json s = r->value("session", Json::object());
    results.push_back(Json{{"session", d.session}, {"state", s.value("state", "")}, {"recorded", f.recorded}});
    if (!st.json) {
      std::cout << d.session << " " << s.value("state", "?") << " (" << s.value("reason", "") << ")"
                << (f.recorded ? "" : "; " + found_on(d)) << "\n";
    }
  }
  if (st.json) print_json(Json{{"stopped", stopped}, {"failed", failed}, {"sessions", results}});
  if (failed == 0) return kExitOk;
  return stopped > 0 ? kExitPartial : kExitFailure;
}
}  // namespace

void add_sessions_commands(CLI::App& app, CliState& st) {
  auto a = std::make_shared<SessionArgs>();
  auto* ls = app.add_subcommand("sessions", "List your running sessions with live usage (-a: all)");
  ls->add_flag("-a,--all", a->all, "Also the sessions that ended");
  ls->callback([a, &st] { st.code = list(st, *a); });
  auto* l = app.add_subcommand("logs", "Show a session's output (-f to follow)");
  l->add_option("id", a->id, "Session id, or a unique prefix of it")->required();
  l->add_flag("-f,--follow", a->follow, "Keep printing new output until the session ends (Ctrl-C to stop)");
  l->add_option("--tail", a->tail, "Only the last N lines (then follow, with -f)");
  l->callback([a, &st] { st.code = logs(st, *a); });
  auto* s = app.add_subcommand("stop", "Stop sessions by id (or unique prefix), or --all");
  s->add_option("ids", a->ids, "Session ids or unique prefixes");
  s->add_flag("--all", a->all, "Stop every session that has not ended");
  s->callback([a, &st] { st.code = stop(st, *a); });
}

}  // namespace xop
