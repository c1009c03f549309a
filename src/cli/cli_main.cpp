#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/suggest.h"
#include "core/log.h"
#include "deploy/user_home.h"

namespace xop {

namespace {
// Whether errors must be JSON before the line is parsed (a parse error can stop CLI11 before it
// has set --json): `--json` anywhere before a `--` separator, or XOP_OUTPUT=json.
bool wants_json(int argc, char** argv) {
  if (const char* o = std::getenv("XOP_OUTPUT"); o != nullptr && std::strcmp(o, "json") == 0) return true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

// The profile: --profile, else $XOP_PROFILE, else "dev" for `xop dev`, else "default" -- but when
// the default profile is empty (no key, no config) and a dev profile exists, that one, so that
// `xop dev &` then `xop account create` work without naming it.
void choose_profile(const CLI::App& app, CliState* st) {
  if (st->profile.empty()) {
    if (const char* p = std::getenv("XOP_PROFILE"); p != nullptr) st->profile = p;
  }
  st->profile_chosen = !st->profile.empty();
  auto resolve = [&](const std::string& p) {
    auto d = resolve_home_dirs(st->home, p);
    if (!d) throw CLI::ValidationError("--profile", d.error().message);
    return *d;
  };
  if (st->profile_chosen) {
    st->dirs = resolve(st->profile);
  } else if (app.got_subcommand("dev")) {
    st->dirs = resolve("dev");
  } else {
    st->dirs = resolve(kDefaultProfile);
    const UserHome def(st->dirs);
    std::error_code ec;
    if (!std::filesystem::exists(def.config_path(), ec) && !std::filesystem::exists(def.key_path(), ec)) {
      const HomeDirs dev = resolve("dev");
      if (std::filesystem::exists(UserHome(dev).config_path(), ec)) st->dirs = dev;
    }
  }
  st->home = st->dirs.config;
}

// `xop --help` lists verbs in groups: what users run, what server owners run, the daemons.
void group_verbs(CLI::App& app) {
  static const std::map<std::string, std::string> kGroup = {
      {"account", "User commands"}, {"search", "User commands"},
      {"quote", "User commands"},   {"locate", "User commands"},
      {"deploy", "User commands"},  {"sessions", "User commands"},
      {"logs", "User commands"},    {"stop", "User commands"},
      {"extend", "User commands"},  {"statement", "User commands"},
      {"key", "Owner commands"},    {"earnings", "Owner commands"},
      {"corp", "Daemons"},          {"xis", "Daemons"},
      {"server", "Daemons"},        {"dev", "Daemons"},
      {"completion", "Shell"}};
  for (auto* s : app.get_subcommands([](const CLI::App*) { return true; })) {
    const auto it = kGroup.find(s->get_name());
    s->group(it != kGroup.end() ? it->second : "Other commands");
  }
}

// The parse error in words, with a "did you mean" for a mistyped verb or flag.
std::string explain(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
  std::string where = "xop";
  std::vector<std::string> path;
  for (const CLI::App* a = at; a != nullptr && a != &app; a = a->get_parent()) path.insert(path.begin(), a->get_name());
  for (const auto& p : path) where += " " + p;
  std::vector<std::string> verbs;
  for (const auto* s : at->get_subcommands([](const CLI::App*) { return true; })) verbs.push_back(s->get_name());
  for (const auto& word : app.remaining()) {
    if (word.starts_with("--")) {
      std::vector<std::string> flags;
      for (const CLI::App* a = at; a != nullptr; a = a->get_parent()) {
        for (const auto* o : a->get_options()) {
          for (const auto& n : o->get_lnames()) flags.push_back("--" + n);
        }
      }
      const std::string flag = word.substr(0, word.find('='));
      const std::string near = closest_match(flag, flags);
      return "unknown flag " + flag + " for `" + where + "`" + (near.empty() ? "" : " (did you mean " + near + "?)");
    }
    if (!word.starts_with("-") && at->get_require_subcommand_min() > 0) {
      const std::string near = closest_match(word, verbs);
      return "unknown verb '" + word + "' for `" + where + "`" +
             (near.empty() ? "" : " (did you mean '" + near + "'?)");
    }
  }
  const bool no_verb = std::string(e.what()).find("ubcommand") != std::string::npos;  // "A subcommand is required"
  if (no_verb && at->get_require_subcommand_min() > 0 && at->get_subcommands().empty() && !verbs.empty()) {
    std::string list;
    for (const auto& v : verbs) list += (list.empty() ? "" : ", ") + v;
    return "`" + where + "` needs a verb: " + list;
  }
  return e.what();
}
}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"xop: the XenoServer Open Platform (global public computing)"};
  app.require_subcommand(1);
  // Global flags may come anywhere on the line: every subcommand (created below, so it inherits
  // this) passes options it does not know up to its parent.
  app.fallthrough();
  CliState st;
  std::string log_level;  // default: info for the daemons (one line per lifecycle event), warn otherwise
  app.add_flag("--json", st.json, "Machine-readable JSON output (also XOP_OUTPUT=json); errors too, on stderr");
  app.add_option("--home", st.home,
                 "One directory for your key, config and state (default $XOP_HOME, else the XDG directories)");
  app.add_option("--profile", st.profile,
                 "Which platform to talk to: its own key, config and state (also XOP_PROFILE)");
  app.add_option("--log-level", log_level, "debug, info, warn, error (default: info for corp, xis, server; else warn)");
  app.set_version_flag("--version", "xop 0.1.0");
  app.footer(
      "Global flags (--json, --home, --profile, --log-level) may come before or after the verb.\n"
      "Environment: XOP_HOME, XOP_PROFILE, XOP_CORP_URL, XOP_XIS_URL, XOP_OUTPUT=json,\n"
      "XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_CACHE_HOME.\n"
      "Exit codes: 0 success, 1 failure, 2 usage error, 3 partial success.");
  // User verbs first: `xop --help` shows the groups in this order.
  add_account_command(app, st);
  add_search_command(app, st);
  add_locate_command(app, st);
  add_quote_command(app, st);
  add_deploy_command(app, st);
  add_sessions_commands(app, st);
  add_extend_command(app, st);
  add_statement_command(app, st);
  add_key_command(app, st);
  add_earnings_command(app, st);
  add_corp_command(app, st);
  add_xis_command(app, st);
  add_server_command(app, st);
  add_dev_command(app, st);
  // `xop completion SHELL`: generated from the tree above, so it is added last.
  auto shell = std::make_shared<std::string>();
  auto* comp = app.add_subcommand("completion", "Print a shell completion script: bash, zsh or fish");
  comp->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  comp->callback([&app, shell] { std::cout << completion_script(app, *shell); });
  group_verbs(app);
  app.parse_complete_callback([&] {
    const bool daemon = app.got_subcommand("corp") || app.got_subcommand("xis") || app.got_subcommand("server");
    log::init(!log_level.empty() ? log_level : daemon ? "info" : "warn");
    choose_profile(app, &st);
    if (const char* o = std::getenv("XOP_OUTPUT"); o != nullptr && std::strcmp(o, "json") == 0) st.json = true;
    set_json_errors(st.json);
  });
  set_json_errors(wants_json(argc, argv));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    print_error("usage", explain(app, e));
    if (!wants_json(argc, argv) && !st.json)
      std::fprintf(stderr, "run `xop --help` (or `xop VERB --help`) for usage\n");
    return kExitUsage;
  } catch (const std::exception& e) {
    // A malformed answer from a daemon must not crash the CLI with an uncaught exception.
    return fail(std::string("unexpected response: ") + e.what());
  }
  return st.code;
}

}  // namespace xop
