// XIS, the information service, with XenoSearch: keeps signed server adverts as soft state
// (each expires unless refreshed) and answers discovery queries. API: docs/api/xis.yaml; the
// admission rules (registration, endpoint possession, rate, size and memory limits) in docs/xis.md.
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "net/router.h"
#include "proto/advert.h"
#include "proto/search.h"
#include "proto/xis_query.h"
#include "xis/advert_bus.h"
#include "xis/rate_limiter.h"
#include "xis/xis_peers.h"

namespace xop {

struct XisOptions {
  int64_t max_ttl_ms = 60'000;  // an advert's ttl is capped at this
  size_t max_adverts = 10'000;  // refuse new servers beyond this (503)
  int64_t replay_window_ms = 60'000;
  // This instance's identity, the audience requests to it are signed for (docs/formats.md) and
  // published in GET /v1/info. Empty: a random one per process ("xis" + 32 hex).
  std::string instance_id;
  size_t max_per_owner = 256;                  // adverts stored per owner account (503 beyond)
  size_t max_stored_bytes = size_t{64} << 20;  // wire bytes of all stored adverts (503 beyond)
  size_t max_advert_bytes = kMaxAdvertBytes;   // one POST /v1/adverts body (413 beyond)
  RateLimit advert_rate{10, 2};                // per server identity (429 beyond)
  RateLimit registry_miss_rate{64, 16};        // corp look-ups of servers not cached (503 beyond)
  int64_t registry_ttl_ms = 60'000;            // a "registered" answer is fresh this long
  int64_t registry_negative_ttl_ms = 10'000;   // a "not registered" answer this long
  int64_t registry_keep_ms = 3'600'000;        // a known server keeps advertising this long while the corp is down
  size_t registry_cache_entries = 20'000;
  int64_t endpoint_proof_ttl_ms = 60'000;   // "the server at E has key K" is trusted this long
  int64_t endpoint_failure_ttl_ms = 5'000;  // "E could not be checked" this long
  size_t endpoint_cache_entries = 20'000;
};

class XisService {
 public:
  // `peers` empty: anyone with a key may advertise any endpoint (standalone tests only; the
  // `xop xis` daemon always asks the corp and checks endpoints).
  XisService(XisOptions opts, const Clock& clock, XisPeers peers = {});
  ~XisService();
  XisService(const XisService&) = delete;
  XisService& operator=(const XisService&) = delete;

  [[nodiscard]] std::shared_ptr<const Router> router() const;
  // Verifies and stores (or refreshes) an advert: the same admission as POST /v1/adverts except
  // the per-identity rate limit.
  Status accept(const SignedDoc& advert_doc);
  [[nodiscard]] SearchResult search(const SearchQuery& q) const;

  // Sharing with other instances (xis/advert_bus.h). Every advert admitted from a server from now
  // on (POST /v1/adverts and accept()) is handed to `bus`; nullptr stops that. The bus is not
  // owned: call set_bus(nullptr) before destroying it.
  void set_bus(AdvertBus* bus);
  // Admits an advert another instance shared (decode_shared_advert): signatures, staleness and
  // the store's bounds are checked as for a server's own POST; the per-server rate limit,
  // registration and endpoint possession are not (the sharing instance checked them). An advert
  // this instance holds already, or a newer one of, is refused with kConflict (harmless).
  Status accept_shared(std::string_view body);
  // POST /v1/query: the quote for `q` (xis/query_engine.h); kNotFound when its RTT reference
  // server has no live advert with a coordinate.
  [[nodiscard]] Result<Quote> quote(const Query& q) const;
  [[nodiscard]] size_t live_adverts() const;
  // Entries and wire bytes held by the advert store (what the memory bounds limit).
  [[nodiscard]] size_t stored_entries() const;
  [[nodiscard]] size_t stored_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
