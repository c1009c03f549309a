#include "xis/xis_service.h"

#include <fmt/format.h>

#include <mutex>

#include "core/log.h"
#include "core/log_backoff.h"
#include "net/auth.h"
#include "proto/xis_answers.h"
#include "proto/xis_bodies.h"
#include "xis/advert_store.h"
#include "xis/query_engine.h"
#include "xis/ranking.h"
#include "xis/ttl_cache.h"

namespace xop {
namespace {

constexpr const char* kServiceName = "xop-xis";
constexpr const char* kVersion = "0.1.0";

// A refusal and, when retrying later can help, how long to wait (the Retry-After header).
struct Refusal {
  Error error;
  int64_t retry_after_ms = 0;
};
template <class T>
using Admit = tl::expected<T, Refusal>;

Refusal refuse(ErrorCode code, std::string message, int64_t retry_after_ms = 0) {
  return Refusal{Error{code, std::move(message)}, retry_after_ms};
}

HttpResponse refusal_response(const Refusal& r) {
  HttpResponse res = error_response(r.error);
  if (r.retry_after_ms > 0) res.headers["Retry-After"] = std::to_string((r.retry_after_ms + 999) / 1000);
  return res;
}

// What the endpoint cache remembers: the key found there, or why none could be.
struct EndpointProof {
  bool ok = false;
  std::string key_or_reason;
};

// Everything the HTTP handlers touch. Shared with the router's handlers, so a router that
// outlives its XisService (e.g. held by a server still draining) never dangles.
struct State {
  State(XisOptions o, const Clock& c, XisPeers p)
      : opts(o),
        clock(c),
        peers(std::move(p)),
        store(AdvertStoreOptions{o.max_ttl_ms, o.max_adverts, o.replay_window_ms, 1'000, o.max_per_owner,
                                 o.max_stored_bytes}),
        verifier(c, o.instance_id.empty() ? random_id("xis") : o.instance_id, o.replay_window_ms),
        advert_limiter(o.advert_rate, 2 * o.max_adverts + 1024),
        miss_limiter(o.registry_miss_rate, 1),
        registry_cache(o.registry_cache_entries),
        endpoint_cache(o.endpoint_cache_entries) {}

  // The owner of a registered server `key` ("" when XIS does not ask the corp), or a refusal.
  Admit<std::string> registered_owner(const PublicKey& key) {
    if (!peers.registry) return std::string();
    const std::string id = key.account_id();
    const TimeMs now = clock.now_ms();
    std::optional<TtlCache<std::optional<ServerRegistration>>::Hit> hit;
    {
      std::lock_guard lock(mu);
      hit = registry_cache.get(id, now);
      if (!hit || !hit->fresh) {
        // Only servers the cache does not know as registered cost a corp look-up from the shared
        // budget, so a flood of unknown keys cannot crowd out refreshes of known servers.
        const bool known = hit && hit->value.has_value();
        if (!known) {
          if (const int64_t wait = miss_limiter.take("", now); wait > 0) {
            return tl::make_unexpected(refuse(
                ErrorCode::kResourceExhausted,
                fmt::format("XIS is checking too many unknown servers with the corp; retry in {} ms", wait), wait));
          }
        }
      }
    }
    std::optional<ServerRegistration> reg;
    if (hit && hit->fresh) {
      reg = hit->value;
    } else {
      auto r = peers.registry(id);
      if (!r) {
        corp_unreachable(r.error().message, now);
        if (hit && hit->value) {
          XOP_LOGN_DEBUG("xis", "corp unreachable ({}); server {} stays admitted from the cache", r.error().message,
                         id);
          reg = hit->value;
        } else {
          return tl::make_unexpected(
              refuse(ErrorCode::kUnavailable,
                     "cannot check with the corp that " + id + " is a registered server: " + r.error().message,
                     opts.registry_negative_ttl_ms));
        }
      } else {
        corp_reachable();
        reg = *r;
        std::lock_guard lock(mu);
        if (reg) {
          registry_cache.put(id, reg, now, opts.registry_ttl_ms, opts.registry_keep_ms);
        } else {
          registry_cache.put(id, reg, now, opts.registry_negative_ttl_ms, opts.registry_negative_ttl_ms);
        }
      }
    }
    if (!reg) {
      return tl::make_unexpected(
          refuse(ErrorCode::kPermissionDenied, "the signing key " + id + " is not a registered server account"));
    }
    if (reg->public_key != key.base64()) {
      return tl::make_unexpected(
          refuse(ErrorCode::kPermissionDenied, "server " + id + " is registered with another key"));
    }
    return reg->owner;
  }

  // Refuses an advert whose endpoint another live server holds, or whose endpoint does not answer
  // with the advert's key.
  Admit<void> check_endpoint(const AdvertSubmission& s, TimeMs now) {
    auto ep = endpoint_key(s.advert.endpoint);
    if (!ep) return tl::make_unexpected(Refusal{ep.error()});
    if (auto holder = store.endpoint_holder(*ep, now); holder && *holder != s.advert.server) {
      return tl::make_unexpected(
          refuse(ErrorCode::kConflict, "endpoint " + *ep + " is held by the live advert of server " + *holder));
    }
    if (!peers.endpoint_key) return {};
    std::optional<TtlCache<EndpointProof>::Hit> hit;
    {
      std::lock_guard lock(mu);
      hit = endpoint_cache.get(*ep, now);
    }
    EndpointProof proof;
    if (hit && hit->fresh) {
      proof = hit->value;
    } else {
      auto r = peers.endpoint_key(s.advert.endpoint);
      proof = r ? EndpointProof{true, *r} : EndpointProof{false, r.error().message};
      std::lock_guard lock(mu);
      const int64_t ttl = proof.ok ? opts.endpoint_proof_ttl_ms : opts.endpoint_failure_ttl_ms;
      endpoint_cache.put(*ep, proof, now, ttl, ttl);
    }
    if (!proof.ok) {
      return tl::make_unexpected(
          refuse(ErrorCode::kPermissionDenied,
                 "cannot confirm that the server at " + *ep + " holds the advert's key: " + proof.key_or_reason,
                 opts.endpoint_failure_ttl_ms));
    }
    if (proof.key_or_reason != s.doc.signer.base64()) {
      return tl::make_unexpected(refuse(ErrorCode::kPermissionDenied,
                                        "the server answering at " + *ep + " holds another key than the advert's"));
    }
    return {};
  }

  // `shared`: from another instance (accept_shared), which proved the endpoint already; only the
  // conflict with a live advert is checked here.
  Admit<TimeMs> admit(const AdvertSubmission& s, const std::string& owner, size_t bytes, bool shared = false) {
    const TimeMs now = clock.now_ms();
    if (shared) {
      auto ep = endpoint_key(s.advert.endpoint);
      if (!ep) return tl::make_unexpected(Refusal{ep.error()});
      if (auto holder = store.endpoint_holder(*ep, now); holder && *holder != s.advert.server) {
        return tl::make_unexpected(
            refuse(ErrorCode::kConflict, "endpoint " + *ep + " is held by the live advert of server " + *holder));
      }
    } else if (auto c = check_endpoint(s, now); !c) {
      return tl::make_unexpected(c.error());
    }
    const bool known = store.knows(s.advert.server);
    auto r = store.put(s.advert, s.doc, s.price_sheet.rates, now, owner, bytes);
    if (!r) return tl::make_unexpected(Refusal{r.error()});
    // One line when a server starts advertising (or comes back after its advert was dropped).
    if (!known) {
      XOP_LOGN_INFO("xis", "server {} ({}) advertising at {}{}", s.advert.server, s.advert.name, s.advert.endpoint,
                    shared ? " (shared by another instance)" : "");
    }
    if (!shared) share(s.advert.server, s.doc, owner);
    return *r;
  }

  // Hands an admitted advert to the bus, if there is one.
  void share(const std::string& server, const SignedDoc& doc, const std::string& owner) {
    std::lock_guard lock(bus_mu);
    if (bus) bus->publish(server, encode_shared_advert(doc, owner));
  }

  Admit<void> rate_limit(const std::string& server) {
    const TimeMs now = clock.now_ms();
    std::lock_guard lock(mu);
    if (const int64_t wait = advert_limiter.take(server, now); wait > 0) {
      return tl::make_unexpected(refuse(ErrorCode::kRateLimited,
                                        fmt::format("too many adverts from {}: at most {} at once and {} a second; "
                                                    "retry in {} ms",
                                                    server, opts.advert_rate.burst, opts.advert_rate.per_second, wait),
                                        wait));
    }
    return {};
  }

  SearchResult search(const SearchQuery& q) const {
    SearchResult r;
    const TimeMs now = clock.now_ms();
    store.with_live(now, [&](std::span<const StoredAdvert* const> live) { r = rank_adverts(live, q, now); });
    return r;
  }

  // A quote for `q` over the live adverts: nearest first through the advert store's indexes when
  // the query allows it (xis/query_engine.h can_run_ordered: the visit stops once `count` are
  // chosen), else a full scan. The query is prepared (its RTT reference resolved) under the
  // store's shared lock; the indexed visit takes that lock itself, so it runs after.
  Result<Quote> quote(const Query& q) const {
    const TimeMs now = clock.now_ms();
    Result<std::unique_ptr<PreparedQuery>> pq = nullptr;
    std::optional<Quote> scanned;
    store.with_live(now, [&](std::span<const StoredAdvert* const> live) {
      pq = prepare_query(q, coord_lookup_over(live));
      if (pq && !can_run_ordered(**pq)) scanned = run_query(**pq, live, now);
    });
    if (!pq) return tl::make_unexpected(pq.error());
    if (scanned) return std::move(*scanned);
    const PreparedQuery& p = **pq;
    if (p.query.rank == RankBy::kDistance) {
      return run_query_ordered(
          p, [&](const OrderedFn& fn) { store.visit_nearest_geo(*p.query.near, now, fn); }, now);
    }
    return run_query_ordered(
        p, [&](const OrderedFn& fn) { store.visit_nearest_rtt(*p.rtt_ref, now, fn); }, now);
  }

  XisOptions opts;
  const Clock& clock;
  XisPeers peers;
  AdvertStore store;
  RequestVerifier verifier;
  // One line when the corp becomes unreachable, then at doubling intervals, and once when it is back.
  void corp_unreachable(const std::string& why, TimeMs now) {
    std::lock_guard lock(mu);
    if (corp_log.failure(now)) {
      XOP_LOGN_WARN("xis", "corp unreachable: {} (registered servers stay admitted from the cache; {} failures)", why,
                    corp_log.failures());
    }
  }
  void corp_reachable() {
    std::lock_guard lock(mu);
    if (corp_log.success()) XOP_LOGN_INFO("xis", "corp reachable again");
  }

  std::mutex bus_mu;
  AdvertBus* bus = nullptr;
  std::mutex mu;  // the limiters and caches (never held across a peer call)
  LogBackoff corp_log;
  RateLimiter advert_limiter;
  RateLimiter miss_limiter;
  TtlCache<std::optional<ServerRegistration>> registry_cache;
  TtlCache<EndpointProof> endpoint_cache;
};

Status check_json_content_type(const HttpRequest& req) {
  const auto ct = req.header("content-type");
  if (!ct.empty() && ct.find("application/json") == std::string::npos) {
    return make_error(ErrorCode::kUnsupportedMedia, "body must be application/json");
  }
  return ok_status();
}

// Order matters for what a refusal costs: the signature (headers and body digest), then the
// registration of the signer (cached), then its rate, and only then the body's three signatures
// and the endpoint check.
HttpResponse post_advert(State& st, const HttpRequest& req) {
  auto caller = authenticate(st.verifier, req);
  if (!caller) return error_response(caller.error());
  auto owner = st.registered_owner(*caller);
  if (!owner) {
    XOP_LOGN_DEBUG("xis", "advert refused: {}", owner.error().error.message);
    return refusal_response(owner.error());
  }
  if (auto rl = st.rate_limit(caller->account_id()); !rl) return refusal_response(rl.error());
  if (auto s = check_json_content_type(req); !s) return error_response(s.error());
  auto sub = decode_advert_body(req.body);
  if (!sub) return error_response(sub.error());
  if (!(sub->doc.signer == *caller)) {
    return error_response(ErrorCode::kPermissionDenied, "advert for server " + sub->advert.server +
                                                            " may only be sent by that server (caller is " +
                                                            caller->account_id() + ")");
  }
  auto expires = st.admit(*sub, *owner, req.body.size());
  if (!expires) {
    XOP_LOGN_DEBUG("xis", "advert from {} refused: {}", sub->advert.server, expires.error().error.message);
    return refusal_response(expires.error());
  }
  XOP_LOGN_DEBUG("xis", "advert from {} ({}) accepted until {}", sub->advert.server, sub->advert.name, *expires);
  return json_response(200, to_json(AdvertAccepted{true, *expires}));
}

HttpResponse get_adverts(const State& st) {
  std::vector<SignedDoc> docs;
  st.store.with_live(st.clock.now_ms(), [&](std::span<const StoredAdvert* const> live) {
    for (const StoredAdvert* s : live) docs.push_back(s->doc);
  });
  return json_response(200, adverts_answer_json(docs));
}

HttpResponse post_search(const State& st, const HttpRequest& req) {
  if (auto s = check_json_content_type(req); !s) return error_response(s.error());
  auto q = decode_search_body(req.body);
  if (!q) return error_response(q.error());
  return json_response(200, to_json(st.search(*q)));
}

HttpResponse post_query(const State& st, const HttpRequest& req) {
  if (auto s = check_json_content_type(req); !s) return error_response(s.error());
  auto q = decode_query_body(req.body);
  if (!q) return error_response(q.error());
  auto quote = st.quote(*q);
  if (!quote) return error_response(quote.error());
  return json_response(200, to_json(*quote));
}

}  // namespace

struct XisService::Impl {
  std::shared_ptr<State> state;
  std::shared_ptr<Router> router;
};

XisService::XisService(XisOptions opts, const Clock& clock, XisPeers peers) : impl_(std::make_unique<Impl>()) {
  auto st = std::make_shared<State>(opts, clock, std::move(peers));
  auto r = std::make_shared<Router>();
  r->set_verifier(&st->verifier);
  r->add(
      "GET", "/v1/info",
      [st](const HttpRequest&, const PathParams&) {
        return json_response(200, to_json(XisInfo{kServiceName, kVersion, st->verifier.audience(),
                                                  static_cast<int64_t>(st->store.live_count(st->clock.now_ms()))}));
      },
      0);
  r->add(
      "POST", "/v1/adverts", [st](const HttpRequest& req, const PathParams&) { return post_advert(*st, req); },
      std::min(opts.max_advert_bytes, kMaxAdvertBody), Access::kSigned);
  r->add(
      "GET", "/v1/adverts", [st](const HttpRequest&, const PathParams&) { return get_adverts(*st); }, 0);
  r->add(
      "POST", "/v1/search", [st](const HttpRequest& req, const PathParams&) { return post_search(*st, req); },
      kMaxSearchBody);
  r->add(
      "POST", "/v1/query", [st](const HttpRequest& req, const PathParams&) { return post_query(*st, req); },
      kMaxQueryBody);
  impl_->state = std::move(st);
  impl_->router = std::move(r);
}

XisService::~XisService() = default;

std::shared_ptr<const Router> XisService::router() const { return impl_->router; }

Status XisService::accept(const SignedDoc& advert_doc) {
  XOP_ASSIGN_OR_RETURN(auto sub, verify_advert_submission(advert_doc));
  State& st = *impl_->state;
  auto owner = st.registered_owner(sub.doc.signer);
  if (!owner) return tl::make_unexpected(owner.error().error);
  auto r = st.admit(sub, *owner, Json{{"advert", advert_doc.to_json()}}.dump().size());
  if (!r) return tl::make_unexpected(r.error().error);
  return ok_status();
}

SearchResult XisService::search(const SearchQuery& q) const { return impl_->state->search(q); }
Result<Quote> XisService::quote(const Query& q) const { return impl_->state->quote(q); }

void XisService::set_bus(AdvertBus* bus) {
  std::lock_guard lock(impl_->state->bus_mu);
  impl_->state->bus = bus;
}

Status XisService::accept_shared(std::string_view body) {
  XOP_ASSIGN_OR_RETURN(auto shared, decode_shared_advert(body));
  auto r = impl_->state->admit(shared.submission, shared.owner, body.size(), /*shared=*/true);
  if (!r) return tl::make_unexpected(r.error().error);
  return ok_status();
}

size_t XisService::live_adverts() const { return impl_->state->store.live_count(impl_->state->clock.now_ms()); }
size_t XisService::stored_entries() const { return impl_->state->store.entries(); }
size_t XisService::stored_bytes() const { return impl_->state->store.stored_bytes(); }

}  // namespace xop
