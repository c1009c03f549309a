#include "xis/xis_service.h"

#include "core/log.h"
#include "net/auth.h"
#include "xis/advert_store.h"
#include "xis/ranking.h"
#include "xis/xis_bodies.h"

namespace xop {
namespace {

constexpr const char* kServiceName = "xop-xis";
constexpr const char* kVersion = "0.1.0";

// Everything the HTTP handlers touch. Shared with the router's handlers, so a router that
// outlives its XisService (e.g. held by a server still draining) never dangles.
struct State {
  State(XisOptions o, const Clock& c)
      : opts(o),
        clock(c),
        store(AdvertStoreOptions{o.max_ttl_ms, o.max_adverts, o.replay_window_ms, 1'000}),
        verifier(c, o.instance_id.empty() ? random_id("xis") : o.instance_id, o.replay_window_ms) {}

  Result<TimeMs> accept(const AdvertSubmission& s) {
    return store.put(s.advert, s.doc, s.price_sheet.rates, clock.now_ms());
  }

  SearchResult search(const SearchQuery& q) const {
    SearchResult r;
    const TimeMs now = clock.now_ms();
    store.with_live(now, [&](std::span<const StoredAdvert* const> live) { r = rank_adverts(live, q, now); });
    return r;
  }

  XisOptions opts;
  const Clock& clock;
  AdvertStore store;
  RequestVerifier verifier;
};

Status check_json_content_type(const HttpRequest& req) {
  const auto ct = req.header("content-type");
  if (!ct.empty() && ct.find("application/json") == std::string::npos) {
    return make_error(ErrorCode::kUnsupportedMedia, "body must be application/json");
  }
  return ok_status();
}

HttpResponse post_advert(State& st, const HttpRequest& req) {
  auto caller = authenticate(st.verifier, req);
  if (!caller) return error_response(caller.error());
  if (auto s = check_json_content_type(req); !s) return error_response(s.error());
  auto sub = decode_advert_body(req.body);
  if (!sub) return error_response(sub.error());
  if (!(sub->doc.signer == *caller)) {
    return error_response(ErrorCode::kPermissionDenied, "advert for server " + sub->advert.server +
                                                            " may only be sent by that server (caller is " +
                                                            caller->account_id() + ")");
  }
  auto expires = st.accept(*sub);
  if (!expires) return error_response(expires.error());
  XOP_LOG_DEBUG("xis: advert from {} ({}) accepted until {}", sub->advert.server, sub->advert.name, *expires);
  return json_response(200, Json{{"accepted", true}, {"expires_at", *expires}});
}

HttpResponse get_adverts(const State& st) {
  Json arr = Json::array();
  st.store.with_live(st.clock.now_ms(), [&](std::span<const StoredAdvert* const> live) {
    for (const StoredAdvert* s : live) arr.push_back(s->doc.to_json());
  });
  return json_response(200, Json{{"adverts", std::move(arr)}});
}

HttpResponse post_search(const State& st, const HttpRequest& req) {
  if (auto s = check_json_content_type(req); !s) return error_response(s.error());
  auto q = decode_search_body(req.body);
  if (!q) return error_response(q.error());
  return json_response(200, to_json(st.search(*q)));
}

}  // namespace

struct XisService::Impl {
  std::shared_ptr<State> state;
  std::shared_ptr<Router> router;
};

XisService::XisService(XisOptions opts, const Clock& clock) : impl_(std::make_unique<Impl>()) {
  auto st = std::make_shared<State>(opts, clock);
  auto r = std::make_shared<Router>();
  r->set_verifier(&st->verifier);
  r->add(
      "GET", "/v1/info",
      [st](const HttpRequest&, const PathParams&) {
        return json_response(200, Json{{"service", kServiceName},
                                       {"version", kVersion},
                                       {"audience", st->verifier.audience()},
                                       {"adverts", st->store.live_count(st->clock.now_ms())}});
      },
      0);
  r->add(
      "POST", "/v1/adverts", [st](const HttpRequest& req, const PathParams&) { return post_advert(*st, req); },
      kMaxAdvertBody, Access::kSigned);
  r->add(
      "GET", "/v1/adverts", [st](const HttpRequest&, const PathParams&) { return get_adverts(*st); }, 0);
  r->add(
      "POST", "/v1/search", [st](const HttpRequest& req, const PathParams&) { return post_search(*st, req); },
      kMaxSearchBody);
  impl_->state = std::move(st);
  impl_->router = std::move(r);
}

XisService::~XisService() = default;

std::shared_ptr<const Router> XisService::router() const { return impl_->router; }

Status XisService::accept(const SignedDoc& advert_doc) {
  XOP_ASSIGN_OR_RETURN(auto sub, verify_advert_submission(advert_doc));
  XOP_RETURN_IF_ERROR(impl_->state->accept(sub));
  return ok_status();
}

SearchResult XisService::search(const SearchQuery& q) const { return impl_->state->search(q); }

size_t XisService::live_adverts() const { return impl_->state->store.live_count(impl_->state->clock.now_ms()); }

}  // namespace xop
