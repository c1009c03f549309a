#include "xis/ranking.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "proto/charge.h"

namespace xop {
namespace {

// Appends "needs N <field>, M free" for every component of `need` that `free` does not cover.
void resource_shortfalls(const Resources& need, const Resources& free, std::string* out) {
  auto check = [&](int64_t n, int64_t f, const char* field) {
    if (n <= f) return;
    if (!out->empty()) out->append("; ");
    out->append(fmt::format("needs {} {}, {} free", n, field, f));
  };
  check(need.cpu_millis, free.cpu_millis, "cpu_millis");
  check(need.memory_bytes, free.memory_bytes, "memory_bytes");
  check(need.disk_bytes, free.disk_bytes, "disk_bytes");
  check(need.net_bps, free.net_bps, "net_bps");
}

void add_reason(std::string* out, std::string_view reason) {
  if (!out->empty()) out->append("; ");
  out->append(reason);
}

struct Ranked {
  double rtt_ms;  // estimated; 0 when the query names no RTT reference
  double distance_km;
  int64_t price_micros;
  const StoredAdvert* stored;
};

bool rank_less(const Ranked& a, const Ranked& b) {
  return std::tie(a.rtt_ms, a.distance_km, a.price_micros, a.stored->advert.server) <
         std::tie(b.rtt_ms, b.distance_km, b.price_micros, b.stored->advert.server);
}

void sort_by_server(std::vector<Rejection>* v) {
  auto by_server = [](const Rejection& a, const Rejection& b) { return a.server < b.server; };
  if (!std::is_sorted(v->begin(), v->end(), by_server)) std::sort(v->begin(), v->end(), by_server);
}

// The query's RTT reference: its own coordinate, or the coordinate of the live advert of the
// server it names. Sets *problem (the rejection reason for every server) when that has none.
std::optional<Coordinate> rtt_reference(std::span<const StoredAdvert* const> adverts, const SearchQuery& q, TimeMs now,
                                        std::string* problem) {
  if (q.rtt_from_coord) {
    Coordinate c = coordinate_of(*q.rtt_from_coord);
    if (auto ok = validate_coordinate(c); !ok) {
      *problem = "reference coordinate refused: " + ok.error().message;
      return std::nullopt;
    }
    return c;
  }
  if (!q.rtt_from_server) return std::nullopt;
  for (const StoredAdvert* s : adverts) {
    if (s == nullptr || s->expires_at <= now || s->advert.server != *q.rtt_from_server) continue;
    if (!s->advert.coord) {
      *problem = "reference server " + *q.rtt_from_server + " advertises no network coordinate";
      return std::nullopt;
    }
    return coordinate_of(*s->advert.coord);
  }
  *problem = "reference server " + *q.rtt_from_server + " has no live advert";
  return std::nullopt;
}

}  // namespace

SearchResult rank_adverts(std::span<const StoredAdvert* const> adverts, const SearchQuery& q, TimeMs now) {
  SearchResult out;
  const bool by_rtt = q.rtt_from_coord.has_value() || q.rtt_from_server.has_value();
  std::string ref_problem;
  const std::optional<Coordinate> ref = rtt_reference(adverts, q, now, &ref_problem);
  std::vector<Ranked> ok;
  ok.reserve(adverts.size());
  for (const StoredAdvert* s : adverts) {
    if (s == nullptr || s->expires_at <= now) continue;
    const Advert& a = s->advert;
    std::string reason;
    resource_shortfalls(q.min, a.free, &reason);
    if (q.sandbox && std::find(a.sandboxes.begin(), a.sandboxes.end(), *q.sandbox) == a.sandboxes.end()) {
      add_reason(&reason, "no sandbox " + *q.sandbox);
    }
    const auto price = hourly_reservation_price(s->rates, q.min);
    if (!price) {
      add_reason(&reason, "price cannot be computed: " + price.error().message);
    } else if (q.max_price_per_hour && *price > *q.max_price_per_hour) {
      add_reason(&reason,
                 fmt::format("price {}/h above ceiling {}/h", price->to_string(), q.max_price_per_hour->to_string()));
    }
    double rtt = 0;
    if (by_rtt) {
      if (!ref) {
        add_reason(&reason, ref_problem);
      } else if (!a.coord) {
        add_reason(&reason, "advertises no network coordinate (the query ranks by estimated RTT)");
      } else if (a.coord->vec_us.size() != ref->vec.size()) {
        add_reason(&reason, fmt::format("network coordinate has {} dimensions, the reference {}",
                                        a.coord->vec_us.size(), ref->vec.size()));
      } else {
        rtt = estimated_rtt_ms(*ref, coordinate_of(*a.coord));
        if (q.within_ms && rtt > static_cast<double>(*q.within_ms)) {
          add_reason(&reason, fmt::format("estimated RTT {:.1f} ms above {} ms", rtt, *q.within_ms));
        }
      }
    }
    if (!reason.empty()) {
      out.rejected.push_back(Rejection{a.server, a.name, std::move(reason)});
      continue;
    }
    const double d = q.near ? distance_km(*q.near, a.location) : 0.0;
    ok.push_back(Ranked{rtt, d, price->micros(), s});
  }

  const size_t want = q.count <= 0 ? 0 : static_cast<size_t>(q.count);
  const size_t keep = std::min(want, ok.size());
  // Only the kept prefix needs a full order; the rest only needs to be outside it.
  if (keep < ok.size()) {
    std::nth_element(ok.begin(), ok.begin() + static_cast<std::ptrdiff_t>(keep), ok.end(), rank_less);
  }
  std::sort(ok.begin(), ok.begin() + static_cast<std::ptrdiff_t>(keep), rank_less);

  out.candidates.reserve(keep);
  for (size_t i = 0; i < keep; ++i) {
    const Ranked& r = ok[i];
    out.candidates.push_back(Candidate{r.stored->advert, r.stored->doc, r.distance_km, Money::micros(r.price_micros),
                                       by_rtt ? std::optional<int64_t>(std::llround(r.rtt_ms * 1000)) : std::nullopt});
  }
  // Rejections are ordered by server id. Filter rejections come in input order (already sorted
  // when the input is, as the store's is); the cut is sorted on pointers, then the two merged.
  sort_by_server(&out.rejected);
  if (keep == ok.size()) return out;
  std::vector<const StoredAdvert*> cut;
  cut.reserve(ok.size() - keep);
  for (size_t i = keep; i < ok.size(); ++i) cut.push_back(ok[i].stored);
  std::sort(cut.begin(), cut.end(),
            [](const StoredAdvert* a, const StoredAdvert* b) { return a->advert.server < b->advert.server; });
  const std::string reason = fmt::format("not among the {} {}", keep,
                                         by_rtt   ? "lowest estimated RTT"
                                         : q.near ? "nearest"
                                                  : "cheapest");
  std::vector<Rejection> filtered = std::move(out.rejected);
  out.rejected.clear();
  out.rejected.reserve(filtered.size() + cut.size());
  auto f = filtered.begin();
  for (const StoredAdvert* c : cut) {
    while (f != filtered.end() && f->server < c->advert.server) out.rejected.push_back(std::move(*f++));
    out.rejected.push_back(Rejection{c->advert.server, c->advert.name, reason});
  }
  while (f != filtered.end()) out.rejected.push_back(std::move(*f++));
  return out;
}

}  // namespace xop
