// `xop dev`: a whole platform on this machine (XenoCorp, XIS, N XenoServers at named cities),
// and with --demo the main job end to end: account, funds, deploy a real container onto the 3
// servers nearest a place, watch live usage, stop, and print the statement and ledger check.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/client_context.h"
#include "cli/daemon.h"
#include "cli/output.h"
#include "client/corp_client.h"
#include "client/server_client.h"
#include "core/file_lock.h"
#include "deploy/deployer.h"
#include "server/session_network.h"
#include "sim/platform.h"

namespace xop {

namespace fs = std::filesystem;

namespace {
struct DevArgs {
  int servers = 5;
  std::string data_dir;
  std::string runtime = "runc";
  bool demo = false;
  std::string near = "48.8566,2.3522";  // Paris
  std::string near_name = "Paris";
  int count = 3;
  int run_seconds = 8;
  int64_t charging_interval_ms = 2000;
  std::string image;
  std::string port_file;
  bool overwrite_config = false;
  bool no_network = false;
};

std::string default_image() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  return (ec ? fs::path(".") : exe.parent_path()).string() + "/images/burner";
}

// The profile that holds the servers' owner key beside `profile` ("dev" -> "dev-owner").
std::string owner_profile(const std::string& profile) { return profile + "-owner"; }

void heading(const std::string& s) { std::cout << "\n== " << s << " ==" << std::endl; }

// The scripted walk-through. Uses only the public API, like any user would.
int demo(const CliState& st, const DevArgs& a, Platform& platform) {
  UserHome home(st.dirs);
  heading("1. account");
  auto key = home.load_key();
  if (!key) {
    key = KeyPair::generate();
    if (auto s = home.save_key(*key); !s) return fail(s.error());
  }
  auto ctx = load_client_context(st);
  if (!ctx) return fail(ctx.error());
  auto reg = ctx->corp->register_account(RegisterAccountRequest{AccountKind::kUser, "demo-user", std::nullopt});
  if (!reg) return fail(reg.error());
  std::cout << "registered user " << key->account_id() << " (key in " << home.key_path() << ")\n";

  heading("2. fund");
  auto admin = CorpClient::connect(platform.corp_url(), platform.admin_key());
  if (!admin) return fail(admin.error());
  auto dep = admin->deposit(DepositRequest{key->account_id(), 100 * Money::kMicrosPerCredit, "dev faucet"})
                 .map([](const DepositAnswer& v) { return to_json(v); });
  if (!dep) return fail(dep.error());
  std::cout << "deposited 100.00 credits; balance " << credits(dep->value("balance_micros", int64_t{0})) << "\n";

  auto ll = parse_lat_lon(a.near);
  if (!ll) return fail(ll.error());
  DeployManifest m;
  m.name = "burner";
  m.image = a.image.empty() ? default_image() : a.image;
  m.resources.cpu_millis = 250;
  m.resources.memory_bytes = 64LL << 20;
  m.pids = 64;
  m.count = a.count;
  m.near = GeoPoint{std::llround(ll->first * 1e6), std::llround(ll->second * 1e6)};
  m.max_price_per_hour = Money::micros(5 * Money::kMicrosPerCredit);
  m.budget = Money::micros(2 * Money::kMicrosPerCredit);
  heading(fmt::format("3. deploy a CPU burner (250 milli-cores, 64 MiB) onto the {} servers nearest {} ({})", a.count,
                      a.near_name, a.near));
  auto scratch = home.make_scratch();
  if (!scratch) return fail(scratch.error());
  Deployer deployer(ctx->key, ctx->config.corp_url, ctx->config.xis_url, (*scratch)->path());
  auto res = deployer.deploy(m, [](const std::string& line) { std::cout << "  " << line << std::endl; });
  if (!res) return fail(res.error());
  std::vector<DeployedSession> sessions;
  for (const auto& o : res->outcomes) {
    if (o.ok) sessions.push_back(DeployedSession{o.session, o.server, o.name, o.city, o.endpoint, o.po_id, m.name});
  }
  if (auto s = home.save_sessions(sessions); !s) return fail(s.error());
  std::cout << fmt::format("{} of {} sessions running, deployed in {:.2f} s\n", sessions.size(), res->outcomes.size(),
                           res->seconds);
  if (sessions.size() != res->outcomes.size()) return fail("some sessions failed to start");

  heading(fmt::format("4. running for {} s: live usage", a.run_seconds));
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(a.run_seconds);
  int round = 0;
  while (std::chrono::steady_clock::now() < until) {
    // A progress display: the live table every few seconds, a dot every second.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (++round % 4 == 0 || std::chrono::steady_clock::now() >= until) {
      std::cout << "\n";
      show_sessions(*ctx, false);
    } else {
      std::cout << "." << std::flush;
    }
  }

  heading("5. stop");
  for (const auto& s : sessions) {
    auto server = ServerClient::connect(s.endpoint, ctx->key);
    if (server && !s.server.empty()) server->api().set_audience(s.server);
    auto r = server ? server->stop_session(s.session).map(session_answer_json) : tl::make_unexpected(server.error());
    if (!r) return fail(r.error());
    std::cout << s.session << " on " << s.name << ": " << r->value("session", Json::object()).value("state", "?")
              << "\n";
  }
  // Wait (with a deadline) until the corp has settled every final record and closed the POs.
  bool settled = false;
  for (int i = 0; i < 100 && !settled; ++i) {
    auto stmt = ctx->corp->statement(ctx->key.account_id()).map([](const StatementView& v) { return to_json(v); });
    settled = stmt.has_value();
    if (stmt) {
      for (const auto& po : stmt->value("purchase_orders", Json::array())) {
        if (po.value("state", "") != "closed") settled = false;
      }
    }
    if (!settled) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!settled) std::cout << "warning: not every purchase order was settled within 20 s\n";

  heading("6. statement");
  return show_statement(*ctx, false, false);
}

int run(const CliState& st, const DevArgs& a) {
  if (a.runtime != "mock" && ::geteuid() != 0) {
    return fail(
        "xop dev runs real containers (runc, cgroups, overlayfs) and needs root; "
        "run it as root, or pass --runtime mock to try the platform without containers");
  }
  // Never silently replace the config of a real platform: only the dev profile's own (rewritten on
  // every run) or when asked.
  if (const UserHome h(st.dirs); st.dirs.profile != "dev" && !a.overwrite_config && fs::exists(h.config_path())) {
    return usage_error("xop dev would overwrite " + h.config_path() + " (profile " + st.dirs.profile +
                       "); run it without --profile (it uses its own profile, dev), or pass --overwrite-config");
  }
  // The servers' owner gets a profile of its own beside it (dev-owner for dev), for `xop server
  // status` and `xop earnings`; under the same rule.
  auto owner_dirs = sibling_profile_dirs(st.dirs, owner_profile(st.dirs.profile));
  if (!owner_dirs) return usage_error(owner_dirs.error().message);
  const UserHome owner_home(*owner_dirs);
  if (st.dirs.profile != "dev" && !a.overwrite_config &&
      (fs::exists(owner_home.config_path()) || fs::exists(owner_home.key_path()))) {
    return usage_error("xop dev would overwrite " + owner_home.dir() + " (profile " + owner_dirs->profile +
                       ", for the servers' owner); run it without --profile, or pass --overwrite-config");
  }
  // One `xop dev` per profile: a second would repoint the profile at its own platform while the
  // first keeps running (and, with runc, its containers), and leave it pointing at a dead one.
  std::error_code mk;
  fs::create_directories(UserHome(st.dirs).dir(), mk);
  fs::permissions(UserHome(st.dirs).dir(), fs::perms::owner_all, mk);
  auto running = FileLock::try_acquire(UserHome(st.dirs).dir() + "/dev.lock", FileLock::Mode::kExclusive);
  if (!running) return fail(running.error());
  if (!running->has_value()) {
    const auto cfg = UserHome(st.dirs).load_config();
    return fail("another `xop dev` is running with profile " + st.dirs.profile +
                (cfg ? " (corp " + cfg->corp_url + ")" : std::string()) +
                "; stop it first (Ctrl-C), or run this one with --profile NAME");
  }
  // The owner's profile points at this platform too: its own dev.lock, held while this runs, tells
  // later commands (load_client_context) that the platform it names is gone once this exits.
  fs::create_directories(owner_home.dir(), mk);
  fs::permissions(owner_home.dir(), fs::perms::owner_all, mk);
  auto owner_running = FileLock::try_acquire(owner_home.dir() + "/dev.lock", FileLock::Mode::kExclusive);
  if (!owner_running) return fail(owner_running.error());
  std::string dir = a.data_dir;
  bool temporary = false;
  if (dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "xop-dev-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return fail("cannot create a temporary directory");
    dir = tmpl;
    temporary = true;
  }
  // Both modes own real containers: a SIGINT/SIGTERM must stop them, not leave them running.
  block_termination_signals();
  PlatformOptions o;
  o.data_dir = dir;
  o.servers = a.servers;
  o.runtime = a.runtime;
  o.charging_interval_ms = a.charging_interval_ms;
  // Each server's sessions get a network of their own when the host allows it; said once here.
  if (a.runtime != "mock" && !a.no_network) {
    if (auto why = session_network_unavailable_reason(); why.empty()) {
      o.session_network = true;
      std::cout << "session network: server N gets bridge xopdN, pool 10.89.N.0/24 and host ports "
                   "31000+100(N-1) to +99; published ports are reached on 127.0.0.1"
                << std::endl;
    } else {
      std::cout << "session network: unavailable (" << why << "); sessions get loopback only" << std::endl;
    }
  } else {
    std::cout << "session network: off (" << (a.no_network ? "--no-network" : "mock runtime")
              << "); sessions get loopback only" << std::endl;
  }
  std::cout << "starting XenoCorp, XIS and " << a.servers << " XenoServers (" << a.runtime << ") in " << dir
            << std::endl;
  auto platform = Platform::start(o);
  if (!platform) return fail(platform.error());
  UserHome home(st.dirs);
  if (auto s = home.save_config(UserConfig{(*platform)->corp_url(), (*platform)->xis_url()}); !s)
    return fail(s.error());
  if (auto s = save_key_file((*platform)->admin_key(), home.dir() + "/dev-admin.json"); !s) return fail(s.error());
  if (auto s = owner_home.save_config(UserConfig{(*platform)->corp_url(), (*platform)->xis_url()}); !s)
    return fail(s.error());
  if (auto s = owner_home.save_key((*platform)->owner_key()); !s) return fail(s.error());
  std::cout << "corp  " << (*platform)->corp_url() << "\nxis   " << (*platform)->xis_url() << "\n";
  Table t({"SERVER", "CITY", "LAT", "LON", "URL"});
  for (const auto& s : (*platform)->servers()) {
    t.add({s.name, s.city, fmt::format("{:.4f}", static_cast<double>(s.location.lat_e6) / 1e6),
           fmt::format("{:.4f}", static_cast<double>(s.location.lon_e6) / 1e6), s.url});
  }
  std::cout << t.render();
  std::cout << "client config written to " << home.config_path() << " (profile " << st.dirs.profile
            << "; the xop CLI talks to this platform with --profile " << st.dirs.profile
            << ", or by default while the default profile is empty)\n";
  std::cout << "the servers' owner is profile " << owner_dirs->profile << ": xop --profile " << owner_dirs->profile
            << " earnings, xop --profile " << owner_dirs->profile << " server status "
            << ((*platform)->servers().empty() ? std::string("SERVER") : (*platform)->servers().front().name) << "\n";
  // Shared with the interrupt watcher, which may outlive this function's frame.
  std::shared_ptr<Platform> shared(std::move(*platform));
  auto cleanup = [shared, dir, temporary] {
    shared->stop();
    if (temporary) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  };
  int code = 0;
  if (a.demo) {
    // Interrupted mid-walk-through: stop every session and server, clean up, exit 130.
    std::thread([cleanup] {
      wait_for_termination();
      std::cerr << "\ninterrupted: stopping sessions and servers" << std::endl;
      cleanup();
      std::_Exit(130);
    }).detach();
    code = demo(st, a, *shared);
  } else {
    if (auto s = announce("xop dev (corp)", shared->corp_url(), a.port_file); !s) return fail(s.error());
    std::cout << "press Ctrl-C to stop" << std::endl;
    wait_for_termination();
  }
  cleanup();
  return code;
}
}  // namespace

void add_dev_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<DevArgs>();
  auto* cmd = app.add_subcommand("dev", "Run a whole platform on this machine (corp, XIS, servers at 5 cities)");
  cmd->add_option("--servers", a->servers, "How many XenoServers")->capture_default_str();
  cmd->add_option("--data-dir", a->data_dir, "Keep state here (default: a temporary directory, removed at exit)");
  cmd->add_option("--runtime", a->runtime, "Sandbox driver: runc, crun or mock")
      ->check(CLI::IsMember({"runc", "crun", "mock"}))
      ->capture_default_str();
  cmd->add_flag("--demo", a->demo, "Run the end-to-end walk-through and exit");
  cmd->add_option("--near", a->near, "Demo: deploy near LAT,LON")->capture_default_str();
  cmd->add_option("--near-name", a->near_name, "Demo: a name for that place")->capture_default_str();
  cmd->add_option("--count", a->count, "Demo: how many servers")->capture_default_str();
  cmd->add_option("--run-seconds", a->run_seconds, "Demo: how long the sessions run")->capture_default_str();
  cmd->add_option("--charging-interval-ms", a->charging_interval_ms, "Usage-record interval")->capture_default_str();
  cmd->add_option("--image", a->image, "Demo: OCI image layout to deploy (default: the built burner image)");
  cmd->add_option("--port-file", a->port_file, "Write the corp URL to this file once running");
  cmd->add_flag("--overwrite-config", a->overwrite_config,
                "Replace an existing config.toml of the chosen profile (default profile: dev, always replaced)");
  cmd->add_flag("--no-network", a->no_network,
                "Sessions get loopback only, even where the host could give each server a session network");
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
