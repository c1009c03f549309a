#include "sim/platform.h"

#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>

#include "client/api_client.h"
#include "client/corp_client.h"
#include "core/encoding.h"
#include "core/file_util.h"
#include "core/log.h"
#include "corp/corp_service.h"
#include "net/http_server.h"
#include "proto/owner_consent.h"
#include "server/xeno_server.h"
#include "sim/shared_sandbox.h"
#include "sim/sim_network.h"
#include "sim/sim_sandbox.h"
#include "xis/xis_service.h"

namespace xop {

const std::vector<DevCity>& dev_cities() {
  static const std::vector<DevCity> kCities = {
      {"London", 51.5074, -0.1278},        {"New York", 40.7128, -74.0060}, {"Sao Paulo", -23.5505, -46.6333},
      {"Johannesburg", -26.2041, 28.0473}, {"Tokyo", 35.6762, 139.6503},    {"Sydney", -33.8688, 151.2093},
      {"Mumbai", 19.0760, 72.8777},        {"Nairobi", -1.2921, 36.8219},   {"Vancouver", 49.2827, -123.1207},
      {"Singapore", 1.3521, 103.8198},
  };
  return kCities;
}

namespace {

// The in-process wiring's addresses (ports as the daemons' documented defaults).
constexpr const char* kSimCorpUrl = "http://corp.sim:7400";
constexpr const char* kSimXisUrl = "http://xis.sim:7401";
std::string sim_server_url(int i) { return "http://xs-" + std::to_string(i + 1) + ".sim:7402"; }

}  // namespace

struct Platform::Impl {
  PlatformOptions opts;
  const Clock* clock = nullptr;
  std::mt19937_64 rng;
  std::mutex rng_mu;
  KeyPair admin = KeyPair::generate();
  KeyPair servers_owner = KeyPair::generate();  // replaced in start(): the owner of every server
  std::unique_ptr<SimNetwork> net;              // in-process wiring only
  Connector connector;                          // empty: HTTP
  std::unique_ptr<CorpService> corp;
  std::unique_ptr<HttpServer> corp_http;
  std::unique_ptr<XisService> xis;
  std::unique_ptr<HttpServer> xis_http;
  std::string corp_url;
  std::string xis_url;
  std::vector<std::unique_ptr<XenoServer>> servers;
  std::vector<PlatformServer> info;
  std::vector<bool> down;                          // per server (in-process wiring)
  std::vector<std::shared_ptr<SimSandbox>> boxes;  // per server (in-process): outlive a restart
  // In-process with a seed: purchase-order, transaction and session ids from the seed, so a run
  // repeats id for id. Null otherwise (random ids).
  std::unique_ptr<SeededIds> ids;
  std::mutex stop_mu;  // stop() may race between an interrupt and the normal end
  bool stopped = false;

  [[nodiscard]] bool in_process() const { return net != nullptr; }

  KeyPair new_key() {
    if (opts.seed == 0) return KeyPair::generate();
    std::string seed(32, '\0');
    {
      std::lock_guard lock(rng_mu);
      for (size_t i = 0; i < seed.size(); i += 8) {
        const uint64_t v = rng();
        for (size_t b = 0; b < 8; ++b) seed[i + b] = static_cast<char>((v >> (8 * b)) & 0xff);
      }
    }
    return *KeyPair::from_seed_base64(base64_encode(seed));
  }

  std::optional<KeyPair> corp_key;  // kept so that a restarted corp signs as before

  Status start_corp() {
    if (!corp_key) corp_key = new_key();
    CorpOptions co;
    co.db_path = opts.data_dir + "/corp/corp.db";
    co.admin_key = admin.public_key();
    // The simulated platform's stores live in its scratch directory: no fsync (the daemons sync).
    if (in_process()) co.durability = opts.sim_durability;
    co.ids = ids.get();
    XOP_ASSIGN_OR_RETURN(corp, CorpService::open(co, *corp_key, *clock));
    if (in_process()) {
      corp_url = kSimCorpUrl;
      return net->bind(corp_url, corp->router());
    }
    corp_http = std::make_unique<HttpServer>(HttpServerOptions{}, corp->router());
    XOP_RETURN_IF_ERROR(corp_http->start());
    corp_url = corp_http->url();
    return ok_status();
  }

  // Only servers registered with this corp may advertise, each at an endpoint that answers with its key.
  Status start_xis() {
    XisOptions xo;
    XisPeers peers;
    if (in_process()) {
      xo.instance_id = "xis" + new_key().account_id().substr(1, 32);
      XOP_ASSIGN_OR_RETURN(peers.registry, corp_registry(corp_url, connector));
      peers.endpoint_key = endpoint_key(connector);
    } else {
      XOP_ASSIGN_OR_RETURN(peers.registry, corp_registry(corp_url));
      peers.endpoint_key = http_endpoint_key();
    }
    xis = std::make_unique<XisService>(xo, *clock, std::move(peers));
    if (in_process()) {
      xis_url = kSimXisUrl;
      return net->bind(xis_url, xis->router());
    }
    xis_http = std::make_unique<HttpServer>(HttpServerOptions{}, xis->router());
    XOP_RETURN_IF_ERROR(xis_http->start());
    xis_url = xis_http->url();
    return ok_status();
  }

  ServerConfig server_config(int i, const std::string& owner) const {
    const auto& city = dev_cities()[static_cast<size_t>(i)];
    ServerConfig c;
    c.name = "xs-" + std::to_string(i + 1) + "-" + city.name;
    for (auto& ch : c.name) {
      if (ch == ' ') ch = '-';
    }
    c.city = city.name;
    c.location = GeoPoint{std::llround(city.lat * 1e6), std::llround(city.lon * 1e6)};
    c.data_dir = opts.data_dir + "/servers/" + std::to_string(i + 1);
    c.key_file = c.data_dir + "/server.key";
    c.listen_port = 0;  // several servers on one host: any free ports
    c.corp_url = corp_url;
    c.xis_url = xis_url;
    c.owner = owner;
    c.runtime = in_process() ? "mock" : opts.runtime;  // in-process: no session disks; SimSandbox injected
    // Several servers on one host: a bridge, pool and port range each (SessionNetwork refuses to
    // share them with another live server).
    c.network_enabled = opts.session_network && !in_process() && opts.runtime != "mock";
    if (c.network_enabled) {
      const int n = i + 1;
      c.network_bridge = "xopd" + std::to_string(n);
      c.network_pool = "10.89." + std::to_string(n) + ".0/24";
      c.network_port_range = std::to_string(31000 + 100 * i) + "-" + std::to_string(31099 + 100 * i);
    }
    c.sample_interval_ms = opts.sample_interval_ms;
    c.charging_interval_ms = opts.charging_interval_ms;
    c.advert_interval_ms = opts.advert_interval_ms;
    c.advert_ttl_ms = std::max<int64_t>(5000, 5 * opts.advert_interval_ms);
    c.stop_grace_ms = opts.stop_grace_ms;
    c.freeze_grace_ms = opts.freeze_grace_ms;
    c.coord_interval_ms = opts.coord_interval_ms;
    c.http_threads = 2;
    if (in_process()) {
      c.advertise_url = sim_server_url(i);
      c.images.mount_rootfs = false;
    }
    // Visible dev prices, a little different per server so that price ranking shows.
    const int64_t k = 100 + 7 * i;  // percent
    c.rates.cpu_reserve_per_core_hour = 1'800'000 * k / 100;
    c.rates.cpu_use_per_core_hour = 3'600'000 * k / 100;
    c.rates.memory_reserve_per_gib_hour = 360'000 * k / 100;
    c.rates.memory_use_per_gib_hour = 36'000 * k / 100;
    return c;
  }

  // Opens and starts server i (its data directory, key and sandbox kept when it already ran).
  Result<std::unique_ptr<XenoServer>> open_server(int i, const std::string& owner) {
    ServerConfig c = server_config(i, owner);
    ServerSeams seams;
    // The server's key, and the owner's consent to be named by it (kept across restarts).
    {
      std::error_code ec;
      std::filesystem::create_directories(c.data_dir, ec);
      if (ec) return make_error(ErrorCode::kInternal, "cannot create " + c.data_dir + ": " + ec.message());
    }
    if (!std::filesystem::exists(c.key_file)) XOP_RETURN_IF_ERROR(save_key_file(new_key(), c.key_file));
    const std::string consent_file = owner_consent_path(c);
    if (!std::filesystem::exists(consent_file)) {
      XOP_ASSIGN_OR_RETURN(auto key, load_key_file(c.key_file));
      XOP_ASSIGN_OR_RETURN(auto consent, sign_owner_consent(servers_owner, key.account_id(), clock->now_ms()));
      XOP_RETURN_IF_ERROR(write_file_atomic(consent_file, consent.to_json().dump()));
    }
    if (in_process()) {
      auto* sim = opts.sim_clock;
      if (boxes.size() <= static_cast<size_t>(i)) boxes.resize(i + 1);
      if (!boxes[i]) {
        boxes[i] = std::make_shared<SimSandbox>(
            *clock, [sim](std::chrono::milliseconds grace) { sim->advance_ms(grace.count()); });
      }
      seams.sandbox = std::make_unique<SharedSandbox>(boxes[i]);
      seams.connector = connector;
      seams.listen = [this, url = c.advertise_url](std::shared_ptr<const Router> api, const std::string& spool) {
        return net->bind(url, std::move(api), spool);
      };
      seams.run_ticker = false;
      seams.storage = opts.sim_durability;
      seams.ids = ids.get();
    }
    XOP_ASSIGN_OR_RETURN(auto server, XenoServer::open(c, *clock, std::move(seams)));
    XOP_RETURN_IF_ERROR(server->start());
    return server;
  }

  Status start_server(int i, const std::string& owner) {
    XOP_ASSIGN_OR_RETURN(auto server, open_server(i, owner));
    const ServerConfig c = server_config(i, owner);
    info.push_back(PlatformServer{c.name, c.city, server->url(), server->server_id(), c.location});
    down.push_back(false);
    servers.push_back(std::move(server));
    return ok_status();
  }
};

Platform::Platform() : impl_(std::make_unique<Impl>()) {}
Platform::~Platform() { stop(); }

Result<std::unique_ptr<Platform>> Platform::start(const PlatformOptions& opts) {
  if (opts.servers < 1 || opts.servers > static_cast<int>(dev_cities().size())) {
    return invalid("a platform runs between 1 and " + std::to_string(dev_cities().size()) + " servers");
  }
  std::unique_ptr<Platform> p(new Platform());
  auto& d = *p->impl_;
  d.opts = opts;
  d.rng.seed(opts.seed);
  d.clock = opts.sim_clock != nullptr ? static_cast<const Clock*>(opts.sim_clock) : &SystemClock::instance();
  if (opts.sim_clock != nullptr) {
    d.net = std::make_unique<SimNetwork>();
    d.connector = d.net->connector();
  }
  if (opts.sim_clock != nullptr && opts.seed != 0) d.ids = std::make_unique<SeededIds>(opts.seed);
  d.admin = d.new_key();
  std::error_code ec;
  std::filesystem::create_directories(opts.data_dir + "/corp", ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot create " + opts.data_dir + ": " + ec.message());
  XOP_RETURN_IF_ERROR(d.start_corp());
  XOP_RETURN_IF_ERROR(d.start_xis());

  // One owner account for all the servers: their earnings go there.
  d.servers_owner = d.new_key();
  XOP_ASSIGN_OR_RETURN(auto corp, ApiClient::connect(d.corp_url, d.servers_owner, *d.clock, d.connector));
  XOP_RETURN_IF_ERROR(
      CorpClient(corp).register_account(RegisterAccountRequest{AccountKind::kUser, "dev-owner", std::nullopt}));
  for (int i = 0; i < opts.servers; ++i) XOP_RETURN_IF_ERROR(d.start_server(i, d.servers_owner.account_id()));
  return p;
}

std::string Platform::corp_url() const { return impl_->corp_url; }
std::string Platform::xis_url() const { return impl_->xis_url; }
const KeyPair& Platform::admin_key() const { return impl_->admin; }
const KeyPair& Platform::owner_key() const { return impl_->servers_owner; }
const std::vector<PlatformServer>& Platform::servers() const { return impl_->info; }
Connector Platform::connector() const { return impl_->connector ? impl_->connector : http_connector(); }
CorpService& Platform::corp() { return *impl_->corp; }
SimNetwork* Platform::network() { return impl_->net.get(); }
KeyPair Platform::new_key() { return impl_->new_key(); }

void Platform::set_down(size_t index, bool down) {
  auto& d = *impl_;
  if (!d.in_process() || index >= d.servers.size()) return;
  d.down[index] = down;
  d.net->set_reachable(d.info[index].url, !down);
}

Status Platform::restart_server(size_t index) {
  auto& d = *impl_;
  if (!d.in_process()) return invalid("restart_server: in-process wiring only");
  if (index >= d.servers.size()) return invalid("restart_server: no server " + std::to_string(index));
  if (d.servers[index]) d.servers[index]->stop(/*stop_sessions=*/false);
  d.servers[index].reset();
  d.net->unbind(d.info[index].url);
  auto server = d.open_server(static_cast<int>(index), d.servers_owner.account_id());
  if (!server) {
    d.down[index] = true;  // stays down; restart_server may be called again
    return tl::make_unexpected(server.error());
  }
  d.servers[index] = std::move(*server);
  d.down[index] = false;
  d.net->set_reachable(d.info[index].url, true);
  return ok_status();
}

Status Platform::restart_corp() {
  auto& d = *impl_;
  if (!d.in_process()) return invalid("restart_corp: in-process wiring only");
  d.net->unbind(d.corp_url);
  d.corp.reset();  // closes its database: what it committed is all that survives
  return d.start_corp();
}

void Platform::advance(int64_t ms) {
  auto& d = *impl_;
  if (!d.in_process() || ms <= 0) return;
  const int64_t step_max = std::max<int64_t>(1, d.opts.sample_interval_ms);
  while (ms > 0) {
    const int64_t step = std::min(ms, step_max);
    d.opts.sim_clock->advance_ms(step);
    ms -= step;
    for (size_t i = 0; i < d.servers.size(); ++i) {
      if (!d.down[i] && d.servers[i]) d.servers[i]->tick();
    }
    if (!d.corp) continue;
    auto released = d.corp->clearing_house().release_unclaimed_holds(d.clock->now_ms());
    if (!released) XOP_LOGN_WARN("sim", "releasing unclaimed holds failed: {}", released.error().message);
  }
}

void Platform::stop() {
  if (!impl_) return;
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  for (auto& s : impl_->servers) {
    if (s) s->stop(/*stop_sessions=*/true);
  }
  impl_->servers.clear();
  if (impl_->xis_http) impl_->xis_http->stop();
  if (impl_->corp_http) impl_->corp_http->stop();
}

}  // namespace xop
