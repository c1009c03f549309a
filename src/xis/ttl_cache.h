// A bounded cache of answers with an expiry, for the answers XIS gets from others (the corp's
// "is this a registered server?", an endpoint's "whose key is here?"). Pure: takes `now` as an
// argument. Not thread-safe (the caller locks).
//
// An entry is fresh while now < fresh_until and may still be used as a fallback ("stale") while
// now < keep_until (>= fresh_until); after that it is gone. At most max_entries are kept: put()
// into a full cache first drops the entries past keep_until, then the one that goes stale first.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "core/time.h"

namespace xop {

template <class V>
class TtlCache {
 public:
  explicit TtlCache(size_t max_entries) : max_entries_(std::max<size_t>(1, max_entries)) {}

  struct Hit {
    V value;
    bool fresh;
  };

  [[nodiscard]] std::optional<Hit> get(const std::string& key, TimeMs now) const {
    auto it = map_.find(key);
    if (it == map_.end() || now >= it->second.keep_until) return std::nullopt;
    return Hit{it->second.value, now < it->second.fresh_until};
  }

  void put(const std::string& key, V value, TimeMs now, int64_t fresh_ms, int64_t keep_ms) {
    if (!map_.contains(key) && map_.size() >= max_entries_) {
      std::erase_if(map_, [now](const auto& kv) { return now >= kv.second.keep_until; });
      if (map_.size() >= max_entries_) {
        auto oldest = std::min_element(map_.begin(), map_.end(), [](const auto& a, const auto& b) {
          return a.second.fresh_until < b.second.fresh_until;
        });
        map_.erase(oldest);
      }
    }
    map_[key] = Entry{std::move(value), now + fresh_ms, now + std::max(fresh_ms, keep_ms)};
  }

  [[nodiscard]] size_t size() const { return map_.size(); }

 private:
  struct Entry {
    V value;
    TimeMs fresh_until;
    TimeMs keep_until;
  };
  size_t max_entries_;
  std::map<std::string, Entry> map_;
};

}  // namespace xop
