#include "xis/advert_index.h"

#include <algorithm>
#include <array>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <tuple>
#include <vector>

#include "xis/ranking.h"

namespace xop {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

using P3 = bg::model::point<double, 3, bg::cs::cartesian>;
using P8 = bg::model::point<double, kMaxCoordDims, bg::cs::cartesian>;
template <class P>
using Value = std::pair<P, const StoredAdvert*>;
template <class P>
using Tree = bgi::rtree<Value<P>, bgi::quadratic<16>>;

constexpr double kEarthKm = 6371.0088;  // as distance_km (proto/advert.cpp)
// What the tree's arithmetic may differ from the exact distance by, at most (with a wide margin):
// near-antipodal chords make asin ill-conditioned (~1e-8 rad for a 1e-16 chord error).
constexpr double kGeoMarginKm = 0.01;
double rtt_margin_ms(double bound) { return 1e-9 * (1.0 + std::fabs(bound)); }

P3 unit_point(const GeoPoint& g) {
  constexpr double kRad = M_PI / 180.0 / 1e6;
  const double la = static_cast<double>(g.lat_e6) * kRad;
  const double lo = static_cast<double>(g.lon_e6) * kRad;
  return P3(std::cos(la) * std::cos(lo), std::cos(la) * std::sin(lo), std::sin(la));
}

// Height bands: 1 ms wide below 16 ms, then eight per doubling (each ~9% wide).
constexpr int kLinearBands = 16;
double band_floor(int b) {
  if (b <= kLinearBands) return b;
  return kLinearBands * std::exp2(static_cast<double>(b - kLinearBands) / 8.0);
}
int band_of(double h) {
  int b = h < kLinearBands ? static_cast<int>(h) : kLinearBands + static_cast<int>(std::log2(h / kLinearBands) * 8.0);
  b = std::max(b, 0);
  while (b > 0 && band_floor(b) > h) --b;  // the floor must never exceed the height
  while (band_floor(b + 1) <= h) ++b;
  return b;
}

struct Pending {
  double key;
  const StoredAdvert* s;
};
struct PendingAfter {  // min-heap on (key, server id)
  bool operator()(const Pending& a, const Pending& b) const {
    return std::tie(a.key, a.s->advert.server) > std::tie(b.key, b.s->advert.server);
  }
};

// One nearest-first stream of a tree: started lazily, when its floor (the least key it could
// hold) is reached. bound = the least key any entry it has not yet yielded can have.
template <class P>
struct Stream {
  using It = typename Tree<P>::const_query_iterator;  // type-erased: qbegin_ is private in Boost 1.81
  const Tree<P>* tree = nullptr;
  double floor = 0;
  std::optional<It> it;
  double bound = 0;
};

// Merges streams and emits entries in exact (key, server id) order. bound_of(stream, tree
// distance) maps a tree distance to a lower bound of the keys (already less its margin);
// key_of(entry) is the exact key, or nullopt to skip the entry (not comparable).
template <class P, class BoundFn, class KeyFn, class Fn>
void merge_visit(std::vector<Stream<P>>& streams, const P& q, const BoundFn& bound_of, const KeyFn& key_of,
                 const Fn& fn) {
  auto later = [&](size_t a, size_t b) { return streams[a].bound > streams[b].bound; };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> order(later);
  for (size_t i = 0; i < streams.size(); ++i) {
    streams[i].bound = streams[i].floor;
    order.push(i);
  }
  std::priority_queue<Pending, std::vector<Pending>, PendingAfter> pending;
  const size_t n_all = std::numeric_limits<unsigned>::max();
  while (true) {
    const double next_bound = order.empty() ? std::numeric_limits<double>::infinity() : streams[order.top()].bound;
    if (!pending.empty() && pending.top().key < next_bound) {
      const Pending p = pending.top();
      pending.pop();
      if (!fn(*p.s, p.key)) return;
      continue;
    }
    if (order.empty()) return;
    const size_t i = order.top();
    order.pop();
    Stream<P>& st = streams[i];
    if (!st.it) {
      st.it.emplace(st.tree->qbegin(bgi::nearest(q, static_cast<unsigned>(std::min(n_all, st.tree->size())))));
    } else {
      const Value<P>& v = **st.it;
      if (auto k = key_of(*v.second)) pending.push(Pending{*k, v.second});
      ++*st.it;
    }
    if (*st.it == st.tree->qend()) continue;  // exhausted
    st.bound = std::max(st.floor, bound_of(st, bg::distance(q, (**st.it).first)));
    order.push(i);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------- GeoIndex

struct GeoIndex::Impl {
  Tree<P3> tree;
};

GeoIndex::GeoIndex() : impl_(std::make_unique<Impl>()) {}
GeoIndex::~GeoIndex() = default;

void GeoIndex::insert(const StoredAdvert* s) { impl_->tree.insert(Value<P3>{unit_point(s->advert.location), s}); }

bool GeoIndex::remove(const StoredAdvert* s) {
  return impl_->tree.remove(Value<P3>{unit_point(s->advert.location), s}) > 0;
}

size_t GeoIndex::size() const { return impl_->tree.size(); }

void GeoIndex::visit_nearest(const GeoPoint& p, const std::function<bool(const StoredAdvert&, double)>& fn) const {
  if (impl_->tree.empty()) return;
  std::vector<Stream<P3>> streams(1);
  streams[0].tree = &impl_->tree;
  streams[0].floor = -kGeoMarginKm;
  const P3 q = unit_point(p);
  merge_visit(
      streams, q,
      [](const Stream<P3>&, double chord) { return 2 * kEarthKm * std::asin(std::min(1.0, chord / 2)) - kGeoMarginKm; },
      [&p](const StoredAdvert& s) { return std::optional<double>(distance_km(p, s.advert.location)); }, fn);
}

// -------------------------------------------------------------------------------- CoordIndex

namespace {

// Trees are keyed by (dimensions, height band), in that order, so a query's trees are a range.
// Points have exactly the coordinate's dimensions for 2, 3 and 4 (the usual Vivaldi set-ups;
// XOP's default is 4): padding with constant components would give every box zero volume and
// leave the r-tree's split heuristics blind (8x slower queries, measured). Other dimension counts
// share an 8-D tree padded with zeros: correct, slower.
using BandKey = std::pair<size_t, int>;
using P2 = bg::model::point<double, 2, bg::cs::cartesian>;
using P4 = bg::model::point<double, 4, bg::cs::cartesian>;

template <class P>
P point_of(const std::vector<double>& v) {
  constexpr size_t D = bg::traits::dimension<P>::value;
  std::array<double, kMaxCoordDims> c{};
  for (size_t i = 0; i < v.size() && i < kMaxCoordDims; ++i) c[i] = v[i];
  P p;
  bg::set<0>(p, c[0]);
  bg::set<1>(p, c[1]);
  if constexpr (D > 2) bg::set<2>(p, c[2]);
  if constexpr (D > 3) bg::set<3>(p, c[3]);
  if constexpr (D > 4) {
    bg::set<4>(p, c[4]);
    bg::set<5>(p, c[5]);
    bg::set<6>(p, c[6]);
    bg::set<7>(p, c[7]);
  }
  return p;
}
static_assert(kMaxCoordDims == 8, "point_of() sets at most eight components");

template <class P>
struct BandTrees {
  std::map<BandKey, Tree<P>> trees;

  void insert(const Coordinate& c, const StoredAdvert* s) {
    trees[BandKey{c.vec.size(), band_of(c.height)}].insert(Value<P>{point_of<P>(c.vec), s});
  }
  bool remove(const Coordinate& c, const StoredAdvert* s) {
    auto t = trees.find(BandKey{c.vec.size(), band_of(c.height)});
    if (t == trees.end() || t->second.remove(Value<P>{point_of<P>(c.vec), s}) == 0) return false;
    if (t->second.empty()) trees.erase(t);
    return true;
  }
  void visit(const Coordinate& c, const std::function<bool(const StoredAdvert&, double)>& fn) const {
    const size_t dims = c.vec.size();
    std::vector<Stream<P>> streams;
    std::vector<double> floors;  // a band's least height, per stream
    for (auto t = trees.lower_bound(BandKey{dims, 0}); t != trees.end() && t->first.first == dims; ++t) {
      Stream<P> st;
      st.tree = &t->second;
      const double h = band_floor(t->first.second) + c.height;
      st.floor = h - rtt_margin_ms(h);
      streams.push_back(std::move(st));
      floors.push_back(band_floor(t->first.second));
    }
    if (streams.empty()) return;
    const P q = point_of<P>(c.vec);
    const Stream<P>* first = streams.data();
    merge_visit(
        streams, q,
        [&](const Stream<P>& st, double d) {
          const double b = d + floors[static_cast<size_t>(&st - first)] + c.height;
          return b - rtt_margin_ms(b);
        },
        [&](const StoredAdvert& s) -> std::optional<double> {
          // Same conversion and the same function (argument order too) as the ranking core.
          return estimated_rtt_ms(c, coordinate_of(*s.advert.coord));
        },
        fn);
  }
};

}  // namespace

struct CoordIndex::Impl {
  BandTrees<P2> d2;
  BandTrees<P3> d3;
  BandTrees<P4> d4;
  BandTrees<P8> other;  // 1 and 5..8 dimensions
  size_t size = 0;

  template <class Fn>
  auto with_trees(size_t dims, const Fn& fn) {
    switch (dims) {
      case 2:
        return fn(d2);
      case 3:
        return fn(d3);
      case 4:
        return fn(d4);
      default:
        return fn(other);
    }
  }
};

CoordIndex::CoordIndex() : impl_(std::make_unique<Impl>()) {}
CoordIndex::~CoordIndex() = default;

bool CoordIndex::insert(const StoredAdvert* s) {
  if (!s->advert.coord) return false;
  const Coordinate c = coordinate_of(*s->advert.coord);
  if (c.vec.empty() || c.vec.size() > kMaxCoordDims) return false;
  impl_->with_trees(c.vec.size(), [&](auto& t) { t.insert(c, s); });
  ++impl_->size;
  return true;
}

bool CoordIndex::remove(const StoredAdvert* s) {
  if (!s->advert.coord) return false;
  const Coordinate c = coordinate_of(*s->advert.coord);
  if (!impl_->with_trees(c.vec.size(), [&](auto& t) { return t.remove(c, s); })) return false;
  --impl_->size;
  return true;
}

size_t CoordIndex::size() const { return impl_->size; }

void CoordIndex::visit_nearest(const Coordinate& c, const std::function<bool(const StoredAdvert&, double)>& fn) const {
  if (!validate_coordinate(c)) return;
  impl_->with_trees(c.vec.size(), [&](const auto& t) { t.visit(c, fn); });
}

}  // namespace xop
