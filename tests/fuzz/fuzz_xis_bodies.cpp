// Fuzz target for the bodies XIS reads from outside: the advert submission ({"advert": signed
// doc}) and the search query. Also runs every decoded query through a live XisService (with a
// few real adverts) and the HTTP router, and checks invariants: a decoded query re-encodes to
// itself, and every live server is either a candidate or rejected, exactly once. And the answers
// XIS decodes from its peers (the corp's registration answer, an endpoint's /v1/info), and the
// adverts other XIS instances share (decode_shared_advert, XisService::accept_shared).
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "core/clock.h"
#include "crypto/keys.h"
#include "proto/advert.h"
#include "proto/search.h"
#include "proto/xis_bodies.h"
#include "xis/advert_store.h"
#include "xis/xis_peers.h"
#include "xis/xis_service.h"

namespace {

using namespace xop;

struct Fixture {
  SimulatedClock clock;
  XisService svc{XisOptions{}, clock};
  size_t live = 0;

  Fixture() {
    const GeoPoint places[] = {{51'507'400, -127'800}, {48'856'600, 2'352'200}, {35'676'200, 139'650'300}};
    int i = 0;
    for (const auto& p : places) {
      const auto k = KeyPair::generate();
      Rates rates;
      rates.cpu_reserve_per_core_hour = 1'000'000 * (i + 1);
      rates.memory_reserve_per_gib_hour = 100'000;
      Advert a;
      a.server = k.account_id();
      a.name = "srv" + std::to_string(i);
      a.endpoint = "http://127.0.0.1:" + std::to_string(7000 + i);  // an endpoint belongs to one server
      a.city = a.name;
      a.location = p;
      a.capacity = a.free = Resources{1000 * (i + 1), int64_t{1} << 33, int64_t{1} << 36, 1'000'000'000};
      a.price_sheet = *SignedDoc::sign(kPriceSheetType, to_json(PriceSheet{a.server, clock.now_ms(), rates}), k);
      a.sandboxes = {i % 2 == 0 ? "runc" : "qemu"};
      a.issued_at = clock.now_ms();
      a.ttl_ms = 60'000;
      if (i < 2) a.coord = AdvertCoord{{1000 * i, 2000}, 500, 100'000};  // the third has none
      if (!svc.accept(*SignedDoc::sign(kAdvertType, to_json(a), k))) std::abort();
      ++i;
    }
    live = svc.live_adverts();
    if (live != 3) std::abort();
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void check_query(const SearchQuery& q) {
  auto again = search_query_from_json(to_json(q));
  if (!again || to_json(*again) != to_json(q)) std::abort();
  const SearchResult r = fixture().svc.search(q);
  std::multiset<std::string> seen;
  for (const auto& c : r.candidates) seen.insert(c.advert.server);
  for (const auto& x : r.rejected) {
    if (x.reason.empty()) std::abort();
    seen.insert(x.server);
  }
  if (seen.size() != fixture().live || std::set<std::string>(seen.begin(), seen.end()).size() != seen.size()) {
    std::abort();
  }
  if (r.candidates.size() > static_cast<size_t>(q.count)) std::abort();
  // The answer is valid wire format for clients.
  if (!search_result_from_json(to_json(r))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Fixture& f = fixture();

  auto sub = decode_advert_body(in);
  if (sub && sub->doc.signer.account_id() != sub->advert.server) std::abort();

  if (auto q = decode_search_body(in)) check_query(*q);

  // What another instance shares through the advert bus (xis/advert_bus.h), decoded and admitted
  // as a receiving instance does: a valid one names its signer's server and an account owner.
  if (auto shared = decode_shared_advert(in)) {
    if (shared->submission.doc.signer.account_id() != shared->submission.advert.server) std::abort();
    if (!shared->owner.empty() && !is_account_id(shared->owner)) std::abort();
  }
  (void)f.svc.accept_shared(in);
  f.live = f.svc.live_adverts();  // a valid shared advert may add one

  // The answers XIS reads from the corp and from advertised endpoints.
  const std::string id = "a0000000000000000000000000000000000000000";
  for (int status : {200, 404, 500}) {
    auto reg = decode_registry_answer(id, status, in);
    if (reg && reg->has_value() && (*reg)->server != id) std::abort();
  }
  (void)decode_info_key(in);
  (void)endpoint_key(in);

  // The inner decoders directly (reachable without valid signatures).
  if (auto j = parse_json(in)) {
    (void)advert_from_json(*j);
    if (j->is_object() && j->contains("body")) (void)advert_from_json((*j)["body"]);
    (void)SignedDoc::from_json(*j, kAdvertType);
  }

  // Through the router, as the HTTP server would dispatch it (body limit enforced by the server).
  if (size <= kMaxSearchBody) {
    HttpRequest req;
    req.method = "POST";
    req.target = req.path = "/v1/search";
    req.headers["content-type"] = "application/json";
    req.body = std::string(in);
    const HttpResponse res = f.svc.router()->dispatch(req);
    if (res.status != 200 && (res.status < 400 || res.status >= 500)) std::abort();
    if (!parse_json(res.body)) std::abort();
  }
  if (f.svc.live_adverts() != f.live) std::abort();
  return 0;
}
