// Builds this server's signed advertisement and sends it to XIS.
#pragma once

#include <functional>
#include <vector>

#include "client/api_client.h"
#include "proto/advert.h"

namespace xop {

struct AdvertSource {
  std::string server_id;
  std::string name;
  std::string endpoint;
  std::string city;
  GeoPoint location;
  Resources capacity;
  SignedDoc price_sheet;
  std::vector<std::string> sandboxes;
  int64_t ttl_ms = 15'000;
};

// The advert as of `now`, with the given free resources and cached images, signed with `key`.
Result<SignedDoc> make_advert(const AdvertSource& src, const Resources& free, const std::vector<std::string>& images,
                              TimeMs now, const KeyPair& key);

// POSTs a signed advert to XIS.
Status send_advert(ApiClient& xis, const SignedDoc& advert);

}  // namespace xop
