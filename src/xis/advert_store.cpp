#include "xis/advert_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include "net/http.h"

namespace xop {

Result<std::string> endpoint_key(std::string_view endpoint_url) {
  XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(endpoint_url));
  std::string host = ep.host;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  return host + ":" + std::to_string(ep.port);
}

Result<TimeMs> AdvertStore::put(Advert advert, SignedDoc doc, Rates rates, TimeMs now, std::string owner,
                                size_t bytes) {
  if (advert.issued_at > now && advert.issued_at - now > opts_.max_future_ms) {
    return invalid(fmt::format("advert issued_at is {} ms in the future", advert.issued_at - now));
  }
  if (advert.issued_at < now && now - advert.issued_at > opts_.max_ttl_ms) {
    return make_error(ErrorCode::kConflict, fmt::format("advert is stale: issued {} ms ago", now - advert.issued_at));
  }
  XOP_ASSIGN_OR_RETURN(std::string ep, endpoint_key(advert.endpoint));
  const int64_t ttl = std::max<int64_t>(0, std::min(advert.ttl_ms, opts_.max_ttl_ms));
  const TimeMs expires_at = now + ttl;

  std::unique_lock lock(mu_);
  if (now - last_purge_ >= opts_.purge_interval_ms) purge_locked(now, /*forget_recent=*/false);
  if (auto h = by_endpoint_.find(ep); h != by_endpoint_.end() && h->second != advert.server) {
    auto holder = by_server_.find(h->second);
    if (holder != by_server_.end() && holder->second.s.expires_at > now) {
      return make_error(ErrorCode::kConflict,
                        fmt::format("endpoint {} is held by the live advert of server {}", ep, h->second));
    }
  }
  auto it = by_server_.find(advert.server);
  if (it != by_server_.end()) {
    StoredAdvert& old = it->second.s;
    if (advert.issued_at <= old.advert.issued_at) {
      return make_error(ErrorCode::kConflict, fmt::format("advert is stale: issued_at {} is not after the stored {}",
                                                          advert.issued_at, old.advert.issued_at));
    }
    if (bytes > old.bytes && bytes_ - old.bytes + bytes > opts_.max_bytes) {
      return make_error(ErrorCode::kResourceExhausted,
                        fmt::format("XIS holds its maximum of {} advert bytes; try later", opts_.max_bytes));
    }
    if (old.owner != owner) {
      if (!old.owner.empty() && --per_owner_[old.owner] == 0) per_owner_.erase(old.owner);
      if (!owner.empty()) ++per_owner_[owner];
    }
    if (it->second.endpoint != ep) {
      if (auto h = by_endpoint_.find(it->second.endpoint); h != by_endpoint_.end() && h->second == advert.server) {
        by_endpoint_.erase(h);
      }
      it->second.endpoint = ep;
    }
    bytes_ = bytes_ - old.bytes + bytes;
    unindex_locked(it->second);  // the indexes read the old location and coordinate
    old = StoredAdvert{std::move(advert), std::move(doc), rates, now, expires_at, std::move(owner), bytes};
    index_locked(it->first, it->second);
    return expires_at;
  }
  auto full = [&] {
    return by_server_.size() >= opts_.max_adverts || bytes_ + bytes > opts_.max_bytes ||
           (!owner.empty() && per_owner_.contains(owner) && per_owner_[owner] >= opts_.max_per_owner);
  };
  if (full()) {
    purge_locked(now, /*forget_recent=*/false);
    if (!owner.empty() && per_owner_.contains(owner) && per_owner_[owner] >= opts_.max_per_owner) {
      return make_error(
          ErrorCode::kResourceExhausted,
          fmt::format("owner {} already has {} servers advertised (the maximum)", owner, opts_.max_per_owner));
    }
    if (bytes_ + bytes > opts_.max_bytes) purge_locked(now, /*forget_recent=*/true);
    if (bytes_ + bytes > opts_.max_bytes) {
      return make_error(ErrorCode::kResourceExhausted,
                        fmt::format("XIS holds its maximum of {} advert bytes; try later", opts_.max_bytes));
    }
    if (by_server_.size() >= opts_.max_adverts) {
      const auto live = static_cast<size_t>(std::count_if(
          by_server_.begin(), by_server_.end(), [now](const auto& kv) { return kv.second.s.expires_at > now; }));
      if (live >= opts_.max_adverts) {
        return make_error(ErrorCode::kResourceExhausted,
                          fmt::format("XIS holds its maximum of {} adverts; try later", opts_.max_adverts));
      }
      // Memory stays bounded: beyond twice the bound, expired adverts are forgotten even if recent.
      if (by_server_.size() >= 2 * opts_.max_adverts) purge_locked(now, /*forget_recent=*/true);
    }
  }
  std::string key = advert.server;
  if (!owner.empty()) ++per_owner_[owner];
  bytes_ += bytes;
  auto [ins, _] = by_server_.emplace(
      std::move(key),
      Entry{StoredAdvert{std::move(advert), std::move(doc), rates, now, expires_at, std::move(owner), bytes}, ep});
  index_locked(ins->first, ins->second);
  return expires_at;
}

void AdvertStore::index_locked(const std::string& server, Entry& e) {
  by_endpoint_[e.endpoint] = server;
  if (!e.indexed) {
    geo_.insert(&e.s);
    coord_.insert(&e.s);
    e.indexed = true;
  }
}

void AdvertStore::unindex_locked(Entry& e) {
  if (!e.indexed) return;
  geo_.remove(&e.s);
  coord_.remove(&e.s);
  e.indexed = false;
}

void AdvertStore::erase_locked(std::map<std::string, Entry>::iterator it) {
  unindex_locked(it->second);
  const StoredAdvert& s = it->second.s;
  if (!s.owner.empty()) {
    auto o = per_owner_.find(s.owner);
    if (o != per_owner_.end() && --o->second == 0) per_owner_.erase(o);
  }
  bytes_ -= s.bytes;
  if (auto h = by_endpoint_.find(it->second.endpoint); h != by_endpoint_.end() && h->second == it->first) {
    by_endpoint_.erase(h);
  }
  by_server_.erase(it);
}

void AdvertStore::purge_locked(TimeMs now, bool forget_recent) {
  const int64_t max_ttl = opts_.max_ttl_ms;
  for (auto it = by_server_.begin(); it != by_server_.end();) {
    const StoredAdvert& s = it->second.s;
    auto next = std::next(it);
    if (s.expires_at <= now) {
      if (forget_recent || now - s.advert.issued_at > max_ttl) {
        erase_locked(it);
      } else {
        unindex_locked(it->second);  // kept only as a stale-check mark: never visited again
      }
    }
    it = next;
  }
  last_purge_ = now;
}

std::optional<std::string> AdvertStore::endpoint_holder(const std::string& key, TimeMs now) const {
  std::shared_lock lock(mu_);
  auto h = by_endpoint_.find(key);
  if (h == by_endpoint_.end()) return std::nullopt;
  auto it = by_server_.find(h->second);
  if (it == by_server_.end() || it->second.s.expires_at <= now) return std::nullopt;
  return h->second;
}

bool AdvertStore::knows(const std::string& server) const {
  std::shared_lock lock(mu_);
  return by_server_.contains(server);
}

void AdvertStore::with_live(TimeMs now, const std::function<void(std::span<const StoredAdvert* const>)>& fn) const {
  std::shared_lock lock(mu_);
  std::vector<const StoredAdvert*> live;
  live.reserve(by_server_.size());
  for (const auto& [server, e] : by_server_) {
    if (e.s.expires_at > now) live.push_back(&e.s);
  }
  fn(live);
}

void AdvertStore::visit_nearest_geo(const GeoPoint& p, TimeMs now,
                                    const std::function<bool(const StoredAdvert&, double km)>& fn) const {
  std::shared_lock lock(mu_);
  geo_.visit_nearest(p, [&](const StoredAdvert& s, double km) { return s.expires_at <= now || fn(s, km); });
}

void AdvertStore::visit_nearest_rtt(const Coordinate& c, TimeMs now,
                                    const std::function<bool(const StoredAdvert&, double est_ms)>& fn) const {
  std::shared_lock lock(mu_);
  coord_.visit_nearest(c, [&](const StoredAdvert& s, double ms) { return s.expires_at <= now || fn(s, ms); });
}

size_t AdvertStore::live_count(TimeMs now) const {
  std::shared_lock lock(mu_);
  return static_cast<size_t>(std::count_if(by_server_.begin(), by_server_.end(),
                                           [now](const auto& kv) { return kv.second.s.expires_at > now; }));
}

size_t AdvertStore::entries() const {
  std::shared_lock lock(mu_);
  return by_server_.size();
}

size_t AdvertStore::stored_bytes() const {
  std::shared_lock lock(mu_);
  return bytes_;
}

}  // namespace xop
