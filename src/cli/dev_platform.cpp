#include "cli/dev_platform.h"

#include <cmath>
#include <filesystem>
#include <mutex>

#include "client/api_client.h"
#include "client/corp_client.h"
#include "corp/corp_service.h"
#include "net/http_server.h"
#include "server/xeno_server.h"
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

struct DevPlatform::Impl {
  KeyPair admin = KeyPair::generate();
  std::unique_ptr<CorpService> corp;
  std::unique_ptr<HttpServer> corp_http;
  std::unique_ptr<XisService> xis;
  std::unique_ptr<HttpServer> xis_http;
  std::vector<std::unique_ptr<XenoServer>> servers;
  std::vector<DevServer> info;
  std::mutex stop_mu;  // stop() may race between an interrupt and the normal end
  bool stopped = false;
};

DevPlatform::DevPlatform() : impl_(std::make_unique<Impl>()) {}
DevPlatform::~DevPlatform() { stop(); }

Result<std::unique_ptr<DevPlatform>> DevPlatform::start(const DevOptions& opts) {
  if (opts.servers < 1 || opts.servers > static_cast<int>(dev_cities().size())) {
    return invalid("xop dev runs between 1 and " + std::to_string(dev_cities().size()) + " servers");
  }
  std::unique_ptr<DevPlatform> p(new DevPlatform());
  auto& d = *p->impl_;
  const Clock& clock = SystemClock::instance();
  std::error_code ec;
  std::filesystem::create_directories(opts.data_dir + "/corp", ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot create " + opts.data_dir + ": " + ec.message());

  CorpOptions co;
  co.db_path = opts.data_dir + "/corp/corp.db";
  co.admin_key = d.admin.public_key();
  XOP_ASSIGN_OR_RETURN(d.corp, CorpService::open(co, KeyPair::generate(), clock));
  d.corp_http = std::make_unique<HttpServer>(HttpServerOptions{}, d.corp->router());
  XOP_RETURN_IF_ERROR(d.corp_http->start());

  // Only servers registered with this corp may advertise, each at an endpoint that answers with its key.
  XisPeers peers;
  XOP_ASSIGN_OR_RETURN(peers.registry, corp_registry(d.corp_http->url()));
  peers.endpoint_key = http_endpoint_key();
  d.xis = std::make_unique<XisService>(XisOptions{}, clock, std::move(peers));
  d.xis_http = std::make_unique<HttpServer>(HttpServerOptions{}, d.xis->router());
  XOP_RETURN_IF_ERROR(d.xis_http->start());

  // One owner account for all dev servers: their earnings go there.
  KeyPair owner = KeyPair::generate();
  XOP_ASSIGN_OR_RETURN(auto corp, ApiClient::connect(d.corp_http->url(), owner));
  XOP_RETURN_IF_ERROR(CorpClient(corp).register_account(RegisterAccountRequest{"user", "dev-owner", std::nullopt}));

  for (int i = 0; i < opts.servers; ++i) {
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
    c.corp_url = d.corp_http->url();
    c.xis_url = d.xis_http->url();
    c.owner = owner.account_id();
    c.runtime = opts.runtime;
    c.sample_interval_ms = opts.sample_interval_ms;
    c.charging_interval_ms = opts.charging_interval_ms;
    c.advert_interval_ms = opts.advert_interval_ms;
    c.advert_ttl_ms = std::max<int64_t>(5000, 5 * opts.advert_interval_ms);
    c.stop_grace_ms = opts.stop_grace_ms;
    c.http_threads = 2;
    // Visible dev prices, a little different per server so that price ranking shows.
    const int64_t k = 100 + 7 * i;  // percent
    c.rates.cpu_reserve_per_core_hour = 1'800'000 * k / 100;
    c.rates.cpu_use_per_core_hour = 3'600'000 * k / 100;
    c.rates.memory_reserve_per_gib_hour = 360'000 * k / 100;
    c.rates.memory_use_per_gib_hour = 36'000 * k / 100;
    XOP_ASSIGN_OR_RETURN(auto server, XenoServer::open(c, clock));
    XOP_RETURN_IF_ERROR(server->start());
    d.info.push_back(DevServer{c.name, c.city, server->url(), server->server_id(), c.location});
    d.servers.push_back(std::move(server));
  }
  return p;
}

std::string DevPlatform::corp_url() const { return impl_->corp_http->url(); }
std::string DevPlatform::xis_url() const { return impl_->xis_http->url(); }
const KeyPair& DevPlatform::admin_key() const { return impl_->admin; }
const std::vector<DevServer>& DevPlatform::servers() const { return impl_->info; }

void DevPlatform::stop() {
  if (!impl_) return;
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  for (auto& s : impl_->servers) s->stop(/*stop_sessions=*/true);
  impl_->servers.clear();
  if (impl_->xis_http) impl_->xis_http->stop();
  if (impl_->corp_http) impl_->corp_http->stop();
}

}  // namespace xop
