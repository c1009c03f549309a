#include "server/xeno_server.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "client/api_client.h"
#include "client/corp_client.h"
#include "client/xis_client.h"
#include "core/endpoint.h"
#include "core/file_util.h"
#include "core/json_reader.h"
#include "core/log.h"
#include "core/log_backoff.h"
#include "net/http_server.h"
#include "proto/owner_consent.h"
#include "proto/server_status.h"
#include "server/advertiser.h"
#include "server/cgroup.h"
#include "server/charging_agent.h"
#include "server/coord_prober.h"
#include "server/host_check.h"
#include "server/probe_responder.h"
#include "server/seccomp_profile.h"
#include "server/server_api.h"
#include "server/session_disk.h"
#include "server/session_manager.h"
#include "server/session_network.h"

namespace xop {

namespace fs = std::filesystem;

struct XenoServer::Impl {
  ServerConfig cfg;
  const Clock* clock = nullptr;
  KeyPair key;
  std::string server_id;
  std::unique_ptr<Sandbox> sandbox;
  std::unique_ptr<ImageStore> images;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<CorpClient> corp;
  std::unique_ptr<XisClient> xis;
  std::unique_ptr<RequestVerifier> verifier;
  std::unique_ptr<SessionNetwork> network;  // null: sessions get loopback only (outlives `sessions`)
  std::unique_ptr<SessionManager> sessions;
  std::unique_ptr<ChargingAgent> charging;
  std::unique_ptr<HttpServer> http;
  // The network coordinate (cfg.coord_*): the prober (only when advertising) and the responder.
  std::unique_ptr<XisClient> probe_xis;  // the prober's own client (its thread runs apart from the ticker's)
  std::unique_ptr<CoordProber> prober;
  std::unique_ptr<ProbeResponder> responder;
  std::shared_ptr<Router> api;
  Connector connector;
  std::function<Status(std::shared_ptr<const Router>, const std::string&)> listen;  // empty: HTTP
  bool own_ticker = true;
  SignedDoc price_sheet;
  AdvertSource advert_src;

  std::thread ticker;
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  bool stopping = false;
  TimeMs last_record_at = 0;
  TimeMs last_advert_at = 0;
  TimeMs last_image_gc_at = 0;
  std::mutex round_mu;         // one round of periodic work at a time
  int advert_ok = -1;          // last advert: -1 none yet, 0 failed, 1 accepted (under round_mu)
  TimeMs registered_at = 0;    // when the corp accepted (or already had) our registration
  TimeMs advert_ok_at = 0;     // last advert XIS accepted (under round_mu)
  std::string advert_error;    // why the last advert failed, if it did (under round_mu)
  std::string delivery_error;  // why the last usage delivery failed, if it did (under round_mu)
  LogBackoff corp_log;         // usage delivery failures (under round_mu)
  IdSource* ids = nullptr;     // session ids (ServerSeams::ids); null: random

  // A down corp logs on the first failed delivery, then at doubling intervals, and once when back.
  void note_delivery(const Status& delivered, TimeMs now) {
    delivery_error = delivered ? std::string() : delivered.error().message;
    if (!delivered) {
      if (corp_log.failure(now)) {
        // Says where it failed; the records stay in the WAL either way.
        switch (charging->last_failure()) {
          case ChargingAgent::Failure::kCorpUnreachable:
            XOP_LOGN_WARN("server",
                          "corp unreachable: usage records not delivered (kept, will retry): {} ({} failures)",
                          delivered.error().message, corp_log.failures());
            break;
          case ChargingAgent::Failure::kCorpAnswered:
            XOP_LOGN_WARN("server",
                          "the corp did not settle the usage records (kept, will retry): usage records not "
                          "delivered: {} ({} failures)",
                          delivered.error().to_string(), corp_log.failures());
            break;
          case ChargingAgent::Failure::kLocalStore:
            XOP_LOGN_ERROR("server",
                           "this server's state store failed: usage records not delivered (kept, will retry): {} "
                           "({} failures)",
                           delivered.error().message, corp_log.failures());
            break;
        }
      } else {
        XOP_LOGN_DEBUG("server", "usage records not delivered (will retry): {}", delivered.error().message);
      }
    } else if (corp_log.success()) {
      XOP_LOGN_INFO("server", "corp reachable again: usage records delivered");
    }
  }

  [[nodiscard]] std::string spool_dir() const { return cfg.data_dir + "/spool"; }

  Json info() const {
    return Json{{"service", "xop-server"},
                {"version", "0.1.0"},
                {"server", server_id},
                {"audience", server_id},
                {"public_key", key.public_key().base64()},
                {"name", cfg.name},
                {"city", cfg.city},
                {"location", to_json(cfg.location)},
                {"capacity", to_json(cfg.capacity)},
                {"free", to_json(sessions->free())},
                {"price_sheet", price_sheet.to_json()},
                {"sandboxes", Json::array({sandbox->kind()})},
                {"images", images->images()}};
  }

  void round(bool force_all) {
    std::lock_guard lock(round_mu);
    const TimeMs now = clock->now_ms();
    sessions->sample_all();
    if (force_all || now - last_record_at >= cfg.charging_interval_ms) {
      last_record_at = now;
      sessions->write_records();
    }
    auto flushed = charging->flush();
    note_delivery(flushed ? Status{} : Status(tl::make_unexpected(flushed.error())), now);
    // Credit control: freeze, thaw or stop by the corp's word; stop what stayed frozen too long
    // (also while the corp cannot be reached).
    size_t stopped = flushed ? sessions->on_credit(flushed->purchase_orders) : 0;
    stopped += sessions->stop_expired_frozen();
    if (stopped > 0) {
      // Delivers the final records promptly; undelivered ones stay in the WAL for the next tick.
      auto again = charging->flush();
      note_delivery(again ? Status{} : Status(tl::make_unexpected(again.error())), now);
    }
    if (now - last_image_gc_at >= cfg.image_gc_interval_ms) {
      last_image_gc_at = now;
      auto gc = images->collect_garbage();
      if (!gc) XOP_LOGN_WARN("server", "image store garbage collection failed: {}", gc.error().message);
    }
    if (xis && (force_all || now - last_advert_at >= cfg.advert_interval_ms)) {
      last_advert_at = now;
      if (prober) advert_src.coord = prober->published();
      auto adv = make_advert(advert_src, sessions->free(), images->images(), now, key);
      Status sent = adv ? send_advert(*xis, *adv) : Status(tl::make_unexpected(adv.error()));
      // One line per change (first success, first failure, recovery); steady-state repeats at debug.
      advert_error = sent ? std::string() : sent.error().message;
      if (sent) advert_ok_at = now;
      if (!sent) {
        if (advert_ok != 0) {
          XOP_LOGN_WARN("server", "advert not accepted by XIS: {}", sent.error().message);
        } else {
          XOP_LOGN_DEBUG("server", "advert not accepted by XIS: {}", sent.error().message);
        }
        advert_ok = 0;
      } else if (advert_ok != 1) {
        XOP_LOGN_INFO("server", "advertising to XIS {}", cfg.xis_url);
        advert_ok = 1;
      }
    }
  }

  // The owner's view of this server (GET /v1/status, docs/api/server.yaml).
  Result<Json> status(const std::string& caller) {
    if (caller != cfg.owner && caller != server_id) {
      return make_error(ErrorCode::kPermissionDenied, "the status is for the server's owner only");
    }
    const TimeMs now = clock->now_ms();
    ServerStatusView v;
    v.server = server_id;
    v.name = cfg.name;
    v.owner = cfg.owner;
    v.now = now;
    v.registration = ServerRegistrationStatus{cfg.corp_url, registered_at > 0, registered_at};
    {
      std::lock_guard lock(round_mu);
      const char* state = advert_ok == 1 ? "accepted" : advert_ok == 0 ? "failing" : "none";
      v.advert = AdvertStatus{cfg.xis_url,
                              xis ? state : "disabled",
                              advert_ok_at,
                              advert_ok_at > 0 ? now - advert_ok_at : -1,
                              cfg.advert_ttl_ms,
                              cfg.advert_interval_ms,
                              advert_ok_at > 0 && now - advert_ok_at < cfg.advert_ttl_ms,
                              advert_error};
      v.corp = CorpDeliveryStatus{!corp_log.failing(), corp_log.failures(), delivery_error};
    }
    auto list = sessions->list("");
    if (!list) return tl::make_unexpected(list.error());
    for (const auto& s : *list) {
      v.sessions.push_back(
          HostedSession{s.row.id, s.row.user, s.row.state, s.row.started_at, s.row.stopped_at, s.claimed.micros()});
    }
    v.capacity = cfg.capacity;
    v.in_use = sessions->reserved();
    v.free = sessions->free();
    return to_json(v);
  }

  // The probe responder (whenever coord.enabled and the server has a real listener) and, when it
  // advertises to XIS, the prober on a thread of its own (its rounds wait for answers, which the
  // ticker's round must not).
  Status start_coord() {
    if (!cfg.coord_enabled || listen) return {};
    std::string host = cfg.listen_host;
    uint16_t port = http ? http->port() : cfg.listen_port;
    if (!cfg.coord_probe_listen.empty()) {
      XOP_ASSIGN_OR_RETURN(auto hp, parse_listen_address(cfg.coord_probe_listen));
      host = hp.first;
      port = hp.second;
    }
    if (!cfg.coord_probe_advertise.empty()) advert_src.probe = cfg.coord_probe_advertise;
    if (xis) {
      CoordProberOptions po;
      po.interval_ms = cfg.coord_interval_ms;
      po.peers_per_round = static_cast<size_t>(cfg.coord_peers_per_round);
      po.probe_timeout_ms = cfg.coord_probe_timeout_ms;
      XOP_ASSIGN_OR_RETURN(auto client, ProbeClient::open());
      XOP_ASSIGN_OR_RETURN(auto xis_api, ApiClient::connect(cfg.xis_url, key, *clock, connector));
      probe_xis = std::make_unique<XisClient>(std::move(xis_api));
      const uint64_t seed = std::hash<std::string>{}(server_id);
      prober = std::make_unique<CoordProber>(po, *clock, xis_peer_source(probe_xis.get(), server_id, seed),
                                             std::move(client), seed);
    }
    ProbeRateOptions rate;
    rate.answers_per_second = static_cast<double>(cfg.coord_answers_per_second);
    rate.answers_per_second_per_source = static_cast<double>(cfg.coord_answers_per_second_per_source);
    CoordProber* p = prober.get();
    auto started = ProbeResponder::start(host, port, rate, [p]() -> std::optional<Coordinate> {
      return p ? std::optional(p->answer_coordinate()) : std::nullopt;
    });
    if (!started) {
      // A configured probe address that cannot be had stops the server; the default one (the
      // HTTP listener's, which may be a host name or a port taken for UDP) only costs the coordinate.
      if (!cfg.coord_probe_listen.empty()) {
        return make_error(started.error().code, "server.coord.probe_listen: " + started.error().message);
      }
      XOP_LOGN_WARN("server", "no coordinate probes: {} (set coord.probe_listen, or coord.enabled = false)",
                    started.error().message);
      prober.reset();
      probe_xis.reset();
      return {};
    }
    responder = std::move(*started);
    XOP_LOGN_INFO("server", "answering coordinate probes on UDP {}:{}{}", host, responder->port(),
                  prober ? "; probing peers from XIS" : "");
    if (prober && own_ticker) prober->start();
    return {};
  }

  void run_ticker() {
    std::unique_lock lock(tick_mu);
    while (!stopping) {
      tick_cv.wait_for(lock, std::chrono::milliseconds(cfg.sample_interval_ms), [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      round(false);
      lock.lock();
    }
  }
};

XenoServer::XenoServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
XenoServer::~XenoServer() { stop(false); }

Result<std::unique_ptr<XenoServer>> XenoServer::open(ServerConfig config, const Clock& clock,
                                                     std::unique_ptr<Sandbox> sandbox) {
  ServerSeams seams;
  seams.sandbox = std::move(sandbox);
  return open(std::move(config), clock, std::move(seams));
}

Result<std::unique_ptr<XenoServer>> XenoServer::open(ServerConfig config, const Clock& clock, ServerSeams seams) {
  auto impl = std::make_unique<Impl>();
  impl->cfg = std::move(config);
  impl->clock = &clock;
  impl->connector = std::move(seams.connector);
  impl->listen = std::move(seams.listen);
  impl->own_ticker = seams.run_ticker;
  impl->ids = seams.ids;
  auto& cfg = impl->cfg;
  if (impl->listen && cfg.advertise_url.empty()) {
    return invalid("a server without an HTTP listener needs advertise_url (the endpoint it is reached at)");
  }
  auto sandbox = std::move(seams.sandbox);
  if (cfg.runtime == "auto" && !sandbox) {
    auto layout = detect_cgroup_layout("/sys/fs/cgroup");
    if (!layout) return make_error(layout.error().code, "runtime auto: " + layout.error().message);
    std::string why;
    cfg.runtime = choose_runtime(cfg.runtime, *layout, &why);
    XOP_LOGN_INFO("server", "{}", why);
  }
  std::error_code ec;
  fs::create_directories(cfg.data_dir + "/sessions", ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot create " + cfg.data_dir + ": " + ec.message());

  auto key = load_key_file(cfg.key_file);
  if (!key && key.error().code == ErrorCode::kNotFound) {
    impl->key = KeyPair::generate();
    XOP_RETURN_IF_ERROR(save_key_file(impl->key, cfg.key_file));
  } else if (!key) {
    return tl::make_unexpected(key.error());
  } else {
    impl->key = *key;
  }
  impl->server_id = impl->key.account_id();

  const bool injected_sandbox = sandbox != nullptr;
  if (sandbox) {
    impl->sandbox = std::move(sandbox);
  } else if (cfg.runtime == "mock") {
    impl->sandbox = make_mock_sandbox();
  } else {
    // A broken seccomp profile stops the server here, not at the first session.
    if (auto p = load_seccomp_profile(cfg.seccomp_profile); !p) {
      return make_error(p.error().code, "server.seccomp_profile: " + p.error().message);
    }
    RuncOptions ro;
    ro.runtime = cfg.runtime;
    ro.seccomp_profile = cfg.seccomp_profile;
    ro.state_root = cfg.data_dir + "/runtime";
    // Distinct cgroup parents keep several servers on one host (xop dev) apart.
    ro.cgroup_parent = "xop-" + impl->server_id.substr(1, 12);
    impl->sandbox = make_runc_sandbox(ro);
  }
  // The session network: with a real runtime when configured and the host can (detected).
  if (!cfg.network_enabled) {
    XOP_LOGN_INFO("server", "network: disabled by network.enabled = false; sessions get loopback only");
  } else if (cfg.runtime == "mock" || injected_sandbox) {
    XOP_LOGN_INFO("server", "network: not with the {} sandbox; sessions get loopback only",
                  injected_sandbox ? "injected" : "mock");
  } else if (auto why = session_network_unavailable_reason(); !why.empty()) {
    XOP_LOGN_WARN("server", "network: unavailable ({}); sessions get loopback only", why);
  } else {
    NetworkOptions no;
    no.bridge = cfg.network_bridge;
    no.pool = cfg.network_pool;
    no.port_range = cfg.network_port_range;
    XOP_ASSIGN_OR_RETURN(no.deny, parse_cidr_list(cfg.network_deny));
    no.state_file = cfg.data_dir + "/network.json";
    XOP_ASSIGN_OR_RETURN(impl->network, SessionNetwork::open(no));
  }
  // Real sessions get a bounded disk of their own; a host that cannot make one is refused.
  if (cfg.runtime != "mock") XOP_RETURN_IF_ERROR(check_session_disk_support());
  ImageStoreOptions image_opts = cfg.images;
  image_opts.index_durability = seams.storage;
  XOP_ASSIGN_OR_RETURN(impl->images, ImageStore::open(cfg.data_dir + "/images", image_opts, &clock));
  XOP_ASSIGN_OR_RETURN(impl->store, StateStore::open(cfg.data_dir + "/state.db", seams.storage));
  impl->verifier = std::make_unique<RequestVerifier>(clock, impl->server_id);
  XOP_ASSIGN_OR_RETURN(auto corp, ApiClient::connect(cfg.corp_url, impl->key, clock, impl->connector));
  impl->corp = std::make_unique<CorpClient>(std::move(corp));
  if (!cfg.xis_url.empty()) {
    XOP_ASSIGN_OR_RETURN(auto xis, ApiClient::connect(cfg.xis_url, impl->key, clock, impl->connector));
    impl->xis = std::make_unique<XisClient>(std::move(xis));
  }
  return std::unique_ptr<XenoServer>(new XenoServer(std::move(impl)));
}

Status XenoServer::start() {
  auto& d = *impl_;
  auto& cfg = d.cfg;

  // The corp's key: pinned in config, or learnt from the corp.
  std::string corp_key_b64 = cfg.corp_public_key;
  if (corp_key_b64.empty()) {
    XOP_ASSIGN_OR_RETURN(auto info, d.corp->info());
    corp_key_b64 = info.public_key;
  }
  XOP_ASSIGN_OR_RETURN(auto corp_key, PublicKey::from_base64(corp_key_b64));
  d.corp->api().set_audience(corp_key.account_id());  // requests to the corp are signed for its key

  // Register (idempotent: an existing registration is fine), with the owner's consent when the
  // owner gave one (a new registration needs it; the corp says so).
  RegisterAccountRequest reg_req{AccountKind::kServer, cfg.name, cfg.owner, std::nullopt};
  const std::string consent_file = owner_consent_path(cfg);
  if (std::filesystem::exists(consent_file)) {
    XOP_ASSIGN_OR_RETURN(auto text, read_file_capped(consent_file, 64 * 1024));
    auto json = parse_json(text);
    if (!json) return invalid("owner consent " + consent_file + ": " + json.error().message);
    auto consent = SignedDoc::from_json(*json, kOwnerConsentType);
    if (!consent) return invalid("owner consent " + consent_file + ": " + consent.error().message);
    reg_req.owner_consent = std::move(*consent);
  }
  auto reg = d.corp->register_account(reg_req);
  if (!reg && reg.error().code != ErrorCode::kConflict) {
    std::string hint;
    if (reg.error().code == ErrorCode::kPermissionDenied) {
      hint = fmt::format(" (this server is {}; its owner writes the consent with `xop server consent {} --out {}`)",
                         d.server_id, d.server_id, consent_file);
    }
    return make_error(reg.error().code, "cannot register with the corp: " + reg.error().message + hint);
  }
  d.registered_at = d.clock->now_ms();
  XOP_LOGN_INFO("server", "registered with the corp {} as {}", cfg.corp_url, d.server_id);

  PriceSheet sheet{d.server_id, d.clock->now_ms(), cfg.rates};
  XOP_ASSIGN_OR_RETURN(d.price_sheet, SignedDoc::sign(kPriceSheetType, to_json(sheet), d.key));

  SessionManagerOptions so;
  so.server_id = d.server_id;
  so.sessions_dir = cfg.data_dir + "/sessions";
  so.capacity = cfg.capacity;
  so.max_pids_per_session = cfg.max_pids_per_session;
  so.capacity_pids = cfg.capacity_pids;
  so.stop_grace_ms = cfg.stop_grace_ms;
  so.freeze_grace_ms = cfg.freeze_grace_ms;
  so.loop_disks = cfg.runtime != "mock";
  so.default_disk_bytes = cfg.session_disk_default_bytes;
  so.log_max_bytes = cfg.session_log_max_bytes;
  so.log_rate_bytes_per_s = cfg.session_log_rate_bytes_per_s;
  so.log_retention_ms = cfg.session_log_retention_ms;
  so.ids = d.ids;
  so.network = d.network.get();
  so.public_host = cfg.listen_host;
  if (auto e = parse_endpoint(cfg.advertise_url); e) so.public_host = e->host;
  d.sessions = std::make_unique<SessionManager>(so, *d.clock, *d.sandbox, *d.images, *d.store, corp_key, d.price_sheet);
  XOP_RETURN_IF_ERROR(d.sessions->recover());
  // At start-up, once recovery ended the uses of sessions that finished while we were down.
  d.last_image_gc_at = d.clock->now_ms();
  if (auto gc = d.images->collect_garbage(); !gc) {
    XOP_LOGN_WARN("server", "image store garbage collection failed: {}", gc.error().message);
  }
  d.charging = std::make_unique<ChargingAgent>(d.server_id, d.key, *d.corp, *d.store, *d.clock);

  ServerApiDeps deps;
  deps.sessions = d.sessions.get();
  deps.images = d.images.get();
  deps.verifier = d.verifier.get();
  deps.clock = d.clock;
  deps.info = [&d] { return d.info(); };
  deps.status = [&d](const std::string& caller) { return d.status(caller); };
  if (!cfg.owner.empty()) deps.evictors.push_back(cfg.owner);
  deps.evictors.push_back(d.server_id);
  d.api = make_server_api(deps);
  // Spooled uploads (blobs) land next to the image store, so accepting one is a rename. Without
  // a listener, whoever serves the API spools there too (ServerSeams::listen).
  {
    std::error_code sec;
    fs::remove_all(d.spool_dir(), sec);  // uploads a previous run left half-received
    fs::create_directories(d.spool_dir(), sec);
    if (sec) return make_error(ErrorCode::kInternal, "cannot create " + d.spool_dir() + ": " + sec.message());
  }
  if (d.listen) {
    XOP_RETURN_IF_ERROR(d.listen(d.api, d.spool_dir()));
  } else {
    HttpServerOptions ho;
    ho.host = cfg.listen_host;
    ho.port = cfg.listen_port;
    ho.threads = cfg.http_threads;
    ho.max_connections = static_cast<size_t>(cfg.max_connections);
    ho.max_connections_per_peer = static_cast<size_t>(cfg.max_connections_per_peer);
    ho.max_spool_bytes = static_cast<uint64_t>(cfg.max_upload_spool_bytes);
    ho.max_spool_bytes_per_caller = static_cast<uint64_t>(cfg.max_upload_spool_bytes_per_user);
    ho.spool_dir = d.spool_dir();
    d.http = std::make_unique<HttpServer>(ho, d.api);
    XOP_RETURN_IF_ERROR(d.http->start());
  }

  d.advert_src.server_id = d.server_id;
  d.advert_src.name = cfg.name;
  d.advert_src.endpoint = cfg.advertise_url.empty() ? d.http->url() : cfg.advertise_url;
  d.advert_src.city = cfg.city;
  d.advert_src.location = cfg.location;
  d.advert_src.capacity = cfg.capacity;
  d.advert_src.price_sheet = d.price_sheet;
  d.advert_src.sandboxes = {d.sandbox->kind()};
  d.advert_src.ttl_ms = cfg.advert_ttl_ms;
  d.advert_src.country = cfg.country;
  // The port range's size: the ports sessions may publish on (not net of those in use).
  if (d.network) {
    if (auto r = parse_port_range(d.network->options().port_range)) {
      d.advert_src.free_ports = int64_t{r->last} - r->first + 1;
    }
  }

  XOP_RETURN_IF_ERROR(d.start_coord());

  d.round(true);  // first advert and any WAL left from a previous run, right away
  if (d.own_ticker) d.ticker = std::thread([&d] { d.run_ticker(); });
  XOP_LOGN_INFO("server", "{} ({}) listening on {}", cfg.name, d.server_id, d.advert_src.endpoint);
  return {};
}

void XenoServer::stop(bool stop_sessions) {
  if (!impl_) return;
  auto& d = *impl_;
  {
    std::lock_guard lock(d.tick_mu);
    d.stopping = true;
  }
  d.tick_cv.notify_all();
  if (d.ticker.joinable()) d.ticker.join();
  if (d.prober) d.prober->stop();
  if (d.responder) d.responder->stop();
  if (d.sessions && stop_sessions) {
    d.sessions->stop_all("server shut down");
    if (d.charging) {
      // Undelivered records stay in the WAL and go out after the next start.
      auto flushed = d.charging->flush();
      if (!flushed)
        XOP_LOGN_ERROR("server", "usage records not delivered at shutdown (kept for the next start): {}",
                       flushed.error().message);
    }
  }
  if (d.http) d.http->stop();
  // Sessions left running keep their network (re-adopted on restart); so do those of a previous run
  // when this one never got to recover them.
  if (d.network) d.network->shutdown(d.sessions == nullptr || d.sessions->live_count() > 0);
}

std::string XenoServer::url() const {
  if (impl_->http) return impl_->http->url();
  return impl_->listen ? impl_->cfg.advertise_url : std::string();
}
std::string XenoServer::server_id() const { return impl_->server_id; }
std::string XenoServer::public_key_base64() const { return impl_->key.public_key().base64(); }
void XenoServer::tick() { impl_->round(false); }
void XenoServer::tick_for_test() { impl_->round(true); }

}  // namespace xop
