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

struct SearchQuery {
  Resources min;  // the reservation each server must be able to hold
  std::optional<Money> max_price_per_hour;
  std::optional<GeoPoint> near;
  int64_t count = 10;                  // 1..1000
  std::optional<std::string> sandbox;  // e.g. "runc"
};

struct Candidate {
  Advert advert;
  SignedDoc advert_doc;
  double distance_km = 0;  // 0 when the query has no point
  Money price_per_hour;    // for holding query.min an hour
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
