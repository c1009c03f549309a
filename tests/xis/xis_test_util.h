// Builders of real, signed adverts for the XIS tests.
#pragma once

#include <string>
#include <vector>

#include "crypto/keys.h"
#include "proto/advert.h"
#include "proto/price_sheet.h"
#include "support/builders.h"
#include "xis/ranking.h"

namespace xop::testing {

inline constexpr GeoPoint kLondon{51'507'400, -127'800};
inline constexpr GeoPoint kParis{48'856'600, 2'352'200};
inline constexpr GeoPoint kNewYork{40'712'800, -74'006'000};
inline constexpr GeoPoint kTokyo{35'676'200, 139'650'300};
inline constexpr int64_t kGiB = 1LL << 30;

// 1 credit per core-hour reserved, 0.1 per GiB-hour; nothing else.
inline Rates rates_per_core_hour(int64_t micros_per_core_hour) {
  Rates r;
  r.cpu_reserve_per_core_hour = micros_per_core_hour;
  r.memory_reserve_per_gib_hour = 100'000;
  return r;
}

struct AdvertSpec {
  std::string name = "srv";
  GeoPoint location = kLondon;
  Resources free{4000, 8 * kGiB, 100 * kGiB, 1'000'000'000};
  Rates rates = rates_per_core_hour(1'000'000);
  std::vector<std::string> sandboxes{"runc"};
  TimeMs issued_at = 1'700'000'000'000;
  int64_t ttl_ms = 30'000;
  std::optional<AdvertCoord> coord = std::nullopt;
  std::optional<std::string> country = std::nullopt;
  std::optional<int64_t> free_ports = std::nullopt;
  std::vector<std::string> images{};
};

inline Advert make_advert(const KeyPair& k, const AdvertSpec& s) {
  Advert a;
  a.server = k.account_id();
  a.name = s.name;
  a.endpoint = "http://" + k.account_id() + ".test:7000";  // an endpoint belongs to one server
  a.city = s.name;
  a.location = s.location;
  a.capacity = s.free;
  a.free = s.free;
  a.price_sheet = signed_price_sheet(k, s.issued_at, s.rates);
  a.sandboxes = s.sandboxes;
  a.issued_at = s.issued_at;
  a.ttl_ms = s.ttl_ms;
  a.coord = s.coord;
  a.country = s.country;
  a.free_ports = s.free_ports;
  a.images = s.images;
  return a;
}

inline SignedDoc sign_advert(const KeyPair& k, const Advert& a) { return *SignedDoc::sign(kAdvertType, to_json(a), k); }

inline SignedDoc signed_advert(const KeyPair& k, const AdvertSpec& s) { return sign_advert(k, make_advert(k, s)); }

// A stored advert for the ranking core (signed for real, though the core does not check).
inline StoredAdvert stored(const KeyPair& k, const AdvertSpec& s, TimeMs expires_at) {
  StoredAdvert st;
  st.advert = make_advert(k, s);
  st.doc = sign_advert(k, st.advert);
  st.rates = s.rates;
  st.received_at = s.issued_at;
  st.expires_at = expires_at;
  return st;
}

}  // namespace xop::testing
