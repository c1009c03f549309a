#include "xis/query_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/int128.h"
#include "core/units.h"
#include "proto/charge.h"

namespace xop {
namespace {

using Kind = Predicate::Kind;
using Node = PreparedQuery::Node;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_combinator(Kind k) { return k == Kind::kAll || k == Kind::kAny; }

void build_nodes(PreparedQuery& pq, const Predicate& p, const std::string& path, bool monotone) {
  const auto idx = static_cast<int>(pq.nodes.size());
  pq.nodes.push_back(Node{&p, path, {}, monotone});
  for (size_t i = 0; i < p.children.size(); ++i) {
    const std::string cp =
        p.kind == Kind::kNot ? path + ".not" : fmt::format("{}.{}[{}]", path, p.kind == Kind::kAll ? "all" : "any", i);
    pq.nodes[static_cast<size_t>(idx)].children.push_back(static_cast<int>(pq.nodes.size()));
    build_nodes(pq, p.children[i], cp, monotone && p.kind != Kind::kNot);
  }
}

Result<Coordinate> resolve(const RttFrom& f, const CoordLookup& lookup, const std::string& where) {
  if (f.coord) {
    Coordinate c = coordinate_of(*f.coord);
    if (auto ok = validate_coordinate(c); !ok) return invalid(where + ".coord: " + ok.error().message);
    return c;
  }
  std::optional<AdvertCoord> c = lookup ? lookup(*f.server) : std::nullopt;
  if (!c) {
    return make_error(ErrorCode::kNotFound,
                      where + ".server: " + *f.server + " has no live advert with a network coordinate");
  }
  return coordinate_of(*c);
}

// Estimated RTT from `ref` to the advert's coordinate; nullopt without one of its dimensions.
std::optional<double> rtt_to(const Coordinate& ref, const Advert& a) {
  if (!a.coord || a.coord->vec_us.size() != ref.vec.size()) return std::nullopt;
  return estimated_rtt_ms(ref, coordinate_of(*a.coord));
}

// What every predicate and the ranking read about one advert, computed once.
struct Facts {
  const StoredAdvert* s = nullptr;
  std::optional<Money> hourly;  // holding the reservation an hour; nullopt: cannot be computed
  std::optional<Money> total;   // for the query's duration
  std::string price_error;
  std::optional<double> near_km;  // to the query's near
  std::optional<double> rtt_ms;   // from the query's rtt_from
};

Facts facts_of(const PreparedQuery& pq, const StoredAdvert& s) {
  Facts f;
  f.s = &s;
  auto h = hourly_reservation_price(s.rates, pq.query.reservation);
  if (h) {
    f.hourly = *h;
    f.total = price_for_duration(*h, pq.query.duration_ms);
    if (!f.total) f.price_error = "the price for the duration overflows";
  } else {
    f.price_error = h.error().message;
  }
  if (pq.query.near) f.near_km = distance_km(*pq.query.near, s.advert.location);
  if (pq.rtt_ref) f.rtt_ms = rtt_to(*pq.rtt_ref, s.advert);
  return f;
}

bool priced(const Facts& f) { return f.hourly.has_value() && f.total.has_value(); }
bool rank_ok(const PreparedQuery& pq, const Facts& f) { return !pq.by_rtt || f.rtt_ms.has_value(); }

const char* kResourceNames[] = {"cpu_millis", "memory_bytes", "disk_bytes", "net_bps"};
int64_t component(const Resources& r, int c) {
  switch (c) {
    case 0:
      return r.cpu_millis;
    case 1:
      return r.memory_bytes;
    case 2:
      return r.disk_bytes;
    default:
      return r.net_bps;
  }
}

double km_of(const Node& n, const Facts& f) {
  if (!n.p->point) return f.near_km.value_or(kNaN);
  return distance_km(*n.point, f.s->advert.location);
}
std::optional<double> ms_of(const Node& n, const Facts& f) {
  if (!n.p->from) return f.rtt_ms;
  return n.ref ? rtt_to(*n.ref, f.s->advert) : std::nullopt;
}

// Whether leaf node `n` holds for the advert.
bool leaf_holds(const Node& n, const Facts& f) {
  const Advert& a = f.s->advert;
  const Predicate& p = *n.p;
  switch (p.kind) {
    case Kind::kAll:
    case Kind::kAny:
    case Kind::kNot:
      return false;  // not leaves
    case Kind::kFree:
      return a.free.covers(p.free);
    case Kind::kMaxPricePerHour:
      return f.hourly && f.hourly->micros() <= p.micros;
    case Kind::kMaxTotalPrice:
      return f.total && f.total->micros() <= p.micros;
    case Kind::kRateCeiling:
      return rate_of(f.s->rates, p.rate) <= p.micros;
    case Kind::kSandbox:
      return std::find(a.sandboxes.begin(), a.sandboxes.end(), p.text) != a.sandboxes.end();
    case Kind::kImage:
      return std::find(a.images.begin(), a.images.end(), p.text) != a.images.end();
    case Kind::kCountry:
      return a.country && std::find(p.texts.begin(), p.texts.end(), *a.country) != p.texts.end();
    case Kind::kWithinKm: {
      const double km = km_of(n, f);
      return !std::isnan(km) && km <= p.number;
    }
    case Kind::kWithinMs: {
      const auto ms = ms_of(n, f);
      return ms && *ms <= p.number;
    }
    case Kind::kMinReputation:
      return f.s->reputation && *f.s->reputation >= p.number;
    case Kind::kMinFreePorts:
      return a.free_ports && *a.free_ports >= p.integer;
  }
  return false;
}

// Short-circuit evaluation of node i (for matches() and the unexplained scan).
bool holds(const PreparedQuery& pq, int i, const Facts& f) {
  const Node& n = pq.nodes[static_cast<size_t>(i)];
  switch (n.p->kind) {
    case Kind::kAll:
      for (int c : n.children) {
        if (!holds(pq, c, f)) return false;
      }
      return true;
    case Kind::kAny:
      for (int c : n.children) {
        if (holds(pq, c, f)) return true;
      }
      return false;
    case Kind::kNot:
      return !holds(pq, n.children[0], f);
    default:
      return leaf_holds(n, f);
  }
}

// Evaluates node i from the leaves' values in `leaf` (indexed by node); node `forced` (if >= 0)
// reads as `forced_value` whatever it is.
bool eval_tree(const PreparedQuery& pq, int i, const std::vector<char>& leaf, int forced = -1,
               bool forced_value = false) {
  if (i == forced) return forced_value;
  const Node& n = pq.nodes[static_cast<size_t>(i)];
  switch (n.p->kind) {
    case Kind::kAll:
      for (int c : n.children) {
        if (!eval_tree(pq, c, leaf, forced, forced_value)) return false;
      }
      return true;
    case Kind::kAny:
      for (int c : n.children) {
        if (eval_tree(pq, c, leaf, forced, forced_value)) return true;
      }
      return false;
    case Kind::kNot:
      return !eval_tree(pq, n.children[0], leaf, forced, forced_value);
    default:
      return leaf[static_cast<size_t>(i)] != 0;
  }
}

// Every leaf's value, and every combinator's (so blame can read them).
void eval_all(const PreparedQuery& pq, const Facts& f, std::vector<char>* v) {
  v->assign(pq.nodes.size(), 0);
  for (size_t i = pq.nodes.size(); i-- > 0;) {  // children come after their parent in pre-order
    const Node& n = pq.nodes[i];
    switch (n.p->kind) {
      case Kind::kAll: {
        bool all = true;
        for (int c : n.children) all = all && (*v)[static_cast<size_t>(c)] != 0;
        (*v)[i] = all ? 1 : 0;
        break;
      }
      case Kind::kAny: {
        bool any = false;
        for (int c : n.children) any = any || (*v)[static_cast<size_t>(c)] != 0;
        (*v)[i] = any ? 1 : 0;
        break;
      }
      case Kind::kNot:
        (*v)[i] = (*v)[static_cast<size_t>(n.children[0])] != 0 ? 0 : 1;
        break;
      default:
        (*v)[i] = leaf_holds(n, f) ? 1 : 0;
    }
  }
}

// The predicates whose failure sinks failing node i (see the contract).
void blame(const PreparedQuery& pq, int i, const std::vector<char>& v, std::vector<int>* out) {
  const Node& n = pq.nodes[static_cast<size_t>(i)];
  if (is_combinator(n.p->kind)) {
    for (int c : n.children) {
      if (v[static_cast<size_t>(c)] == 0) blame(pq, c, v, out);
    }
    return;
  }
  out->push_back(i);
}

std::string money_h(Money m) { return format_credits(m) + "/h"; }

std::string why_failed(const Node& n, const Facts& f) {
  const Advert& a = f.s->advert;
  const Predicate& p = *n.p;
  switch (p.kind) {
    case Kind::kAll:
    case Kind::kAny:
      return "does not hold";
    case Kind::kNot:
      return "matches " + to_json(p.children[0]).dump();
    case Kind::kFree: {
      std::string out;
      for (int c = 0; c < 4; ++c) {
        const int64_t need = component(p.free, c);
        const int64_t have = component(a.free, c);
        if (need <= have) continue;
        out += fmt::format("{}needs {} {}, {} free", out.empty() ? "" : "; ", need, kResourceNames[c], have);
      }
      return out;
    }
    case Kind::kMaxPricePerHour:
      return fmt::format("price {} above {}", money_h(f.hourly.value_or(Money())), money_h(Money::micros(p.micros)));
    case Kind::kMaxTotalPrice:
      return fmt::format("price {} for the duration above {}", format_credits(f.total.value_or(Money())),
                         format_credits(Money::micros(p.micros)));
    case Kind::kRateCeiling:
      return fmt::format("{} {} above {}", rate_key(p.rate), format_credits(Money::micros(rate_of(f.s->rates, p.rate))),
                         format_credits(Money::micros(p.micros)));
    case Kind::kSandbox:
      return "no sandbox " + p.text;
    case Kind::kImage:
      return "image " + p.text + " not cached";
    case Kind::kCountry:
      return a.country ? "country " + *a.country + " not listed" : "advertises no country";
    case Kind::kWithinKm:
      return fmt::format("{:.1f} km away, above {:g} km", km_of(n, f), p.number);
    case Kind::kWithinMs: {
      const auto ms = ms_of(n, f);
      if (!ms) {
        return a.coord ? "network coordinate of other dimensions than the reference's"
                       : "advertises no network coordinate";
      }
      return fmt::format("estimated RTT {:.1f} ms above {:g} ms", *ms, p.number);
    }
    case Kind::kMinReputation:
      return f.s->reputation ? fmt::format("reputation {:.3f} below {:g}", *f.s->reputation, p.number)
                             : "no reputation known";
    case Kind::kMinFreePorts:
      return a.free_ports ? fmt::format("{} free ports, needs {}", *a.free_ports, p.integer)
                          : "advertises no free port count";
  }
  return "";
}

// ---- Ranking and choice ----

struct Match {
  Facts f;
  double key = 0;
};

bool match_less(const Match& a, const Match& b) {
  if (a.key != b.key) return a.key < b.key;
  return a.f.s->advert.server < b.f.s->advert.server;
}

double norm(double x, double lo, double hi) { return hi > lo ? (x - lo) / (hi - lo) : 0; }

// Fills each match's key for the query's ranking (mix: normalised over `ms`).
void rank_keys(const PreparedQuery& pq, std::vector<Match>* ms) {
  const Query& q = pq.query;
  auto rep_key = [](const Facts& f) { return f.s->reputation ? -*f.s->reputation : 1.0; };  // absent last
  if (q.rank != RankBy::kMix) {
    for (Match& m : *ms) {
      switch (q.rank) {
        case RankBy::kPrice:
          m.key = static_cast<double>(m.f.hourly->micros());
          break;
        case RankBy::kDistance:
          m.key = m.f.near_km.value_or(0);
          break;
        case RankBy::kRtt:
          m.key = m.f.rtt_ms.value_or(0);
          break;
        case RankBy::kReputation:
          m.key = rep_key(m.f);
          break;
        case RankBy::kMix:
          break;
      }
    }
    return;
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double plo = kInf, phi = -kInf, dlo = kInf, dhi = -kInf, rlo = kInf, rhi = -kInf, elo = kInf, ehi = -kInf;
  for (const Match& m : *ms) {
    const auto p = static_cast<double>(m.f.hourly->micros());
    plo = std::min(plo, p);
    phi = std::max(phi, p);
    if (m.f.near_km) dlo = std::min(dlo, *m.f.near_km), dhi = std::max(dhi, *m.f.near_km);
    if (m.f.rtt_ms) rlo = std::min(rlo, *m.f.rtt_ms), rhi = std::max(rhi, *m.f.rtt_ms);
    if (m.f.s->reputation) elo = std::min(elo, *m.f.s->reputation), ehi = std::max(ehi, *m.f.s->reputation);
  }
  const RankWeights& w = q.weights;
  for (Match& m : *ms) {
    double k = w.price * norm(static_cast<double>(m.f.hourly->micros()), plo, phi);
    if (w.distance > 0) k += w.distance * norm(m.f.near_km.value_or(0), dlo, dhi);
    if (w.rtt > 0) k += w.rtt * norm(m.f.rtt_ms.value_or(0), rlo, rhi);
    if (w.reputation > 0) {
      k += w.reputation * (m.f.s->reputation ? (ehi > elo ? (ehi - *m.f.s->reputation) / (ehi - elo) : 0) : 1);
    }
    m.key = k;
  }
}

// Greedy spread: admits a server unless it would break a constraint with those admitted before.
class SpreadState {
 public:
  explicit SpreadState(const Spread& s) : s_(s) {}
  bool admit(const Advert& a, const std::string& owner) {
    if (s_.max_per_owner && !owner.empty() && owners_[owner] >= *s_.max_per_owner) return false;
    if (s_.max_per_country && a.country && countries_[*a.country] >= *s_.max_per_country) return false;
    if (s_.min_km) {
      for (const GeoPoint& p : points_) {
        if (distance_km(p, a.location) < *s_.min_km) return false;
      }
    }
    if (!owner.empty()) ++owners_[owner];
    if (a.country) ++countries_[*a.country];
    if (s_.min_km) points_.push_back(a.location);
    return true;
  }

 private:
  const Spread& s_;
  std::map<std::string, int64_t> owners_;
  std::map<std::string, int64_t> countries_;
  std::vector<GeoPoint> points_;
};

QuotedServer quoted(const Facts& f) {
  QuotedServer s;
  s.advert = f.s->advert;
  s.advert_doc = f.s->doc;
  s.price_per_hour = *f.hourly;
  s.total_price = *f.total;
  s.distance_km = f.near_km;
  if (f.rtt_ms) s.est_rtt_us = std::llround(*f.rtt_ms * 1000);
  return s;
}

void add_chosen(Quote* out, const Facts& f) {
  out->chosen.push_back(quoted(f));
  out->total_price = out->total_price.plus(*f.total).value_or(Money::micros(INT64_MAX));
}

// ---- Relaxation ----

struct Target {
  int node = 0;
  int comp = -1;        // kFree: which resource
  bool ceiling = true;  // raising it admits more (else lowering does)
  double old = 0;
  // Of the adverts that relaxing it alone would admit, the `need` best values (a heap whose top
  // is the worst of them: the threshold), and then how many the threshold admits.
  std::vector<double> best;
  bool has_threshold = false;
  double to = 0;
  int64_t admitted = 0;

  [[nodiscard]] bool better(double a, double b) const { return ceiling ? a < b : a > b; }
  void offer(double x, size_t need) {
    auto cmp = [this](double a, double b) { return better(a, b); };  // top: the worst kept
    if (best.size() < need) {
      best.push_back(x);
      std::push_heap(best.begin(), best.end(), cmp);
    } else if (better(x, best.front())) {
      std::pop_heap(best.begin(), best.end(), cmp);
      best.back() = x;
      std::push_heap(best.begin(), best.end(), cmp);
    }
  }
  [[nodiscard]] bool admits(double x) const { return ceiling ? x <= to : x >= to; }
};

Target make_target(int node, int comp, bool ceiling, double old) {
  Target t;
  t.node = node;
  t.comp = comp;
  t.ceiling = ceiling;
  t.old = old;
  return t;
}

// The numeric predicates (and resources of "free") not under a "not", the first kMaxTargets of
// them in pre-order: each costs a tree evaluation per failing advert, so hostile queries are bounded.
constexpr size_t kMaxTargets = 32;

std::vector<Target> relaxation_targets(const PreparedQuery& pq) {
  std::vector<Target> out;
  for (size_t i = 0; i < pq.nodes.size() && out.size() < kMaxTargets; ++i) {
    const Node& n = pq.nodes[i];
    if (!n.monotone) continue;
    const Predicate& p = *n.p;
    const int ni = static_cast<int>(i);
    switch (p.kind) {
      case Kind::kFree:
        for (int c = 0; c < 4; ++c) {
          if (component(p.free, c) > 0)
            out.push_back(make_target(ni, c, false, static_cast<double>(component(p.free, c))));
        }
        break;
      case Kind::kMaxPricePerHour:
      case Kind::kMaxTotalPrice:
      case Kind::kRateCeiling:
        out.push_back(make_target(ni, -1, true, static_cast<double>(p.micros)));
        break;
      case Kind::kWithinKm:
      case Kind::kWithinMs:
        out.push_back(make_target(ni, -1, true, p.number));
        break;
      case Kind::kMinReputation:
        out.push_back(make_target(ni, -1, false, p.number));
        break;
      case Kind::kMinFreePorts:
        out.push_back(make_target(ni, -1, false, static_cast<double>(p.integer)));
        break;
      default:
        break;
    }
  }
  return out;
}

// The advert's value for target t, when relaxing t alone could make its leaf hold (NaN if not).
double target_value(const PreparedQuery& pq, const Target& t, const Facts& f) {
  const Node& n = pq.nodes[static_cast<size_t>(t.node)];
  const Advert& a = f.s->advert;
  switch (n.p->kind) {
    case Kind::kFree:
      for (int c = 0; c < 4; ++c) {
        if (c != t.comp && component(a.free, c) < component(n.p->free, c)) return kNaN;
      }
      return static_cast<double>(component(a.free, t.comp));
    case Kind::kMaxPricePerHour:
      return static_cast<double>(f.hourly->micros());
    case Kind::kMaxTotalPrice:
      return static_cast<double>(f.total->micros());
    case Kind::kRateCeiling:
      return static_cast<double>(rate_of(f.s->rates, n.p->rate));
    case Kind::kWithinKm:
      return km_of(n, f);
    case Kind::kWithinMs:
      return ms_of(n, f).value_or(kNaN);
    case Kind::kMinReputation:
      return f.s->reputation.value_or(kNaN);
    case Kind::kMinFreePorts:
      return a.free_ports ? static_cast<double>(*a.free_ports) : kNaN;
    default:
      return kNaN;
  }
}

std::string relax_text(const PreparedQuery& pq, const Target& t, double to, std::string* unit) {
  const Predicate& p = *pq.nodes[static_cast<size_t>(t.node)].p;
  const Money m = Money::micros(static_cast<int64_t>(to));
  switch (p.kind) {
    case Kind::kFree:
      *unit = kResourceNames[t.comp];
      return fmt::format("lower the free {} minimum to {}", kResourceNames[t.comp], static_cast<int64_t>(to));
    case Kind::kMaxPricePerHour:
      *unit = "micros/h";
      return "raise the price ceiling to " + money_h(m);
    case Kind::kMaxTotalPrice:
      *unit = "micros";
      return "raise the total price ceiling to " + format_credits(m) + " for the duration";
    case Kind::kRateCeiling:
      *unit = "micros";
      return fmt::format("raise the {} ceiling to {}", rate_key(p.rate), format_credits(m));
    case Kind::kWithinKm:
      *unit = "km";
      return fmt::format("widen to {:.3f} km", to);
    case Kind::kWithinMs:
      *unit = "ms";
      return fmt::format("widen to {:.3f} ms", to);
    case Kind::kMinReputation:
      *unit = "reputation";
      return fmt::format("lower the reputation minimum to {:.6f}", to);
    case Kind::kMinFreePorts:
      *unit = "ports";
      return fmt::format("lower the free ports minimum to {}", static_cast<int64_t>(to));
    default:
      return "";
  }
}

// Rounds a threshold outwards so that the value it came from passes: ceilings of km and ms up to
// the thousandth, a reputation minimum down to the millionth; integers are exact.
double round_out(const PreparedQuery& pq, const Target& t, double v) {
  switch (pq.nodes[static_cast<size_t>(t.node)].p->kind) {
    case Kind::kWithinKm:
    case Kind::kWithinMs:
      return std::ceil(v * 1000) / 1000;
    case Kind::kMinReputation:
      return std::floor(v * 1e6) / 1e6;
    default:
      return v;
  }
}

// For every target whose relaxation alone admits an advert that fails now, calls fn(t, value).
void for_each_relaxable(const PreparedQuery& pq, std::span<const StoredAdvert* const> failing,
                        std::vector<Target>& targets, const std::function<void(Target&, double)>& fn) {
  std::vector<char> v;
  for (const StoredAdvert* s : failing) {
    const Facts f = facts_of(pq, *s);
    eval_all(pq, f, &v);
    for (Target& t : targets) {
      if (v[static_cast<size_t>(t.node)] != 0) continue;
      const double x = target_value(pq, t, f);
      if (std::isnan(x)) continue;
      if (eval_tree(pq, 0, v, t.node, true)) fn(t, x);
    }
  }
}

// Two passes over the failing adverts: the thresholds (the need-th best value), then how many
// each admits (ties included), so memory is O(targets x need) whatever the number of adverts.
void relax(const PreparedQuery& pq, std::span<const StoredAdvert* const> failing, std::vector<Target>& targets,
           int64_t matched, Quote* out) {
  const int64_t need = pq.query.count - matched;
  if (need <= 0) return;  // enough match: what fell short was the spread
  const auto n = static_cast<size_t>(need);
  for_each_relaxable(pq, failing, targets, [n](Target& t, double x) { t.offer(x, n); });
  bool any = false;
  for (Target& t : targets) {
    if (t.best.size() < n) continue;
    t.has_threshold = any = true;
    t.to = round_out(pq, t, t.best.front());
  }
  if (!any) return;
  for_each_relaxable(pq, failing, targets, [](Target& t, double x) {
    if (t.has_threshold && t.admits(x)) ++t.admitted;
  });
  std::vector<std::pair<double, Relaxation>> found;
  for (const Target& t : targets) {
    if (!t.has_threshold) continue;
    Relaxation r;
    r.predicate = pq.nodes[static_cast<size_t>(t.node)].path;
    if (t.comp >= 0) r.predicate += std::string(".") + kResourceNames[t.comp];
    r.text = relax_text(pq, t, t.to, &r.unit);
    r.from = t.old;
    r.to = t.to;
    r.would_match = matched + t.admitted;
    const double change = std::abs(t.to - t.old) / std::max(std::abs(t.old), 1e-9);
    found.emplace_back(change, std::move(r));
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return a.second.predicate < b.second.predicate;
  });
  for (size_t i = 0; i < found.size() && i < kMaxRelaxations; ++i) out->relaxations.push_back(found[i].second);
}

std::string compact(const Predicate& p) {
  std::string s = to_json(p).dump();
  if (s.size() > 200) s = s.substr(0, 197) + "...";
  return s;
}

// Counts one removal against entry `r` (named on first use), keeping the first examples.
void note(RemovedBy* r, const std::string& path, const std::function<std::string()>& text, const Facts& f,
          const std::function<std::string()>& why) {
  if (r->count == 0) {
    r->predicate = path;
    r->text = text();
  }
  ++r->count;
  if (r->examples.size() < kMaxQueryExamples) {
    r->examples.push_back(RemovedExample{f.s->advert.server, f.s->advert.name, why()});
  }
}

}  // namespace

std::optional<Money> price_for_duration(Money hourly, int64_t duration_ms) {
  if (hourly.micros() < 0 || duration_ms < 0) return std::nullopt;
  const i128 num = static_cast<i128>(hourly.micros()) * duration_ms;
  const i128 v = (num + 3'600'000 - 1) / 3'600'000;
  if (v > INT64_MAX) return std::nullopt;
  return Money::micros(static_cast<int64_t>(v));
}

Result<std::unique_ptr<PreparedQuery>> prepare_query(Query q, const CoordLookup& lookup) {
  auto pq = std::make_unique<PreparedQuery>();
  pq->query = std::move(q);
  build_nodes(*pq, pq->query.where, "where", true);
  if (pq->query.rtt_from) {
    XOP_ASSIGN_OR_RETURN(auto c, resolve(*pq->query.rtt_from, lookup, "query.rtt_from"));
    pq->rtt_ref = std::move(c);
  }
  for (Node& n : pq->nodes) {
    if (n.p->kind == Kind::kWithinKm) n.point = n.p->point ? n.p->point : pq->query.near;
    if (n.p->kind == Kind::kWithinMs) {
      if (n.p->from) {
        XOP_ASSIGN_OR_RETURN(auto c, resolve(*n.p->from, lookup, "query." + n.path + ".within_ms.from"));
        n.ref = std::move(c);
      } else {
        n.ref = pq->rtt_ref;
      }
    }
  }
  pq->by_rtt = pq->query.rank == RankBy::kRtt || (pq->query.rank == RankBy::kMix && pq->query.weights.rtt > 0);
  return pq;
}

CoordLookup coord_lookup_over(std::span<const StoredAdvert* const> live) {
  return [live](const std::string& server) -> std::optional<AdvertCoord> {
    for (const StoredAdvert* s : live) {
      if (s != nullptr && s->advert.server == server) return s->advert.coord;
    }
    return std::nullopt;
  };
}

bool matches(const PreparedQuery& pq, const StoredAdvert& s, TimeMs now) {
  if (s.expires_at <= now) return false;
  const Facts f = facts_of(pq, s);
  return priced(f) && rank_ok(pq, f) && holds(pq, 0, f);
}

Quote run_query(const PreparedQuery& pq, std::span<const StoredAdvert* const> adverts, TimeMs now) {
  const Query& q = pq.query;
  Quote out;
  out.duration_ms = q.duration_ms;
  out.explained = q.explain;
  std::vector<const StoredAdvert*> order;
  order.reserve(adverts.size());
  for (const StoredAdvert* s : adverts) {
    if (s != nullptr && s->expires_at > now) order.push_back(s);
  }
  auto by_server = [](const StoredAdvert* a, const StoredAdvert* b) { return a->advert.server < b->advert.server; };
  if (q.explain && !std::is_sorted(order.begin(), order.end(), by_server)) {
    std::sort(order.begin(), order.end(), by_server);  // examples are the lowest server ids
  }
  std::vector<Match> ms;
  // By node index; the implicit "reservation" and "rank" after the nodes.
  std::vector<RemovedBy> removed(q.explain ? pq.nodes.size() + 2 : 0);
  const size_t kReservation = pq.nodes.size();
  const size_t kRank = pq.nodes.size() + 1;
  std::vector<char> v;
  std::vector<int> blamed;
  std::vector<const StoredAdvert*> failing;  // explain: those relaxing one predicate may admit
  for (const StoredAdvert* s : order) {
    Facts f = facts_of(pq, *s);
    if (!q.explain) {
      if (priced(f) && rank_ok(pq, f) && holds(pq, 0, f)) ms.push_back(Match{std::move(f)});
      continue;
    }
    eval_all(pq, f, &v);
    const bool p_ok = priced(f);
    const bool r_ok = rank_ok(pq, f);
    if (v[0] != 0 && p_ok && r_ok) {
      ms.push_back(Match{std::move(f)});
      continue;
    }
    if (!p_ok) {
      note(
          &removed[kReservation], "reservation",
          [] { return std::string("the price of the reservation can be computed"); }, f,
          [&] { return "price cannot be computed: " + f.price_error; });
    }
    if (!r_ok) {
      note(
          &removed[kRank], "rank",
          [] { return std::string("a network coordinate of the reference's dimensions (to rank by RTT)"); }, f,
          [&] {
            return std::string(s->advert.coord ? "network coordinate of other dimensions" : "no network coordinate");
          });
    }
    if (v[0] == 0) {
      blamed.clear();
      blame(pq, 0, v, &blamed);
      for (int i : blamed) {
        const Node& n = pq.nodes[static_cast<size_t>(i)];
        note(
            &removed[static_cast<size_t>(i)], n.path, [&] { return compact(*n.p); }, f,
            [&] { return why_failed(n, f); });
      }
    }
    if (p_ok && r_ok) failing.push_back(s);
  }
  rank_keys(pq, &ms);
  std::sort(ms.begin(), ms.end(), match_less);
  SpreadState spread(q.spread);
  size_t i = 0;
  for (; i < ms.size() && static_cast<int64_t>(out.chosen.size()) < q.count; ++i) {
    if (!spread.admit(ms[i].f.s->advert, ms[i].f.s->owner)) {
      ++out.spread_removed;
      continue;
    }
    add_chosen(&out, ms[i].f);
  }
  out.ranked_out = static_cast<int64_t>(ms.size() - i);
  if (!q.explain) return out;
  out.live = static_cast<int64_t>(order.size());
  out.matched = static_cast<int64_t>(ms.size());
  // In the tree's pre-order, then the implicit ones.
  for (RemovedBy& r : removed) {
    if (r.count > 0) out.removed.push_back(std::move(r));
  }
  if (static_cast<int64_t>(out.chosen.size()) < q.count) {
    std::vector<Target> targets = relaxation_targets(pq);
    if (!targets.empty()) relax(pq, failing, targets, out.matched, &out);
  }
  return out;
}

bool can_run_ordered(const PreparedQuery& pq) {
  return !pq.query.explain && (pq.query.rank == RankBy::kDistance || pq.query.rank == RankBy::kRtt);
}

Quote run_query_ordered(const PreparedQuery& pq, const OrderedVisit& visit, TimeMs now) {
  const Query& q = pq.query;
  Quote out;
  out.duration_ms = q.duration_ms;
  SpreadState spread(q.spread);
  std::vector<const StoredAdvert*> group;
  double group_key = -1;
  bool done = false;
  auto flush = [&] {
    std::sort(group.begin(), group.end(),
              [](const StoredAdvert* a, const StoredAdvert* b) { return a->advert.server < b->advert.server; });
    for (const StoredAdvert* s : group) {
      if (done) {
        ++out.ranked_out;
        continue;
      }
      if (s->expires_at <= now) continue;
      const Facts f = facts_of(pq, *s);
      if (!(priced(f) && rank_ok(pq, f) && holds(pq, 0, f))) continue;
      if (!spread.admit(s->advert, s->owner)) {
        ++out.spread_removed;
        continue;
      }
      add_chosen(&out, f);
      if (static_cast<int64_t>(out.chosen.size()) >= q.count) done = true;
    }
    group.clear();
  };
  visit([&](const StoredAdvert& s, double key) {
    if (!group.empty() && key != group_key) {
      flush();
      if (done) return false;
    }
    group_key = key;
    group.push_back(&s);
    return true;
  });
  flush();
  return out;
}

void visit_sorted_geo(std::span<const StoredAdvert* const> adverts, GeoPoint p, TimeMs now, const OrderedFn& fn) {
  std::vector<std::pair<double, const StoredAdvert*>> v;
  v.reserve(adverts.size());
  for (const StoredAdvert* s : adverts) {
    if (s != nullptr && s->expires_at > now) v.emplace_back(distance_km(p, s->advert.location), s);
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->advert.server < b.second->advert.server;
  });
  for (const auto& [km, s] : v) {
    if (!fn(*s, km)) return;
  }
}

void visit_sorted_rtt(std::span<const StoredAdvert* const> adverts, const Coordinate& c, TimeMs now,
                      const OrderedFn& fn) {
  std::vector<std::pair<double, const StoredAdvert*>> v;
  v.reserve(adverts.size());
  for (const StoredAdvert* s : adverts) {
    if (s == nullptr || s->expires_at <= now) continue;
    if (auto ms = rtt_to(c, s->advert)) v.emplace_back(*ms, s);
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->advert.server < b.second->advert.server;
  });
  for (const auto& [ms, s] : v) {
    if (!fn(*s, ms)) return;
  }
}

}  // namespace xop
