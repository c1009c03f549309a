// Builds this server's signed advertisement and sends it to XIS.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "client/xis_client.h"
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
  std::optional<Coordinate> coord;                   // the network coordinate to advertise (server/coord_prober.h)
  std::optional<std::string> probe;                  // the probe responder's address when not the endpoint's
  std::string country;                               // empty: the advert names none
  std::optional<int64_t> free_ports = std::nullopt;  // published ports the server offers, when it has a network
};

// The advert as of `now`, with the given free resources and cached images, signed with `key`.
// `images` is in the server's order of preference (most wanted first): the advert lists the first
// kMaxAdvertImages of them and, when it lists fewer than there are, sets images_total to the full
// count, so that however many images a server caches its advert stays within XIS's size limit
// (kMaxAdvertBytes) and the server stays discoverable.
Result<SignedDoc> make_advert(const AdvertSource& src, const Resources& free, const std::vector<std::string>& images,
                              TimeMs now, const KeyPair& key);

// POSTs a signed advert to XIS. A refusal comes back as the XIS error, its message prefixed with
// the HTTP status and the advert's size ("413 payload_too_large for an advert of N bytes listing M
// images: ..."), which the server logs ("advert not accepted by XIS: ...").
Status send_advert(XisClient& xis, const SignedDoc& advert);

}  // namespace xop
