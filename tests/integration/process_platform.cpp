#include "integration/process_platform.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>

#include "proto/owner_consent.h"

namespace xop::testing {

namespace {
struct City {
  const char* name;
  double lat;
  double lon;
};
constexpr City kCities[] = {{"London", 51.5074, -0.1278},
                            {"New York", 40.7128, -74.006},
                            {"Tokyo", 35.6762, 139.6503},
                            {"Sydney", -33.8688, 151.2093},
                            {"Nairobi", -1.2921, 36.8219}};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

ProcessPlatform::ProcessPlatform(ProcessPlatformOptions opts) : opts_(std::move(opts)) {}

ProcessPlatform::~ProcessPlatform() {
  for (auto& s : servers_) s->stop();
  if (xis_) xis_->stop();
  if (corp_) corp_->stop();
}

std::string ProcessPlatform::wait_for_url(const std::string& port_file, ChildProcess& child) {
  std::string url;
  poll_until(
      [&] {
        url = trim(read_file(port_file));
        return !url.empty() || !child.running();
      },
      std::chrono::seconds(20));
  return url;
}

std::unique_ptr<ChildProcess> ProcessPlatform::spawn_corp(const std::string& listen, const std::string& log) {
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{XOP_BINARY, "--log-level", "info", "corp", "--listen", listen, "--data-dir",
                               dir_.file("corp"), "--admin-key-file", dir_.file("admin.json"), "--port-file",
                               dir_.file("corp.url")},
      log);
}

std::string ProcessPlatform::kill_corp() {
  if (!corp_) return "no corp";
  ::kill(corp_->pid(), SIGKILL);
  const int status = corp_->stop();
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) return fmt::format("corp exited {} before SIGKILL", status);
  corp_past_logs_ += fmt::format("--- corp (killed {}) ---\n", ++corp_restarts_) + corp_->log();
  corp_.reset();
  std::remove(dir_.file("corp.url").c_str());
  return "";
}

std::string ProcessPlatform::restart_corp() {
  const auto colon = corp_url_.rfind(':');
  if (corp_ || colon == std::string::npos) return "corp running, or no port in " + corp_url_;
  corp_ = spawn_corp("127.0.0.1:" + corp_url_.substr(colon + 1), dir_.file(fmt::format("corp.{}.log", corp_restarts_)));
  const std::string url = wait_for_url(dir_.file("corp.url"), *corp_);
  if (url != corp_url_) return "restarted corp announced \"" + url + "\", not " + corp_url_ + "\n" + logs();
  return "";
}

std::unique_ptr<ChildProcess> ProcessPlatform::spawn_server(size_t i, const std::string& log) {
  const std::string sdir = dir_.file("server" + std::to_string(i));
  return std::make_unique<ChildProcess>(
      std::vector<std::string>{XOP_BINARY, "--log-level", "info", "server", "--config", sdir + "/server.toml",
                               "--stop-sessions", "--port-file", sdir + "/url"},
      log);
}

std::string ProcessPlatform::restart_server(size_t i) {
  if (i >= servers_.size()) return "no server " + std::to_string(i);
  const std::string sdir = dir_.file("server" + std::to_string(i));
  ::kill(servers_[i]->pid(), SIGKILL);
  servers_[i]->stop();
  std::remove((sdir + "/url").c_str());
  servers_[i] = spawn_server(i, fmt::format("{}.restart{}.log", sdir, ++server_restarts_));
  const std::string url = wait_for_url(sdir + "/url", *servers_[i]);
  if (url.empty()) return "restarted server did not start\n" + logs();
  server_urls_[i] = url;
  return "";
}

std::string ProcessPlatform::logs() const {
  std::string out = corp_past_logs_;
  if (corp_) out += "--- corp ---\n" + corp_->log();
  if (xis_) out += "--- xis ---\n" + xis_->log();
  for (size_t i = 0; i < servers_.size(); ++i) out += fmt::format("--- server {} ---\n", i) + servers_[i]->log();
  return out;
}

std::string ProcessPlatform::start() {
  const std::string bin = XOP_BINARY;
  if (!save_key_file(admin_, dir_.file("admin.json"))) return "cannot write admin key";
  corp_ = spawn_corp("127.0.0.1:0", dir_.file("corp.log"));
  corp_url_ = wait_for_url(dir_.file("corp.url"), *corp_);
  if (corp_url_.empty()) return "corp did not start\n" + logs();
  // XIS asks this corp whether an advert's signer is a registered server.
  xis_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{bin, "--log-level", "info", "xis", "--listen", "127.0.0.1:0", "--corp-url", corp_url_,
                               "--port-file", dir_.file("xis.url")},
      dir_.file("xis.log"));
  xis_url_ = wait_for_url(dir_.file("xis.url"), *xis_);
  if (corp_url_.empty() || xis_url_.empty()) return "corp or xis did not start\n" + logs();

  auto corp = ApiClient::connect(corp_url_, owner_);
  if (!corp) return corp.error().message;
  if (auto r = corp->call("POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "owner"}}); !r) {
    return "owner registration: " + r.error().message;
  }
  for (int i = 0; i < opts_.servers; ++i) {
    const auto& c = kCities[i % 5];
    const std::string sdir = dir_.file("server" + std::to_string(i));
    write_file(
        sdir + "/server.toml",
        fmt::format(R"(name = "xs-{}"
listen = "127.0.0.1:0"
data_dir = "{}"
corp_url = "{}"
xis_url = "{}"
owner = "{}"
city = "{}"
latitude = {}
longitude = {}
runtime = "{}"
sample_interval_ms = {}
charging_interval_ms = {}
advert_interval_ms = 500
stop_grace_ms = {}
freeze_grace_ms = {}
http_threads = 2

[capacity]
cpu_millis = 2000
memory_bytes = 1073741824

[network]
{}
)",
                    i, sdir, corp_url_, xis_url_, owner_.account_id(), c.name, c.lat, c.lon, opts_.runtime,
                    opts_.sample_interval_ms, opts_.charging_interval_ms, opts_.stop_grace_ms, opts_.freeze_grace_ms,
                    opts_.network_toml ? opts_.network_toml(i) : std::string("enabled = false")));
    // The server's key made here, so that the owner can sign its consent to be named by it.
    const KeyPair server_key = KeyPair::generate();
    if (auto st = save_key_file(server_key, sdir + "/server.key"); !st) return "server key: " + st.error().message;
    auto consent = sign_owner_consent(owner_, server_key.account_id(), SystemClock::instance().now_ms());
    if (!consent) return "owner consent: " + consent.error().message;
    write_file(sdir + "/owner-consent.json", consent->to_json().dump());
    servers_.push_back(spawn_server(static_cast<size_t>(i), sdir + ".log"));
    const std::string url = wait_for_url(sdir + "/url", *servers_.back());
    if (url.empty()) return "server " + std::to_string(i) + " did not start\n" + logs();
    server_urls_.push_back(url);
  }
  // Wait until XIS knows every server.
  auto xis = ApiClient::connect(xis_url_, std::nullopt);
  const bool all = poll_until(
      [&] {
        auto r = xis->call("GET", "/v1/adverts");
        return r && r->value("adverts", Json::array()).size() == server_urls_.size();
      },
      std::chrono::seconds(20));
  if (!all) return "not every server advertised\n" + logs();
  return "";
}

KeyPair ProcessPlatform::new_user(const std::string& name, int64_t credits) {
  KeyPair k = KeyPair::generate();
  auto corp = ApiClient::connect(corp_url_, k);
  EXPECT_TRUE(corp->call("POST", "/v1/accounts", Json{{"kind", "user"}, {"name", name}}).has_value());
  auto admin = ApiClient::connect(corp_url_, admin_);
  auto r = admin->call("POST", "/v1/deposits",
                       Json{{"account", k.account_id()}, {"amount_micros", credits * 1'000'000}, {"memo", "test"}});
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return k;
}

}  // namespace xop::testing
