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
//  - a server not yet stored is refused with kResourceExhausted (503) when max_adverts live
//    adverts are stored.
// Expired adverts are never returned, and are dropped lazily (on writes) once no advert they could
// be confused with is still fresh. Memory is bounded by 2 * max_adverts entries.
#pragma once

#include <functional>
#include <map>
#include <shared_mutex>
#include <string>

#include "xis/ranking.h"

namespace xop {

struct AdvertStoreOptions {
  int64_t max_ttl_ms = 60'000;
  size_t max_adverts = 100'000;
  int64_t max_future_ms = 60'000;
  int64_t purge_interval_ms = 1'000;  // how often writes sweep out expired adverts
};

class AdvertStore {
 public:
  explicit AdvertStore(AdvertStoreOptions opts) : opts_(opts) {}

  // Stores a verified advert (the caller has checked the signatures). Returns its expiry.
  Result<TimeMs> put(Advert advert, SignedDoc doc, Rates rates, TimeMs now);

  // Calls `fn` with every live advert, under the shared lock, in server-id order. `fn` must not
  // call back into the store.
  void with_live(TimeMs now, const std::function<void(std::span<const StoredAdvert* const>)>& fn) const;

  [[nodiscard]] size_t live_count(TimeMs now) const;

 private:
  // Drops expired adverts. An expired advert issued within max_ttl_ms is kept (as a stale-check
  // high-water mark, so an older advert cannot be replayed after expiry) unless forget_recent.
  void purge_locked(TimeMs now, bool forget_recent);

  const AdvertStoreOptions opts_;
  mutable std::shared_mutex mu_;
  std::map<std::string, StoredAdvert> by_server_;  // includes expired, not yet dropped
  TimeMs last_purge_ = 0;
};

}  // namespace xop
