#include "server/advertiser.h"

#include <fmt/format.h>

#include <algorithm>

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
  const size_t listed = std::min(images.size(), kMaxAdvertImages);
  a.images.assign(images.begin(), images.begin() + static_cast<std::ptrdiff_t>(listed));
  if (listed < images.size()) a.images_total = static_cast<int64_t>(images.size());
  a.issued_at = now;
  a.ttl_ms = src.ttl_ms;
  if (src.coord && validate_coordinate(*src.coord)) a.coord = advert_coord_of(*src.coord);
  a.probe = src.probe;
  if (!src.country.empty()) a.country = src.country;
  a.free_ports = src.free_ports;
  return SignedDoc::sign(kAdvertType, to_json(a), key);
}

Status send_advert(XisClient& xis, const SignedDoc& advert) {
  const Json body{{"advert", advert.to_json()}};
  auto r = xis.submit_advert(advert);
  if (r) return {};
  Error e = r.error();
  const size_t images =
      advert.body.contains("images") && advert.body["images"].is_array() ? advert.body["images"].size() : 0;
  e.message = fmt::format("{} {} for an advert of {} bytes listing {} images: {}", e.http_status(), e.code_name(),
                          body.dump().size(), images, e.message);
  return tl::make_unexpected(std::move(e));
}

}  // namespace xop
