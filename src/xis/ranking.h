// XenoSearch's ranking core: a pure, deterministic function of the stored adverts, a query and
// `now`. It never reads a clock, the network or any global state, so the same inputs always give
// the same answer (and the answer can be reproduced in tests and audits).
//
// Contract of rank_adverts():
//  - Adverts with expires_at <= now are not live: they are ignored entirely (neither candidates
//    nor rejected).
//  - A live advert is a candidate when its `free` covers query.min, its sandboxes contain
//    query.sandbox (when given), and the price of holding query.min for an hour under its price
//    sheet (hourly_reservation_price) is <= query.max_price_per_hour (when given).
//  - When the query names an RTT reference (rtt_from_coord, or rtt_from_server: the coordinate
//    of that server's live advert), a candidate must also advertise a coordinate of the
//    reference's dimensions, and its estimated RTT (coord/coordinate.h: distance plus both
//    heights) must be <= within_ms when given; candidates carry est_rtt_us (microseconds). When the reference
//    cannot be had (the server has no live advert or no coordinate) every live advert is
//    rejected with that reason.
//  - Candidates are ordered by estimated RTT (when there is a reference), then distance_km to
//    query.near (when given), then by price per hour, then by server id: a total order. At
//    most query.count are returned.
//  - Every other live advert appears in `rejected` with a human-readable reason. Rejections are
//    ordered by server id.
#pragma once

#include <span>
#include <string>

#include "core/time.h"
#include "proto/price_sheet.h"
#include "proto/search.h"

namespace xop {

// An advert as XIS keeps it: the verified advert, the signed document it came in (returned to
// searchers verbatim, so they can check it), the rates of its price sheet, and when it expires.
struct StoredAdvert {
  Advert advert;
  SignedDoc doc;
  Rates rates;
  TimeMs received_at = 0;
  TimeMs expires_at = 0;  // live while now < expires_at
  std::string owner;      // the server's owner account (from the corp); empty when not checked
  size_t bytes = 0;       // wire size of the advert, counted against the store's byte budget
  // The server's reputation in [0, 1], when XIS knows one (nothing fills it yet: a later issue's
  // reputation service will); a query's min_reputation fails while it is absent.
  std::optional<double> reputation = std::nullopt;
};

// Ranks `adverts` (any order; server ids must be unique) for query `q` at time `now`.
SearchResult rank_adverts(std::span<const StoredAdvert* const> adverts, const SearchQuery& q, TimeMs now);

}  // namespace xop
