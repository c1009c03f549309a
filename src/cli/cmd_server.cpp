// `xop server`: runs a XenoServer daemon. Options: server/server_config.h, docs/operating.md.
// `xop server status`: the owner's view of a running server (docs/operating.md "Owner's tools").
#include <fmt/format.h>

#include <iostream>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "client/server_client.h"
#include "core/file_util.h"
#include "proto/advert.h"
#include "proto/owner_consent.h"
#include "server/host_check.h"
#include "server/xeno_server.h"

namespace xop {

namespace {
int run(const DaemonFlags& f) {
  auto cfg = load_server_config(f.config, f.given());
  if (!cfg) return fail(cfg.error());
  block_termination_signals();
  auto server = XenoServer::open(*cfg, SystemClock::instance());
  if (!server) return fail(server.error());
  if (auto s = (*server)->start(); !s) return fail(s.error());
  if (auto s = announce("xop server " + cfg->name, (*server)->url(), cfg->port_file); !s) return fail(s.error());
  wait_for_termination();
  (*server)->stop(cfg->stop_sessions);
  return 0;
}

// `xop server --check`: what this host offers a server (server/host_check.h), with the config's
// runtime and network; 0 when every needed check passed.
int check(const CliState& st, const DaemonFlags& f) {
  ServerConfig cfg;
  if (!f.config.empty()) {
    auto loaded = load_server_config(f.config, f.given());
    if (!loaded) return fail(loaded.error());
    cfg = *loaded;
  } else {
    // Without a config file: the defaults, with what the flags given say about runtime and network.
    for (const auto& [key, value] : f.given()) {
      if (key == "runtime") cfg.runtime = value;
      if (key == "network.bridge") cfg.network_bridge = value;
      if (key == "network.pool") cfg.network_pool = value;
      if (key == "network.port_range") cfg.network_port_range = value;
      if (key == "network.enabled") cfg.network_enabled = value == "true";
      if (key == "network.deny") cfg.network_deny = value;
    }
    if (cfg.runtime != "auto" && cfg.runtime != "runc" && cfg.runtime != "crun" && cfg.runtime != "mock") {
      return usage_error("--runtime: must be auto, runc, crun or mock");
    }
  }
  const auto checks = check_host(cfg);
  const bool ready = host_ready(checks);
  std::string in_use;
  for (const auto& c : checks) {
    if (c.name == "runtime in use") in_use = c.detail.substr(0, c.detail.find(' '));
  }
  if (st.json) {
    Json arr = Json::array();
    for (const auto& c : checks) {
      arr.push_back(Json{{"name", c.name}, {"ok", c.ok}, {"needed", c.needed}, {"detail", c.detail}});
    }
    print_json(Json{{"ready", ready}, {"runtime", in_use}, {"checks", std::move(arr)}});
    return ready ? 0 : 1;
  }
  Table t({"CHECK", "STATE", "DETAIL"});
  for (const auto& c : checks) t.add({c.name, c.ok ? "ok" : (c.needed ? "MISSING" : "no"), c.detail});
  std::cout << t.render();
  if (ready) {
    std::cout << "\nready: this host can run sessions with " << in_use << "\n";
  } else {
    std::cout << "\nNOT READY: a needed check failed (MISSING above); `xop server` would refuse to start or fail "
                 "every session\n";
  }
  return ready ? 0 : 1;
}

struct StatusArgs {
  std::string url;     // the server's API, or its id (a prefix) or name; default: from --config, else the default port
  std::string config;  // the server's config file (port_file, advertise_url or listen)
};

// Where the server's API is: the URL given, else what its config says (the port file it wrote,
// its advertised URL, its listen address), else the default port on this host.
Result<std::string> status_url(const StatusArgs& a) {
  if (!a.url.empty()) return a.url;
  if (a.config.empty()) return std::string("http://127.0.0.1:7402");
  XOP_ASSIGN_OR_RETURN(auto cfg, load_server_config(a.config));
  if (!cfg.port_file.empty()) {
    if (auto text = read_file_capped(cfg.port_file, 4096); text) {
      std::string u = *text;
      while (!u.empty() && (u.back() == '\n' || u.back() == '\r')) u.pop_back();
      if (!u.empty()) return u;
    }
  }
  if (!cfg.advertise_url.empty()) return cfg.advertise_url;
  std::string host = cfg.listen_host;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "[::1]";
  return fmt::format("http://{}:{}", host, cfg.listen_port);
}

// A server named by identity: its account id (or a unique prefix) or its name, resolved to the
// endpoint of its signed advert at XIS, so a server that moved is still found.
struct Resolved {
  std::string url;
  std::string server;  // the id the advert was signed by
};
Result<Resolved> resolve_server(ClientContext& c, const std::string& who) {
  if (!c.xis) return invalid("no XIS in your config to find server " + who + "; give its URL");
  XOP_ASSIGN_OR_RETURN(auto list, c.xis->adverts());
  std::vector<Resolved> found;
  for (const auto& doc : list) {
    auto adv = verify_advert(doc);
    if (!adv) continue;  // unsigned or forged adverts name nobody
    if (adv->server.rfind(who, 0) == 0 || adv->name == who) found.push_back(Resolved{adv->endpoint, adv->server});
  }
  if (found.empty()) return make_error(ErrorCode::kNotFound, "no live advert at XIS for server " + who);
  if (found.size() > 1) return invalid("server " + who + " is ambiguous: " + std::to_string(found.size()) + " match");
  return found.front();
}

// The id of the only server the corp credits this key's earnings with; empty when it owns none or
// the corp cannot say (then the default port on this host); an error naming them when several.
Result<std::string> owned_server(ClientContext& c) {
  auto e = c.corp->earnings(c.key.account_id());
  if (!e || e->servers.empty()) return std::string();
  if (e->servers.size() == 1) return e->servers.front().server;
  std::string names;
  for (const auto& s : e->servers) names += (names.empty() ? "" : ", ") + (s.name.empty() ? s.server : s.name);
  return invalid(fmt::format("you own {} servers ({}): name one, e.g. xop server status {}", e->servers.size(), names,
                             e->servers.front().name.empty() ? e->servers.front().server : e->servers.front().name));
}

std::string ago(int64_t ms) {
  if (ms < 0) return "never";
  if (ms < 1000) return fmt::format("{} ms ago", ms);
  if (ms < 120'000) return fmt::format("{} s ago", ms / 1000);
  if (ms < 7'200'000) return fmt::format("{} min ago", ms / 60'000);
  return fmt::format("{} h ago", ms / 3'600'000);
}

std::string resources_text(const Resources& r) {
  return fmt::format("{} cpu_millis, {}", r.cpu_millis, human_bytes(r.memory_bytes));
}

// The API of the server `a` names (see StatusArgs), and the identity it must answer as when it
// was found through XIS (empty otherwise). A usage error is marked kInvalidArgument.
struct Located {
  std::string url;
  std::string expected;
};
Result<Located> locate_server(ClientContext& c, const StatusArgs& a) {
  Located out;
  std::string who = a.url;
  if (who.empty() && a.config.empty()) {
    // No server named: the one server the corp says this key owns, found through XIS.
    XOP_ASSIGN_OR_RETURN(who, owned_server(c));  // empty: the default port on this host
  }
  if (!who.empty() && who.rfind("http://", 0) != 0 && who.rfind("https://", 0) != 0) {
    XOP_ASSIGN_OR_RETURN(auto r, resolve_server(c, who));
    out.url = r.url;
    out.expected = r.server;
    return out;
  }
  XOP_ASSIGN_OR_RETURN(out.url, status_url(a));
  return out;
}

int status(const CliState& st, const StatusArgs& a) {
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  auto where = locate_server(*c, a);
  if (!where) {
    if (where.error().code == ErrorCode::kInvalidArgument) return usage_error(where.error().message);
    return fail(where.error());
  }
  const std::string& expected = where->expected;  // the identity asked for, when resolved through XIS
  const std::string* url = &where->url;
  auto server = ServerClient::connect(*url, c->key);
  if (!server) return fail(server.error());
  auto s = server->status();
  if (!s) return fail(s.error());
  const std::string& id = s->server;
  if (!expected.empty() && id != expected) return fail(*url + " answers as server " + id + ", not " + expected);
  // Earnings come from the corp's ledger; the server's own view cannot vouch for them.
  auto e = c->corp->earnings(id);
  if (st.json) {
    Json out = to_json(*s);
    out["earnings"] = e ? to_json(*e) : Json{{"error", e.error().message}};
    print_json(out);
    return e ? 0 : 1;
  }
  const auto& reg = s->registration;
  const auto& adv = s->advert;
  const auto& corp = s->corp;
  std::cout << "server       " << s->name << " (" << id << ") at " << *url << "\n";
  std::cout << "registered   " << (reg.registered ? "yes, with the corp " + reg.corp_url : "no") << "\n";
  std::cout << "corp         "
            << (corp.reachable
                    ? std::string("reachable")
                    : fmt::format("UNREACHABLE ({} failed deliveries: {})", corp.delivery_failures, corp.error))
            << "\n";
  std::string adv_line = adv.state;
  if (adv.state != "disabled") {
    adv_line = fmt::format("{} at {}, last accepted {} ({}; TTL {} s)", adv.state, adv.xis_url, ago(adv.age_ms),
                           adv.fresh ? "fresh" : "STALE", adv.ttl_ms / 1000);
    if (!adv.error.empty()) adv_line += "; last error: " + adv.error;
  }
  std::cout << "advert       " << adv_line << "\n";
  std::cout << "capacity     " << resources_text(s->capacity) << "\n";
  std::cout << "in use       " << resources_text(s->in_use) << "\n";
  if (e) {
    std::cout << "earnings     " << credits(e->today) << " today, " << credits(e->total) << " in total\n";
  } else {
    std::cout << "earnings     unknown: " << e.error().message << "\n";
  }
  std::cout << "\n" << s->sessions.size() << " session(s) hosted\n";
  if (!s->sessions.empty()) {
    Table t({"SESSION", "USER", "STATE", "CLAIMED"});
    for (const auto& x : s->sessions) {
      t.add({x.id.substr(0, 12), x.user.substr(0, 12), x.state, credits(x.claimed)});
    }
    std::cout << t.render();
  }
  return e ? 0 : 1;
}
struct ConsentArgs {
  std::string server;  // the server's account id
  std::string out;     // file to write (default: standard output)
};

// The owner's signed consent to be named by a server (proto/owner_consent.h), signed with this
// profile's key: the server sends it when it first registers.
int consent(const CliState& st, const ConsentArgs& a) {
  if (!is_account_id(a.server)) {
    return usage_error("'" + a.server +
                       "' is not a server id: give the server's full account id (its registration refusal and `xop "
                       "key new` print it)");
  }
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  if (a.server == c->key.account_id()) return usage_error("a server cannot be owned by its own key");
  auto doc = sign_owner_consent(c->key, a.server, SystemClock::instance().now_ms());
  if (!doc) return fail(doc.error());
  const std::string text = doc->to_json().dump(2) + "\n";
  if (a.out.empty()) {
    std::cout << text;
    return 0;
  }
  if (auto w = write_file_atomic(a.out, text); !w) return fail(w.error());
  if (st.json) {
    print_json(Json{{"owner", c->key.account_id()}, {"server", a.server}, {"file", a.out}});
  } else {
    std::cout << "wrote the consent of " << c->key.account_id() << " to be named by server " << a.server << " to "
              << a.out << "\n(the server reads it from owner_consent_file, default <data_dir>/owner-consent.json)\n";
  }
  return 0;
}
struct EvictArgs {
  std::string session;  // a session id or a unique prefix of one
  StatusArgs where;     // which server (as for `xop server status`)
};

// The owner stops a session on its server: its user is charged up to now and its purchase order
// closes; the session's exit reason says "evicted".
int evict(const CliState& st, const EvictArgs& a) {
  if (a.session.empty())
    return usage_error("name the session to evict (its id or a prefix, as `xop server status` lists it)");
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  auto where = locate_server(*c, a.where);
  if (!where) {
    if (where.error().code == ErrorCode::kInvalidArgument) return usage_error(where.error().message);
    return fail(where.error());
  }
  auto server = ServerClient::connect(where->url, c->key);
  if (!server) return fail(server.error());
  auto s = server->status();  // only the owner (or the server's key) may read it
  if (!s) return fail(s.error());
  if (!where->expected.empty() && s->server != where->expected)
    return fail(where->url + " answers as server " + s->server + ", not " + where->expected);
  std::vector<std::string> matches;
  for (const auto& x : s->sessions) {
    if (x.id.rfind(a.session, 0) == 0) matches.push_back(x.id);
  }
  if (matches.empty()) {
    return fail(Error{ErrorCode::kNotFound,
                      "server " + s->name + " hosts no session " + a.session + " (`xop server status` lists them)"});
  }
  if (matches.size() > 1) {
    return usage_error("session " + a.session + " is ambiguous on server " + s->name + ": " +
                       std::to_string(matches.size()) + " match; give more of its id");
  }
  auto v = server->stop_session(matches.front());
  if (!v) return fail(v.error());
  if (st.json) {
    print_json(to_json(*v));
    return 0;
  }
  std::cout << "evicted session " << v->id << " of " << v->user << " from server " << s->name
            << "\n(its user pays up to now; the session's exit reason says " << v->exit_reason << ")\n";
  return 0;
}
}  // namespace

void add_server_command(CLI::App& app, CliState& st) {
  auto f = std::make_shared<DaemonFlags>();
  auto* cmd = app.add_subcommand("server", "Run a XenoServer: host sessions for others and get paid");
  ServerConfigInput defaults;
  add_daemon_flags(cmd, server_config_table(&defaults), f.get());
  auto check_only = std::make_shared<bool>(false);
  cmd->add_flag("--check", *check_only,
                "Check this host for real sessions (runtimes, cgroups, seccomp, disks, network, user namespaces) "
                "and exit: 0 when ready");

  auto a = std::make_shared<StatusArgs>();
  auto* status_cmd = cmd->add_subcommand(
      "status", "Your server's registration, advert, capacity in use, sessions and earnings (run as its owner)");
  status_cmd->add_option("SERVER", a->url,
                         "The server's API URL, or its id (a prefix) or name, found through XIS (default: from "
                         "--config, else the one server you own, else http://127.0.0.1:7402)");
  status_cmd->add_option("--config", a->config, "The server's config file, to find its API");
  status_cmd->callback([a, &st] { st.code = status(st, *a); });

  auto ca = std::make_shared<ConsentArgs>();
  auto* consent_cmd = cmd->add_subcommand(
      "consent", "As an owner, consent to be named by a server: writes the signed document it registers with");
  consent_cmd->add_option("SERVER_ID", ca->server, "The server's account id")->required();
  consent_cmd->add_option("--out,-o", ca->out, "Write it to this file (default: standard output)");
  consent_cmd->callback([ca, &st] { st.code = consent(st, *ca); });

  auto ea = std::make_shared<EvictArgs>();
  auto* evict_cmd = cmd->add_subcommand(
      "evict", "As an owner, stop any session on your server (its user pays up to now; exit reason \"evicted\")");
  evict_cmd->add_option("SESSION", ea->session, "The session's id or a unique prefix (see xop server status)")
      ->required();
  evict_cmd->add_option("--server", ea->where.url,
                        "The server's API URL, or its id (a prefix) or name (default: as for xop server status)");
  evict_cmd->add_option("--config", ea->where.config, "The server's config file, to find its API");
  evict_cmd->callback([ea, &st] { st.code = evict(st, *ea); });

  cmd->callback([f, status_cmd, consent_cmd, evict_cmd, check_only, &st] {
    // `xop server status`, `consent` or `evict` ran instead of the daemon.
    if (status_cmd->parsed() || consent_cmd->parsed() || evict_cmd->parsed()) return;
    if (*check_only) {
      st.code = check(st, *f);
      return;
    }
    st.code = run(*f);
  });
}

}  // namespace xop
