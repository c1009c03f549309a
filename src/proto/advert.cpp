#include "proto/advert.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/endpoint.h"
#include "proto/doc_fields.h"

namespace xop {

const Schema<GeoPoint>& geo_schema() {
  static const auto s = Schema<GeoPoint>("location")
                            .i64("lat_e6", &GeoPoint::lat_e6, -90'000'000, 90'000'000)
                            .i64("lon_e6", &GeoPoint::lon_e6, -180'000'000, 180'000'000);
  return s;
}

namespace {
// "" when `hp` is host:port with an IPv4 dotted quad or localhost and a port 1..65535.
std::string probe_address_problem(const std::string& hp) {
  const auto colon = hp.rfind(':');
  const std::string bad = ".probe: expected IPv4-address:port or localhost:port";
  if (colon == std::string::npos) return bad;
  const std::string host = hp.substr(0, colon);
  const std::string port = hp.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return bad;
  const long p = std::stol(port);
  if (p < 1 || p > 65535) return bad;
  if (host == "localhost") return "";
  int parts = 0;
  size_t i = 0;
  while (i <= host.size()) {
    const size_t dot = std::min(host.find('.', i), host.size());
    const std::string part = host.substr(i, dot - i);
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(part) > 255) {
      return bad;
    }
    ++parts;
    i = dot + 1;
  }
  return parts == 4 ? "" : bad;
}

constexpr int64_t kMaxCoordUs = static_cast<int64_t>(kMaxCoordMs * 1000);
constexpr int64_t kMaxCoordPpm = static_cast<int64_t>(kMaxCoordError * 1'000'000);
}  // namespace

AdvertCoord advert_coord_of(const Coordinate& c) {
  AdvertCoord a;
  for (double v : c.vec) a.vec_us.push_back(std::llround(v * 1000));
  a.height_us = std::llround(c.height * 1000);
  a.error_ppm = std::max<int64_t>(1, std::llround(c.error * 1'000'000));
  return a;
}

Coordinate coordinate_of(const AdvertCoord& a) {
  Coordinate c;
  for (int64_t v : a.vec_us) c.vec.push_back(static_cast<double>(v) / 1000);
  c.height = static_cast<double>(a.height_us) / 1000;
  c.error = static_cast<double>(a.error_ppm) / 1'000'000;
  return c;
}

const Schema<AdvertCoord>& advert_coord_schema() {
  static const auto s =
      Schema<AdvertCoord>("coord")
          .custom(
              "vec_us",
              [](const AdvertCoord& c) {
                Json arr = Json::array();
                for (int64_t v : c.vec_us) arr.push_back(v);
                return arr;
              },
              [](JsonReader& r, AdvertCoord& c, const char* k) {
                const Json& arr = r.array(k, kMaxCoordDims);
                if (!r.ok()) return;
                for (const Json& v : arr) {
                  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX})) {
                    r.fail(k, "expected integers");
                    return;
                  }
                  const auto x = v.get<int64_t>();
                  if (x < -kMaxCoordUs || x > kMaxCoordUs) {
                    r.fail(k, fmt::format("components must be within +-{}", kMaxCoordUs));
                    return;
                  }
                  c.vec_us.push_back(x);
                }
              })
          .i64("height_us", &AdvertCoord::height_us, 0, kMaxCoordUs)
          .i64("error_ppm", &AdvertCoord::error_ppm, 1, kMaxCoordPpm)
          .check([](const AdvertCoord& c) { return c.vec_us.empty() ? ".vec_us: at least one component" : ""; });
  return s;
}

const Schema<Advert>& advert_schema() {
  static const auto s =
      Schema<Advert>("advert")
          .str("server", &Advert::server, 64)
          .str("name", &Advert::name, 128)
          .str("endpoint", &Advert::endpoint, 256)
          .str("city", &Advert::city, 128)
          .object("location", &Advert::location, geo_schema())
          .object("capacity", &Advert::capacity, resources_schema())
          .object("free", &Advert::free, resources_schema())
          .object_with<SignedDoc>("price_sheet", &Advert::price_sheet, signed_doc_json, signed_doc_of(kPriceSheetType))
          .str_array("sandboxes", &Advert::sandboxes, 16, 32)
          .str_array("images", &Advert::images, kMaxAdvertImages, 80)
          // On the wire only when the list is truncated (larger than the images listed).
          .custom_opt(
              "images_total",
              [](const Advert& a) -> std::optional<Json> {
                if (a.images_total > static_cast<int64_t>(a.images.size())) return Json(a.images_total);
                return std::nullopt;
              },
              [](JsonReader& r, Advert& a, const char* k) {
                auto n = r.opt_i64(k, 0, 1'000'000'000);
                a.images_total = n.value_or(-1);  // -1: absent, set after the images are read
              })
          .i64("issued_at", &Advert::issued_at, 0)
          .i64("ttl_ms", &Advert::ttl_ms, 1, 3'600'000)
          .opt_object("coord", &Advert::coord, advert_coord_schema())
          .opt_str("probe", &Advert::probe, 64)
          .opt_str("country", &Advert::country, 2)
          .opt_i64("free_ports", &Advert::free_ports, 0, 65'535)
          .check([](const Advert& a) { return is_account_id(a.server) ? "" : ".server: not an account id"; })
          .check([](const Advert& a) {
            return !a.country || is_country_code(*a.country) ? "" : ".country: not an ISO 3166-1 alpha-2 code";
          })
          .check([](const Advert& a) {
            const bool ok = a.images_total < 0 || a.images_total > static_cast<int64_t>(a.images.size());
            return ok ? "" : ".images_total: present only when larger than the images listed";
          })
          .check([](const Advert& a) { return a.probe ? probe_address_problem(*a.probe) : std::string(); })
          .verify([](Advert& a) -> Status {
            if (a.images_total < 0) a.images_total = 0;
            return parse_endpoint(a.endpoint).map([](const auto&) {});
          });
  return s;
}

bool is_country_code(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

Json to_json(const GeoPoint& g) { return geo_schema().encode(g); }
Result<GeoPoint> geo_from_json(const Json& j, const std::string& where) { return geo_schema().decode(j, where); }
Json to_json(const Advert& a) { return advert_schema().encode(a); }
Result<Advert> advert_from_json(const Json& j) { return advert_schema().decode(j); }

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
