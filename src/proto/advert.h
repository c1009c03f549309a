// A server advertisement: soft state that a XenoServer sends XIS every few seconds. SignedDoc of
// type "advert", signed by the server key; the embedded price sheet must be signed by the same
// key. Locations are integer micro-degrees so that the document can be signed canonically.
#pragma once

#include <optional>
#include <vector>

#include "coord/coordinate.h"
#include "core/resources.h"
#include "crypto/signed_doc.h"
#include "proto/price_sheet.h"

namespace xop {

inline constexpr const char* kAdvertType = "advert";
// Bounds of an advert on the wire: XIS refuses a larger POST /v1/adverts body with 413, and more
// listed images with 400. A server lists at most kMaxAdvertImages of its cached images and says
// how many it holds in images_total (src/server/advertiser.h).
inline constexpr size_t kMaxAdvertBytes = size_t{64} * 1024;
inline constexpr size_t kMaxAdvertImages = 256;

struct GeoPoint {
  int64_t lat_e6 = 0;  // [-90e6, 90e6]
  int64_t lon_e6 = 0;  // [-180e6, 180e6]
  friend bool operator==(const GeoPoint&, const GeoPoint&) = default;
};

// A server's Vivaldi network coordinate (coord/coordinate.h) on the wire: integer microseconds
// and an integer error in millionths, since signed documents carry no floating-point numbers.
// Bounds: 1..kMaxCoordDims components each within +-kMaxCoordMs (as us), a height in
// [0, kMaxCoordMs], an error in (0, kMaxCoordError]. An advert without one is byte for byte what
// it was before coordinates existed.
struct AdvertCoord {
  std::vector<int64_t> vec_us;
  int64_t height_us = 0;
  int64_t error_ppm = 0;
  friend bool operator==(const AdvertCoord&, const AdvertCoord&) = default;
};
// Rounds to the nearest microsecond / millionth; the coordinate must be valid (validate_coordinate).
AdvertCoord advert_coord_of(const Coordinate& c);
Coordinate coordinate_of(const AdvertCoord& c);

struct Advert {
  std::string server;  // account id of the server key
  std::string name;
  std::string endpoint;  // "http://host:port"
  std::string city;
  GeoPoint location;
  Resources capacity;
  Resources free;
  SignedDoc price_sheet;
  std::vector<std::string> sandboxes;  // e.g. "runc"
  std::vector<std::string> images;     // manifest digests cached locally (at most kMaxAdvertImages)
  int64_t images_total = 0;            // on the wire only when > images.size(): the list is truncated
  TimeMs issued_at = 0;
  int64_t ttl_ms = 0;                               // how long XIS may keep it without a refresh
  std::optional<AdvertCoord> coord = std::nullopt;  // the server's network coordinate, when it has one
  // Where its coordinate probe responder listens (proto/coord_probe.h), "host:port" (IPv4 or
  // localhost); absent: the endpoint's host and port number, over UDP.
  std::optional<std::string> probe = std::nullopt;
  // ISO 3166-1 alpha-2 code ("FR"), when the server's config names one (is_country_code).
  std::optional<std::string> country = std::nullopt;
  // Host ports this server can still publish sessions' ports on, when it says.
  std::optional<int64_t> free_ports = std::nullopt;
};

// Two upper-case ASCII letters (the shape of an ISO 3166-1 alpha-2 code; not checked against the
// list of assigned codes, which changes).
bool is_country_code(std::string_view s);

// The wire forms, declared once (core/schema.h; docs/formats.md).
const Schema<GeoPoint>& geo_schema();
const Schema<AdvertCoord>& advert_coord_schema();
const Schema<Advert>& advert_schema();
Json to_json(const GeoPoint& g);
Result<GeoPoint> geo_from_json(const Json& j, const std::string& where);
Json to_json(const Advert& a);
Result<Advert> advert_from_json(const Json& j);
// Verifies a signed advert: signer is the server it names, price sheet signed by the same key.
Result<Advert> verify_advert(const SignedDoc& doc);

// Great-circle distance in kilometres (haversine; for ranking, not money).
double distance_km(const GeoPoint& a, const GeoPoint& b);

}  // namespace xop
