// Spatial indexes over stored adverts (issue 6, "Performance"): nearest-first visits by
// geographic distance and by estimated network distance, without scanning. AdvertStore keeps
// them in step with its adverts (put, refresh, expiry, drop); they hold pointers to the store's
// StoredAdverts and read their location / coordinate, so an advert must be removed before its
// StoredAdvert changes or goes away. Not thread-safe by themselves: the store's lock guards them.
// Boost.Geometry's r-tree is instantiated only in advert_index.cpp.
//
// Order contract (both indexes): a visit calls fn with every indexed advert exactly once, in
// non-decreasing distance, ties broken by server id (ascending), where the distance is computed
// by the same function the ranking core uses, so the order is exactly that of a brute-force sort
// by (distance, server id):
//  - GeoIndex:   distance_km(p, advert.location) (proto/advert.h: haversine). The tree holds
//    3-D unit-sphere points, whose chord order is great-circle order; the chord of the next tree
//    entry bounds from below (less a 10 m margin for rounding) what is not yet visited.
//  - CoordIndex: estimated_rtt_ms(c, coordinate_of(*advert.coord)) (coord/coordinate.h: vector
//    distance plus both heights). Adverts without a coordinate are not indexed; only adverts whose
//    coordinate has c's number of dimensions are visited (others are not comparable). Vectors are
//    indexed in trees per dimension count and height band; a band's lower height bound plus the
//    tree distance of its next entry bounds what it still holds, and bands are merged by bound.
// fn returning false stops the visit. fn must not modify the index.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "coord/coordinate.h"
#include "proto/advert.h"

namespace xop {

struct StoredAdvert;

class GeoIndex {
 public:
  GeoIndex();
  ~GeoIndex();
  GeoIndex(const GeoIndex&) = delete;
  GeoIndex& operator=(const GeoIndex&) = delete;

  // Indexes s by s->advert.location. s must not be indexed already.
  void insert(const StoredAdvert* s);
  // Removes s (its location must be the one it was inserted with). False when not found.
  bool remove(const StoredAdvert* s);
  [[nodiscard]] size_t size() const;

  void visit_nearest(const GeoPoint& p, const std::function<bool(const StoredAdvert&, double km)>& fn) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class CoordIndex {
 public:
  CoordIndex();
  ~CoordIndex();
  CoordIndex(const CoordIndex&) = delete;
  CoordIndex& operator=(const CoordIndex&) = delete;

  // Indexes s by s->advert.coord; does nothing (returns false) when it has none.
  bool insert(const StoredAdvert* s);
  // Removes s (its coordinate must be the one it was inserted with). False when not found.
  bool remove(const StoredAdvert* s);
  [[nodiscard]] size_t size() const;

  // c must be valid (validate_coordinate); an invalid one visits nothing.
  void visit_nearest(const Coordinate& c, const std::function<bool(const StoredAdvert&, double est_ms)>& fn) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xop
