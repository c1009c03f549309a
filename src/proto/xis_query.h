// XIS's query language (POST /v1/query, docs/xis.md "Query language") and its answer, the quote.
// A query is a tree of predicates over advert attributes combined with all/any/not, a
// reservation to price over a duration, a ranking, a count and spread constraints. The decoder is
// strict (unknown keys refused, types and ranges checked, errors naming the field's path such as
// "query.where.all[2].within_km: expected a number") and bounded against hostile input: at most
// kMaxQueryDepth levels of nesting and kMaxQueryNodes predicates in all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "proto/advert.h"

namespace xop {

inline constexpr size_t kMaxQueryBody = size_t{64} * 1024;  // POST /v1/query (413 beyond)
inline constexpr int kMaxQueryDepth = 12;                   // nesting of all/any/not (the root is depth 1)
inline constexpr size_t kMaxQueryNodes = 64;                // predicates in one query, combinators included
inline constexpr size_t kMaxRegionCountries = 250;          // codes in one "region"
inline constexpr int64_t kMaxQueryCount = 100;              // servers one query may choose
inline constexpr size_t kMaxQueryExamples = 5;              // examples kept per predicate in a quote
inline constexpr size_t kMaxRelaxations = 8;                // relaxations listed in a quote
inline constexpr int64_t kMaxQueryDurationMs = int64_t{366} * 86'400'000;
inline constexpr double kMaxQueryKm = 20'100;  // half the Earth's circumference and a bit
inline constexpr double kMaxQueryMs = 60'000;  // as kMaxWithinMs (proto/search.h)

// A price sheet's rates by name, for "max_rate" (proto/price_sheet.h Rates).
enum class RateName {
  kCpuReserve,
  kMemoryReserve,
  kDiskReserve,
  kNetReserve,
  kCpuUse,
  kMemoryUse,
  kDiskIo,
  kNetIo,
};
int64_t rate_of(const Rates& r, RateName n);
const char* rate_key(RateName n);  // "cpu_reserve_per_core_hour", ...

// Where a network distance is measured from: a coordinate, or the coordinate in a server's advert.
struct RttFrom {
  std::optional<AdvertCoord> coord = std::nullopt;
  std::optional<std::string> server = std::nullopt;  // account id
  friend bool operator==(const RttFrom&, const RttFrom&) = default;
};

struct Predicate {
  enum class Kind {
    kAll,              // every child holds (an empty list holds)
    kAny,              // some child holds
    kNot,              // its one child does not hold
    kFree,             // the advert's free resources cover `free`
    kMaxPricePerHour,  // holding the query's reservation an hour costs <= micros
    kMaxTotalPrice,    // holding it for the query's duration costs <= micros
    kRateCeiling,      // the price sheet's rate `rate` <= micros
    kSandbox,          // the advert lists sandbox kind `text`
    kCountry,          // the advert's country is one of `texts` ("country": one code, "region": a list)
    kWithinKm,         // great-circle distance from `point` (default: the query's `near`) <= number
    kWithinMs,         // estimated RTT from `from` (default: the query's `rtt_from`) <= number
    kMinReputation,    // reputation >= number (absent reputation fails)
    kImage,            // the advert lists cached image digest `text`
    kMinFreePorts,     // free published ports >= integer (absent fails)
  };
  Kind kind = Kind::kAll;
  std::vector<Predicate> children;  // kAll, kAny: any number; kNot: exactly one
  Resources free;
  int64_t micros = 0;  // price ceilings
  RateName rate = RateName::kCpuReserve;
  std::string text;
  std::vector<std::string> texts;
  std::optional<GeoPoint> point = std::nullopt;
  std::optional<RttFrom> from = std::nullopt;
  double number = 0;    // km, ms, reputation in [0, 1]
  int64_t integer = 0;  // ports
  friend bool operator==(const Predicate&, const Predicate&) = default;
};

enum class RankBy { kPrice, kDistance, kRtt, kReputation, kMix };

// A weighted mix: each term is normalised over the matching servers to [0, 1] (0 the best among
// them, 1 the worst; see docs/xis.md) and weighted; the lowest sum ranks first.
struct RankWeights {
  double price = 0;
  double distance = 0;
  double rtt = 0;
  double reputation = 0;
  friend bool operator==(const RankWeights&, const RankWeights&) = default;
};

struct Spread {
  std::optional<int64_t> max_per_owner = std::nullopt;
  std::optional<int64_t> max_per_country = std::nullopt;
  std::optional<double> min_km = std::nullopt;  // pairwise between chosen servers
  friend bool operator==(const Spread&, const Spread&) = default;
};

struct Query {
  Predicate where;        // default: all of nothing (every live advert)
  Resources reservation;  // what is priced (and, with a "free" predicate, required)
  int64_t duration_ms = 3'600'000;
  std::optional<GeoPoint> near = std::nullopt;     // default point of within_km; needed to rank by distance
  std::optional<RttFrom> rtt_from = std::nullopt;  // default reference of within_ms; needed to rank by rtt
  RankBy rank = RankBy::kPrice;
  RankWeights weights;  // kMix only
  int64_t count = 1;    // 1..kMaxQueryCount
  Spread spread;
  bool explain = true;  // counts per predicate, examples and relaxations
  friend bool operator==(const Query&, const Query&) = default;
};

// Strict decoding (see the top of this file) and the encoding it reads back.
Result<Query> query_from_json(const Json& j);
Json to_json(const Query& q);
Json to_json(const Predicate& p);
// A body of POST /v1/query: size bound (kPayloadTooLarge), JSON depth bound, then query_from_json.
Result<Query> decode_query_body(std::string_view body);

// ---- The answer: a quote ----

struct QuotedServer {
  Advert advert;
  SignedDoc advert_doc;  // verbatim, as the server signed it
  Money price_per_hour;  // for holding the query's reservation an hour under its price sheet
  Money total_price;     // for the query's duration (rounded up to the micro-credit)
  std::optional<double> distance_km = std::nullopt;  // from the query's `near`, when given
  std::optional<int64_t> est_rtt_us = std::nullopt;  // from the query's `rtt_from`, when given
};

struct RemovedExample {
  std::string server;
  std::string name;
  std::string why;  // e.g. "price 1.200000/h above 0.800000/h"
};

// The adverts a predicate removed: those it failed where that failure sank the query (docs/xis.md
// "Explain"). One advert counts against every such predicate.
struct RemovedBy {
  std::string predicate;  // its path, e.g. "where.all[1]", or "reservation" / "rank" for implicit ones
  std::string text;       // the predicate, compact (at most 200 characters)
  int64_t count = 0;
  std::vector<RemovedExample> examples;  // at most kMaxQueryExamples, lowest server ids first
};

// A change of one numeric predicate that alone would make at least `would_match` (>= the
// query's count) adverts match.
struct Relaxation {
  std::string predicate;  // path
  std::string text;       // e.g. "raise the price ceiling to 0.800000/h"
  double from = 0;
  double to = 0;
  std::string unit;  // "micros/h", "micros", "km", "ms", "cpu_millis", ..., "ports", "reputation"
  int64_t would_match = 0;
};

struct Quote {
  std::vector<QuotedServer> chosen;  // in rank order
  Money total_price;                 // sum over the chosen servers
  int64_t duration_ms = 0;
  int64_t live = 0;     // live adverts considered (explain only; else 0)
  int64_t matched = 0;  // of them, those every predicate admits (explain only)
  bool explained = false;
  std::vector<RemovedBy> removed;       // one per predicate that removed any, in path order
  int64_t ranked_out = 0;               // matched but below the count
  int64_t spread_removed = 0;           // matched but refused by a spread constraint
  std::vector<Relaxation> relaxations;  // when fewer than `count` chosen: smallest change first
};

Json to_json(const Quote& q);
Result<Quote> quote_from_json(const Json& j);

}  // namespace xop
