#include "proto/advert.h"

#include <cmath>

#include "core/endpoint.h"

namespace xop {

Json to_json(const GeoPoint& g) { return Json{{"lat_e6", g.lat_e6}, {"lon_e6", g.lon_e6}}; }

Result<GeoPoint> geo_from_json(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  GeoPoint g;
  g.lat_e6 = r.i64("lat_e6", -90'000'000, 90'000'000);
  g.lon_e6 = r.i64("lon_e6", -180'000'000, 180'000'000);
  XOP_RETURN_IF_ERROR(r.finish());
  return g;
}

Json to_json(const Advert& a) {
  Json j{{"server", a.server},
         {"name", a.name},
         {"endpoint", a.endpoint},
         {"city", a.city},
         {"location", to_json(a.location)},
         {"capacity", to_json(a.capacity)},
         {"free", to_json(a.free)},
         {"price_sheet", a.price_sheet.to_json()},
         {"sandboxes", a.sandboxes},
         {"images", a.images},
         {"issued_at", a.issued_at},
         {"ttl_ms", a.ttl_ms}};
  if (a.images_total > static_cast<int64_t>(a.images.size())) j["images_total"] = a.images_total;
  return j;
}

Result<Advert> advert_from_json(const Json& j) {
  JsonReader r(j, "advert");
  Advert a;
  a.server = r.str("server", 64);
  a.name = r.str("name", 128);
  a.endpoint = r.str("endpoint", 256);
  a.city = r.str("city", 128);
  const Json& loc = r.object("location");
  const Json& cap = r.object("capacity");
  const Json& fr = r.object("free");
  const Json& ps = r.object("price_sheet");
  a.sandboxes = r.str_array("sandboxes", 16, 32);
  a.images = r.str_array("images", kMaxAdvertImages, 80);
  const auto images_total = r.opt_i64("images_total", 0, 1'000'000'000);
  a.issued_at = r.i64("issued_at", 0);
  a.ttl_ms = r.i64("ttl_ms", 1, 3'600'000);
  XOP_RETURN_IF_ERROR(r.finish());
  if (!is_account_id(a.server)) return invalid("advert.server: not an account id");
  if (images_total) {
    if (*images_total <= static_cast<int64_t>(a.images.size())) {
      return invalid("advert.images_total: present only when larger than the images listed");
    }
    a.images_total = *images_total;
  }
  XOP_RETURN_IF_ERROR(parse_endpoint(a.endpoint));
  XOP_ASSIGN_OR_RETURN(a.location, geo_from_json(loc, "advert.location"));
  XOP_ASSIGN_OR_RETURN(a.capacity, resources_from_json(cap, "advert.capacity"));
  XOP_ASSIGN_OR_RETURN(a.free, resources_from_json(fr, "advert.free"));
  XOP_ASSIGN_OR_RETURN(a.price_sheet, SignedDoc::from_json(ps, kPriceSheetType));
  return a;
}

Result<Advert> verify_advert(const SignedDoc& doc) {
  if (doc.type != kAdvertType) return invalid("not an advert");
  XOP_RETURN_IF_ERROR(doc.verify());
  XOP_ASSIGN_OR_RETURN(auto a, advert_from_json(doc.body));
  if (doc.signer.account_id() != a.server) {
    return make_error(ErrorCode::kUnauthenticated, "advert is not signed by the server it names");
  }
  XOP_ASSIGN_OR_RETURN(auto sheet, verify_price_sheet(a.price_sheet));
  if (sheet.server != a.server) return invalid("advert: price sheet belongs to another server");
  return a;
}

double distance_km(const GeoPoint& a, const GeoPoint& b) {
  constexpr double kEarthKm = 6371.0088;
  constexpr double kRad = M_PI / 180.0 / 1e6;
  const double la1 = static_cast<double>(a.lat_e6) * kRad;
  const double la2 = static_cast<double>(b.lat_e6) * kRad;
  const double dla = la2 - la1;
  const double dlo = static_cast<double>(b.lon_e6 - a.lon_e6) * kRad;
  const double h =
      std::sin(dla / 2) * std::sin(dla / 2) + std::cos(la1) * std::cos(la2) * std::sin(dlo / 2) * std::sin(dlo / 2);
  return 2 * kEarthKm * std::asin(std::min(1.0, std::sqrt(h)));
}

}  // namespace xop
