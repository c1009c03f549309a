// Discovery queries to XIS and their answers. A query names the reservation it needs, an optional
// price ceiling for holding it an hour, an optional point to be near, and how many servers it
// wants. The answer ranks candidates (nearest first, then cheapest) and gives every rejected
// server with the reason.
#pragma once

#include <optional>
#include <vector>

#include "core/money.h"
#include "proto/advert.h"

namespace xop {

// Bound of within_ms (a minute: no Internet path is slower).
inline constexpr int64_t kMaxWithinMs = 60'000;

struct SearchQuery {
  Resources min;  // the reservation each server must be able to hold
  std::optional<Money> max_price_per_hour;
  std::optional<GeoPoint> near;
  int64_t count = 10;                  // 1..1000
  std::optional<std::string> sandbox;  // e.g. "runc"
  // Network distance (xis/ranking.h): estimated RTT from a reference coordinate, the caller's
  // own ("within X ms of me") or any other, or that of a server XIS holds an advert of. At most
  // one reference; within_ms needs one.
  std::optional<AdvertCoord> rtt_from_coord = std::nullopt;
  std::optional<std::string> rtt_from_server = std::nullopt;  // account id
  std::optional<int64_t> within_ms = std::nullopt;            // 1..kMaxWithinMs
};

struct Candidate {
  Advert advert;
  SignedDoc advert_doc;
  double distance_km = 0;  // 0 when the query has no point
  Money price_per_hour;    // for holding query.min an hour
  std::optional<int64_t> est_rtt_us =
      std::nullopt;  // estimated RTT in microseconds, when the query names an RTT reference
};

struct Rejection {
  std::string server;
  std::string name;
  std::string reason;
};

struct SearchResult {
  std::vector<Candidate> candidates;
  std::vector<Rejection> rejected;
};

// The wire forms, declared once (core/schema.h; docs/formats.md).
const Schema<SearchQuery>& search_query_schema();
const Schema<SearchResult>& search_result_schema();
Json to_json(const SearchQuery& q);
Result<SearchQuery> search_query_from_json(const Json& j);
Json to_json(const SearchResult& r);
Result<SearchResult> search_result_from_json(const Json& j);

}  // namespace xop
