// XIS's soft-state advert store: one advert per server, each kept until
// received_at + min(advert.ttl_ms, max_ttl_ms) unless refreshed. Thread-safe (reader/writer
// lock: searches share, updates exclude). It takes `now` as an argument and never reads a clock.
//
// Rules of put():
//  - a newer issued_at replaces the stored advert of the same server (refresh: new expiry);
//  - an issued_at older than or equal to the stored one is refused as stale (kConflict, 409),
//    also while the stored advert has expired but not yet been dropped;
//  - an advert issued more than max_ttl_ms before `now` is refused as stale (it could only be
//    a replay), one issued more than max_future_ms after `now` as invalid (clock skew);
//  - an endpoint belongs to one server: an advert whose endpoint (normalised: lower-case
//    host:port, see endpoint_key()) is held by another server's live advert is refused (kConflict);
//  - a server not yet stored is refused with kResourceExhausted (503) when max_adverts live
//    adverts are stored, when its owner already has max_per_owner adverts stored, or when the
//    stored adverts' wire bytes would exceed max_bytes; a refresh that would exceed max_bytes too.
// Expired adverts are never returned, and are dropped lazily (on writes) once no advert they could
// be confused with is still fresh. Memory is bounded by 2 * max_adverts entries and max_bytes of
// advert documents (each entry costs a small multiple of its wire size).
//
// Indexes (xis/advert_index.h): every stored advert is in a geographic index and, when it has a
// network coordinate, a coordinate index, from put() until it is dropped or a purge finds it
// expired (an expired advert kept as a stale-check mark is no longer indexed; a refresh indexes it
// again). The visit_nearest_* calls walk them nearest first and skip adverts that are not live.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>

#include "xis/advert_index.h"
#include "xis/ranking.h"

namespace xop {

struct AdvertStoreOptions {
  int64_t max_ttl_ms = 60'000;
  size_t max_adverts = 10'000;
  int64_t max_future_ms = 60'000;
  int64_t purge_interval_ms = 1'000;  // how often writes sweep out expired adverts
  size_t max_per_owner = 256;         // adverts stored per owner account (owner "" is not counted)
  size_t max_bytes = size_t{64} << 20;
};

// "host:port" with the host lower-cased, or an error for a malformed endpoint.
Result<std::string> endpoint_key(std::string_view endpoint_url);

class AdvertStore {
 public:
  explicit AdvertStore(AdvertStoreOptions opts) : opts_(opts) {}

  // Stores a verified advert (the caller has checked the signatures and, when it checks them,
  // registration and endpoint possession). `owner` and `bytes` are recorded in the StoredAdvert.
  // Returns its expiry.
  Result<TimeMs> put(Advert advert, SignedDoc doc, Rates rates, TimeMs now, std::string owner = {}, size_t bytes = 0);

  // The server whose live advert holds this endpoint key, if any.
  [[nodiscard]] std::optional<std::string> endpoint_holder(const std::string& key, TimeMs now) const;
  // Whether `server` has an advert stored (live or expired but not yet dropped).
  [[nodiscard]] bool knows(const std::string& server) const;

  // Calls `fn` with every live advert, under the shared lock, in server-id order. `fn` must not
  // call back into the store.
  void with_live(TimeMs now, const std::function<void(std::span<const StoredAdvert* const>)>& fn) const;

  // Live adverts in non-decreasing great-circle distance from p (km, as distance_km), ties by
  // server id: exactly the order of sorting the live adverts by (distance_km, server). `fn`
  // returning false stops the visit. Under the shared lock; `fn` must not call into the store.
  void visit_nearest_geo(const GeoPoint& p, TimeMs now,
                         const std::function<bool(const StoredAdvert&, double km)>& fn) const;
  // Live adverts with a coordinate of c's dimensions, in non-decreasing estimated RTT from c
  // (estimated_rtt_ms(c, coordinate_of(*advert.coord)), as the ranking core computes it), ties
  // by server id. Adverts without a coordinate, or of other dimensions, are not visited; an
  // invalid c visits nothing. Otherwise as visit_nearest_geo.
  void visit_nearest_rtt(const Coordinate& c, TimeMs now,
                         const std::function<bool(const StoredAdvert&, double est_ms)>& fn) const;

  [[nodiscard]] size_t live_count(TimeMs now) const;
  // Entries held (live or not yet dropped) and the sum of their bytes: what the bounds limit.
  [[nodiscard]] size_t entries() const;
  [[nodiscard]] size_t stored_bytes() const;

 private:
  struct Entry {
    StoredAdvert s;
    std::string endpoint;  // endpoint_key of s.advert.endpoint
    bool indexed = false;  // in geo_ (and coord_ when it has a coordinate)
  };
  // Drops expired adverts. An expired advert issued within max_ttl_ms is kept (as a stale-check
  // high-water mark, so an older advert cannot be replayed after expiry) unless forget_recent.
  void purge_locked(TimeMs now, bool forget_recent);
  void erase_locked(std::map<std::string, Entry>::iterator it);
  void index_locked(const std::string& server, Entry& e);
  void unindex_locked(Entry& e);

  const AdvertStoreOptions opts_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Entry> by_server_;          // includes expired, not yet dropped
  std::map<std::string, std::string> by_endpoint_;  // endpoint key -> server (last stored)
  std::map<std::string, size_t> per_owner_;         // owner -> entries
  GeoIndex geo_;
  CoordIndex coord_;
  size_t bytes_ = 0;
  TimeMs last_purge_ = 0;
};

}  // namespace xop
