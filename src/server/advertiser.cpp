#include "server/advertiser.h"

namespace xop {

Result<SignedDoc> make_advert(const AdvertSource& src, const Resources& free, const std::vector<std::string>& images,
                              TimeMs now, const KeyPair& key) {
  Advert a;
  a.server = src.server_id;
  a.name = src.name;
  a.endpoint = src.endpoint;
  a.city = src.city;
  a.location = src.location;
  a.capacity = src.capacity;
  a.free = free;
  a.price_sheet = src.price_sheet;
  a.sandboxes = src.sandboxes;
  a.images = images;
  a.issued_at = now;
  a.ttl_ms = src.ttl_ms;
  return SignedDoc::sign(kAdvertType, to_json(a), key);
}

Status send_advert(ApiClient& xis, const SignedDoc& advert) {
  XOP_RETURN_IF_ERROR(xis.call("POST", "/v1/adverts", Json{{"advert", advert.to_json()}}));
  return {};
}

}  // namespace xop
