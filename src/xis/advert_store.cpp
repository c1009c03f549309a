#include "xis/advert_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace xop {

Result<TimeMs> AdvertStore::put(Advert advert, SignedDoc doc, Rates rates, TimeMs now) {
  if (advert.issued_at > now && advert.issued_at - now > opts_.max_future_ms) {
    return invalid(fmt::format("advert issued_at is {} ms in the future", advert.issued_at - now));
  }
  if (advert.issued_at < now && now - advert.issued_at > opts_.max_ttl_ms) {
    return make_error(ErrorCode::kConflict, fmt::format("advert is stale: issued {} ms ago", now - advert.issued_at));
  }
  const int64_t ttl = std::max<int64_t>(0, std::min(advert.ttl_ms, opts_.max_ttl_ms));
  const TimeMs expires_at = now + ttl;

  std::unique_lock lock(mu_);
  if (now - last_purge_ >= opts_.purge_interval_ms) purge_locked(now, /*forget_recent=*/false);
  auto it = by_server_.find(advert.server);
  if (it != by_server_.end()) {
    if (advert.issued_at <= it->second.advert.issued_at) {
      return make_error(ErrorCode::kConflict, fmt::format("advert is stale: issued_at {} is not after the stored {}",
                                                          advert.issued_at, it->second.advert.issued_at));
    }
    it->second = StoredAdvert{std::move(advert), std::move(doc), rates, now, expires_at};
    return expires_at;
  }
  if (by_server_.size() >= opts_.max_adverts) {
    purge_locked(now, /*forget_recent=*/false);
    if (by_server_.size() >= opts_.max_adverts) {
      const auto live = static_cast<size_t>(std::count_if(
          by_server_.begin(), by_server_.end(), [now](const auto& kv) { return kv.second.expires_at > now; }));
      if (live >= opts_.max_adverts) {
        return make_error(ErrorCode::kResourceExhausted,
                          fmt::format("XIS holds its maximum of {} adverts; try later", opts_.max_adverts));
      }
      // Memory stays bounded: beyond twice the bound, expired adverts are forgotten even if recent.
      if (by_server_.size() >= 2 * opts_.max_adverts) purge_locked(now, /*forget_recent=*/true);
    }
  }
  std::string key = advert.server;
  by_server_.emplace(std::move(key), StoredAdvert{std::move(advert), std::move(doc), rates, now, expires_at});
  return expires_at;
}

void AdvertStore::purge_locked(TimeMs now, bool forget_recent) {
  const int64_t max_ttl = opts_.max_ttl_ms;
  std::erase_if(by_server_, [&](const auto& kv) {
    const StoredAdvert& s = kv.second;
    return s.expires_at <= now && (forget_recent || now - s.advert.issued_at > max_ttl);
  });
  last_purge_ = now;
}

void AdvertStore::with_live(TimeMs now, const std::function<void(std::span<const StoredAdvert* const>)>& fn) const {
  std::shared_lock lock(mu_);
  std::vector<const StoredAdvert*> live;
  live.reserve(by_server_.size());
  for (const auto& [server, s] : by_server_) {
    if (s.expires_at > now) live.push_back(&s);
  }
  fn(live);
}

size_t AdvertStore::live_count(TimeMs now) const {
  std::shared_lock lock(mu_);
  return static_cast<size_t>(std::count_if(by_server_.begin(), by_server_.end(),
                                           [now](const auto& kv) { return kv.second.expires_at > now; }));
}

}  // namespace xop
