// The query engine: evaluates a Query (proto/xis_query.h) over stored adverts and answers with a
// Quote. Pure and deterministic: no clock (`now` is an argument), no I/O, no global state; the
// same adverts and query always give the same quote, whatever the order the adverts come in.
//
// Contract (docs/xis.md "Query language"):
//  - Only live adverts (now < expires_at) are considered.
//  - An advert matches when the query's `where` holds for it, the price of holding the query's
//    reservation can be computed under its price sheet (the implicit predicate "reservation"),
//    and, when the query ranks by network distance (rank "rtt", or "mix" with an rtt weight), it
//    advertises a coordinate of the reference's dimensions (the implicit predicate "rank").
//  - Matches are ordered by the rank key, then by server id (a total order); chosen greedily in
//    that order, skipping a match that would break a spread constraint, until `count` are chosen.
//  - With query.explain, the quote counts, for every predicate, the live adverts it removed (a
//    failing advert counts against every predicate whose failure sinks it: each failing child of a
//    failing "all", every child of a failing "any", a "not" whose child holds), keeps at most
//    kMaxQueryExamples examples per predicate (lowest server ids), and, when fewer than `count`
//    were chosen, the relaxations of single numeric predicates that would make `count` match
//    (computed exactly from the adverts; see relaxations below).
//  - The quote's size is bounded by the query's bounds, not by the number of adverts:
//    count signed adverts, (kMaxQueryNodes + 2) * kMaxQueryExamples examples, kMaxRelaxations.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "proto/xis_query.h"
#include "xis/ranking.h"

namespace xop {

// A query made ready to evaluate: its predicates numbered in pre-order (node 0 is `where`), each
// with its path ("where.all[1].not"), and its RTT references resolved to coordinates.
struct PreparedQuery {
  Query query;
  struct Node {
    const Predicate* p = nullptr;
    std::string path;
    std::vector<int> children;
    bool monotone = true;                          // no "not" above it: relaxing it can only add matches
    std::optional<GeoPoint> point = std::nullopt;  // kWithinKm: its point or the query's near
    std::optional<Coordinate> ref = std::nullopt;  // kWithinMs: its reference or the query's
  };
  std::vector<Node> nodes;
  std::optional<Coordinate> rtt_ref = std::nullopt;  // the query's rtt_from, resolved
  bool by_rtt = false;                               // ranking needs an estimated RTT
};

// The network coordinate in the live advert of `server`, or nullopt when it has none (or no
// live advert).
using CoordLookup = std::function<std::optional<AdvertCoord>(const std::string& server)>;

// Resolves references (kNotFound when a referenced server has no live advert with a network
// coordinate; kInvalidArgument for an invalid coordinate). The query is copied in: the result
// owns it, and points into it (do not copy a PreparedQuery; move it).
Result<std::unique_ptr<PreparedQuery>> prepare_query(Query q, const CoordLookup& lookup);

// A CoordLookup over a set of live adverts (sorted by server id or not).
CoordLookup coord_lookup_over(std::span<const StoredAdvert* const> live);

// Whether one stored advert matches (see the contract), for callers that pick candidates
// themselves (multi-server placement). Expired adverts never match.
bool matches(const PreparedQuery& pq, const StoredAdvert& s, TimeMs now);

// The quote over every live advert in `adverts` (any order; server ids unique).
Quote run_query(const PreparedQuery& pq, std::span<const StoredAdvert* const> adverts, TimeMs now);

// An ordered source of candidates: calls `fn` with live adverts in non-decreasing order of a key
// (great-circle km from a point, or estimated RTT in ms from a coordinate) until `fn` returns
// false. AdvertStore's visit_nearest_geo / visit_nearest_rtt have this shape.
using OrderedFn = std::function<bool(const StoredAdvert&, double key)>;
using OrderedVisit = std::function<void(const OrderedFn&)>;

// Whether run_query_ordered() answers this query exactly as run_query() would: rank "distance" or
// "rtt" and no explain.
bool can_run_ordered(const PreparedQuery& pq);
// The quote from an ordered source: `visit` must order by the query's rank key (km from its near
// for "distance", estimated RTT from its rtt_from for "rtt"). Adverts are taken in groups of equal
// key, each ordered by server id, and the visit stops once `count` are chosen after a group, so
// the answer is run_query()'s (only chosen and totals are filled: no explain).
Quote run_query_ordered(const PreparedQuery& pq, const OrderedVisit& visit, TimeMs now);

// Reference ordered visits over a span: a sort of the live adverts by the key (then server id).
// The advert store's indexes give the same order without a sort.
void visit_sorted_geo(std::span<const StoredAdvert* const> adverts, GeoPoint p, TimeMs now, const OrderedFn& fn);
void visit_sorted_rtt(std::span<const StoredAdvert* const> adverts, const Coordinate& c, TimeMs now,
                      const OrderedFn& fn);

// The price of holding `hourly` for `duration_ms`, rounded up to the micro-credit; nullopt on
// overflow.
std::optional<Money> price_for_duration(Money hourly, int64_t duration_ms);

}  // namespace xop
