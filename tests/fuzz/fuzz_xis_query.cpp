// Fuzz target for POST /v1/query bodies (proto/xis_query.h) and the query engine. Invariants: a
// decoded query re-encodes to itself; its quote over a few real adverts chooses at most `count`,
// only live servers, each once; every removal count is at most the live adverts and its examples
// at most kMaxQueryExamples; relaxations appear only when fewer than `count` were chosen, each
// promising at least `count`; the quote is valid wire format; and through the router every body
// gets 200 or a 4xx JSON error.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "core/clock.h"
#include "proto/advert.h"
#include "proto/xis_query.h"
#include "xis/query_engine.h"
#include "xis/xis_service.h"

namespace {

using namespace xop;

struct Fixture {
  SimulatedClock clock;
  XisService svc{XisOptions{}, clock};
  std::set<std::string> servers;

  Fixture() {
    const GeoPoint places[] = {
        {51'507'400, -127'800}, {48'856'600, 2'352'200}, {35'676'200, 139'650'300}, {40'712'800, -74'006'000}};
    const char* countries[] = {"GB", "FR", "JP", ""};
    for (int i = 0; i < 4; ++i) {
      const auto k = KeyPair::generate();
      Rates rates;
      rates.cpu_reserve_per_core_hour = 500'000 * (i + 1);
      rates.memory_reserve_per_gib_hour = 100'000;
      Advert a;
      a.server = k.account_id();
      a.name = "srv" + std::to_string(i);
      a.endpoint = "http://127.0.0.1:" + std::to_string(7000 + i);
      a.city = a.name;
      a.location = places[i];
      a.capacity = a.free = Resources{1000 * (i + 1), int64_t{1} << 33, int64_t{1} << 36, 1'000'000'000};
      a.price_sheet = *SignedDoc::sign(kPriceSheetType, to_json(PriceSheet{a.server, clock.now_ms(), rates}), k);
      a.sandboxes = {i % 2 == 0 ? "runc" : "crun"};
      a.images = {"sha256:" + std::string(64, static_cast<char>('a' + i))};
      a.issued_at = clock.now_ms();
      a.ttl_ms = 60'000;
      if (i < 3) a.coord = AdvertCoord{{1000 * i, 2000}, 500, 100'000};
      if (countries[i][0] != '\0') a.country = countries[i];
      if (i != 1) a.free_ports = 10 * i;
      if (!svc.accept(*SignedDoc::sign(kAdvertType, to_json(a), k))) std::abort();
      servers.insert(a.server);
    }
    if (svc.live_adverts() != 4) std::abort();
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void check_query(const Query& q) {
  auto again = query_from_json(to_json(q));
  if (!again || !(*again == q) || to_json(*again) != to_json(q)) std::abort();
  auto r = fixture().svc.quote(q);
  if (!r) {
    if (r.error().code != ErrorCode::kNotFound && r.error().code != ErrorCode::kInvalidArgument) std::abort();
    return;
  }
  if (static_cast<int64_t>(r->chosen.size()) > q.count) std::abort();
  std::set<std::string> seen;
  for (const auto& c : r->chosen) {
    if (!fixture().servers.contains(c.advert.server) || !seen.insert(c.advert.server).second) std::abort();
  }
  for (const auto& rm : r->removed) {
    if (rm.count < 1 || rm.count > 4 || rm.examples.size() > kMaxQueryExamples) std::abort();
  }
  if (r->explained && r->matched > r->live) std::abort();
  for (const auto& x : r->relaxations) {
    if (static_cast<int64_t>(r->chosen.size()) >= q.count || x.would_match < q.count) std::abort();
  }
  if (!quote_from_json(to_json(*r))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Fixture& f = fixture();
  auto q = decode_query_body(in);
  if (q) {
    if (q->count < 1 || q->count > kMaxQueryCount) std::abort();
    check_query(*q);
  }
  if (auto j = parse_json(in)) (void)quote_from_json(*j);
  if (size <= kMaxQueryBody) {
    HttpRequest req;
    req.method = "POST";
    req.target = req.path = "/v1/query";
    req.headers["content-type"] = "application/json";
    req.body = std::string(in);
    const HttpResponse res = f.svc.router()->dispatch(req);
    if (res.status != 200 && (res.status < 400 || res.status >= 500)) std::abort();
    if ((res.status == 200) != (q.has_value() && f.svc.quote(*q).has_value())) std::abort();
    if (!parse_json(res.body)) std::abort();
  }
  if (f.svc.live_adverts() != 4) std::abort();
  return 0;
}
