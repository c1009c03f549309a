#include "proto/xis_query.h"

#include <fmt/format.h>

#include <cmath>

#include "proto/doc_fields.h"

namespace xop {
namespace {

using Kind = Predicate::Kind;

constexpr std::pair<RateName, const char*> kRateNames[] = {
    {RateName::kCpuReserve, "cpu_reserve_per_core_hour"},
    {RateName::kMemoryReserve, "memory_reserve_per_gib_hour"},
    {RateName::kDiskReserve, "disk_reserve_per_gib_hour"},
    {RateName::kNetReserve, "net_reserve_per_mbps_hour"},
    {RateName::kCpuUse, "cpu_use_per_core_hour"},
    {RateName::kMemoryUse, "memory_use_per_gib_hour"},
    {RateName::kDiskIo, "disk_io_per_gib"},
    {RateName::kNetIo, "net_io_per_gib"},
};

const Schema<RttFrom>& rtt_from_schema() {
  static const auto s =
      Schema<RttFrom>("rtt_from")
          .opt_object("coord", &RttFrom::coord, advert_coord_schema())
          .opt_str("server", &RttFrom::server, 64)
          .check([](const RttFrom& f) {
            return f.coord.has_value() == f.server.has_value() ? ": give exactly one of coord and server" : "";
          })
          .check([](const RttFrom& f) {
            return f.server && !is_account_id(*f.server) ? ".server: not an account id" : "";
          });
  return s;
}

struct Budget {
  size_t nodes = 0;
};

Result<Predicate> decode_predicate(const Json& j, const std::string& where, int depth, Budget& b);

Status decode_children(JsonReader& r, const char* k, const std::string& where, int depth, Budget& b,
                       std::vector<Predicate>* out) {
  const Json& arr = r.array(k, kMaxQueryNodes);
  XOP_RETURN_IF_ERROR(r.finish());
  for (size_t i = 0; i < arr.size(); ++i) {
    XOP_ASSIGN_OR_RETURN(auto c, decode_predicate(arr[i], fmt::format("{}.{}[{}]", where, k, i), depth + 1, b));
    out->push_back(std::move(c));
  }
  return {};
}

// One predicate: a JSON object with exactly one key naming its kind.
Result<Predicate> decode_predicate(const Json& j, const std::string& where, int depth, Budget& b) {
  if (depth > kMaxQueryDepth) return invalid(fmt::format("{}: nested deeper than {} levels", where, kMaxQueryDepth));
  if (++b.nodes > kMaxQueryNodes) return invalid(fmt::format("{}: more than {} predicates", where, kMaxQueryNodes));
  if (!j.is_object() || j.size() != 1) {
    return invalid(where +
                   ": a predicate is an object with exactly one key (all, any, not, free, "
                   "max_price_per_hour_micros, max_total_price_micros, max_rate, sandbox, country, region, "
                   "within_km, within_ms, min_reputation, image, min_free_ports)");
  }
  const std::string key = j.begin().key();
  const Json& v = j.begin().value();
  const char* k = key.c_str();
  JsonReader r(j, where);
  Predicate p;
  if (key == "all" || key == "any") {
    p.kind = key == "all" ? Kind::kAll : Kind::kAny;
    XOP_RETURN_IF_ERROR(decode_children(r, k, where, depth, b, &p.children));
    return p;
  }
  if (key == "not") {
    p.kind = Kind::kNot;
    r.object(k);
    XOP_RETURN_IF_ERROR(r.finish());
    XOP_ASSIGN_OR_RETURN(auto c, decode_predicate(v, where + ".not", depth + 1, b));
    p.children.push_back(std::move(c));
    return p;
  }
  if (key == "free") {
    p.kind = Kind::kFree;
    r.object(k);
    XOP_RETURN_IF_ERROR(r.finish());
    XOP_ASSIGN_OR_RETURN(p.free, resources_from_json(v, where + ".free"));
    return p;
  }
  if (key == "max_price_per_hour_micros" || key == "max_total_price_micros") {
    p.kind = key == "max_total_price_micros" ? Kind::kMaxTotalPrice : Kind::kMaxPricePerHour;
    p.micros = r.i64(k, 0, int64_t{1} << 60);
  } else if (key == "max_rate") {
    p.kind = Kind::kRateCeiling;
    const Json& o = r.object(k);
    XOP_RETURN_IF_ERROR(r.finish());
    JsonReader sub(o, where + ".max_rate");
    const std::string name = sub.str("rate", 64);
    p.micros = sub.i64("micros", 0, kMaxRate);
    XOP_RETURN_IF_ERROR(sub.finish());
    bool found = false;
    std::string names;
    for (const auto& [n, s] : kRateNames) {
      names += std::string(names.empty() ? "" : ", ") + s;
      if (name == s) {
        p.rate = n;
        found = true;
      }
    }
    if (!found) return invalid(where + ".max_rate.rate: must be one of " + names);
    return p;
  } else if (key == "sandbox" || key == "image") {
    p.kind = key == "sandbox" ? Kind::kSandbox : Kind::kImage;
    p.text = r.str(k, key == "sandbox" ? 32 : 80);
  } else if (key == "country") {
    p.kind = Kind::kCountry;
    p.texts.push_back(r.str(k, 2));
    XOP_RETURN_IF_ERROR(r.finish());
    if (!is_country_code(p.texts[0])) return invalid(where + ".country: not an ISO 3166-1 alpha-2 code");
    return p;
  } else if (key == "region") {
    p.kind = Kind::kCountry;
    p.texts = r.str_array(k, kMaxRegionCountries, 2);
    XOP_RETURN_IF_ERROR(r.finish());
    if (p.texts.empty()) return invalid(where + ".region: at least one country");
    for (size_t i = 0; i < p.texts.size(); ++i) {
      if (!is_country_code(p.texts[i])) {
        return invalid(fmt::format("{}.region[{}]: not an ISO 3166-1 alpha-2 code", where, i));
      }
    }
    return p;
  } else if (key == "within_km") {
    p.kind = Kind::kWithinKm;
    if (v.is_object()) {
      r.object(k);
      XOP_RETURN_IF_ERROR(r.finish());
      JsonReader sub(v, where + ".within_km");
      p.number = sub.number("km", 0, kMaxQueryKm);
      const Json* of = sub.opt_object("of");
      XOP_RETURN_IF_ERROR(sub.finish());
      if (of != nullptr) {
        XOP_ASSIGN_OR_RETURN(p.point, geo_from_json(*of, where + ".within_km.of"));
      }
      return p;
    }
    p.number = r.number(k, 0, kMaxQueryKm);
  } else if (key == "within_ms") {
    p.kind = Kind::kWithinMs;
    if (v.is_object()) {
      r.object(k);
      XOP_RETURN_IF_ERROR(r.finish());
      JsonReader sub(v, where + ".within_ms");
      p.number = sub.number("ms", 0, kMaxQueryMs);
      const Json* from = sub.opt_object("from");
      XOP_RETURN_IF_ERROR(sub.finish());
      if (from != nullptr) {
        XOP_ASSIGN_OR_RETURN(p.from, rtt_from_schema().decode(*from, where + ".within_ms.from"));
      }
      return p;
    }
    p.number = r.number(k, 0, kMaxQueryMs);
  } else if (key == "min_reputation") {
    p.kind = Kind::kMinReputation;
    p.number = r.number(k, 0, 1);
  } else if (key == "min_free_ports") {
    p.kind = Kind::kMinFreePorts;
    p.integer = r.i64(k, 0, 65'535);
  } else {
    r.fail(key, "unknown predicate");
  }
  XOP_RETURN_IF_ERROR(r.finish());
  return p;
}

// A weights object: any of price, distance, rtt, reputation, each a finite number in [0, 1000].
Result<RankWeights> weights_from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) return invalid(where + ": expected an object");
  RankWeights w;
  JsonReader r(j, where);
  w.price = j.contains("price") ? r.number("price", 0, 1000) : 0;
  w.distance = j.contains("distance") ? r.number("distance", 0, 1000) : 0;
  w.rtt = j.contains("rtt") ? r.number("rtt", 0, 1000) : 0;
  w.reputation = j.contains("reputation") ? r.number("reputation", 0, 1000) : 0;
  XOP_RETURN_IF_ERROR(r.finish());
  if (w.price + w.distance + w.rtt + w.reputation <= 0) return invalid(where + ": at least one weight above 0");
  return w;
}

Json weights_json(const RankWeights& w) {
  Json j = Json::object();
  if (w.price != 0) j["price"] = w.price;
  if (w.distance != 0) j["distance"] = w.distance;
  if (w.rtt != 0) j["rtt"] = w.rtt;
  if (w.reputation != 0) j["reputation"] = w.reputation;
  return j;
}

Result<Spread> spread_from_json(const Json& j, const std::string& where) {
  Spread s;
  JsonReader r(j, where);
  s.max_per_owner = r.opt_i64("max_per_owner", 1, kMaxQueryCount);
  s.max_per_country = r.opt_i64("max_per_country", 1, kMaxQueryCount);
  if (j.contains("min_km") && !j["min_km"].is_null()) s.min_km = r.number("min_km", 0, kMaxQueryKm);
  XOP_RETURN_IF_ERROR(r.finish());
  return s;
}

Json spread_json(const Spread& s) {
  Json j = Json::object();
  if (s.max_per_owner) j["max_per_owner"] = *s.max_per_owner;
  if (s.max_per_country) j["max_per_country"] = *s.max_per_country;
  if (s.min_km) j["min_km"] = *s.min_km;
  return j;
}

// Which references the tree needs from the query itself (a within_km without "of", a within_ms
// without "from").
void needs(const Predicate& p, bool* near, bool* rtt) {
  if (p.kind == Kind::kWithinKm && !p.point) *near = true;
  if (p.kind == Kind::kWithinMs && !p.from) *rtt = true;
  for (const auto& c : p.children) needs(c, near, rtt);
}

const Schema<Query>& query_schema() {
  static const auto s =
      Schema<Query>("query")
          .custom(
              "where", [](const Query& q) { return to_json(q.where); },
              [](JsonReader& r, Query& q, const char* k) {
                const Json* w = r.opt_object(k);
                if (w == nullptr || !r.ok()) return;
                Budget b;
                auto p = decode_predicate(*w, r.path(k), 1, b);
                if (p) q.where = std::move(*p);
                r.absorb(p.map([](const Predicate&) {}));
              })
          .object_or("reservation", &Query::reservation, resources_schema())
          .i64_or("duration_ms", &Query::duration_ms, 3'600'000, 1, kMaxQueryDurationMs)
          .opt_object("near", &Query::near, geo_schema())
          .opt_object("rtt_from", &Query::rtt_from, rtt_from_schema())
          .custom(
              "rank",
              [](const Query& q) -> Json {
                switch (q.rank) {
                  case RankBy::kPrice:
                    return "price";
                  case RankBy::kDistance:
                    return "distance";
                  case RankBy::kRtt:
                    return "rtt";
                  case RankBy::kReputation:
                    return "reputation";
                  case RankBy::kMix:
                    return "mix";
                }
                return nullptr;
              },
              [](JsonReader& r, Query& q, const char* k) {
                const auto v = r.opt_str(k, 16);
                if (!v || !r.ok()) return;
                if (*v == "price") {
                  q.rank = RankBy::kPrice;
                } else if (*v == "distance") {
                  q.rank = RankBy::kDistance;
                } else if (*v == "rtt") {
                  q.rank = RankBy::kRtt;
                } else if (*v == "reputation") {
                  q.rank = RankBy::kReputation;
                } else if (*v == "mix") {
                  q.rank = RankBy::kMix;
                } else {
                  r.fail(k, "must be one of \"price\", \"distance\", \"rtt\", \"reputation\", \"mix\"");
                }
              })
          .custom_opt(
              "weights",
              [](const Query& q) -> std::optional<Json> {
                if (q.rank != RankBy::kMix) return std::nullopt;
                return weights_json(q.weights);
              },
              [](JsonReader& r, Query& q, const char* k) {
                const Json* w = r.opt_object(k);
                if (w == nullptr || !r.ok()) return;
                auto d = weights_from_json(*w, r.path(k));
                if (d) q.weights = *d;
                r.absorb(d.map([](const RankWeights&) {}));
              })
          .i64_or("count", &Query::count, 1, 1, kMaxQueryCount)
          .custom_opt(
              "spread",
              [](const Query& q) -> std::optional<Json> {
                if (q.spread == Spread{}) return std::nullopt;
                return spread_json(q.spread);
              },
              [](JsonReader& r, Query& q, const char* k) {
                const Json* w = r.opt_object(k);
                if (w == nullptr || !r.ok()) return;
                auto d = spread_from_json(*w, r.path(k));
                if (d) q.spread = *d;
                r.absorb(d.map([](const Spread&) {}));
              })
          .boolean_or("explain", &Query::explain, true)
          .check([](const Query& q) {
            return q.rank == RankBy::kDistance && !q.near ? ".rank: \"distance\" needs near" : "";
          })
          .check([](const Query& q) {
            return q.rank == RankBy::kRtt && !q.rtt_from ? ".rank: \"rtt\" needs rtt_from" : "";
          })
          .check([](const Query& q) -> std::string {
            if (q.rank != RankBy::kMix) return q.weights == RankWeights{} ? "" : ".weights: only with rank \"mix\"";
            if (q.weights == RankWeights{}) return ".weights: rank \"mix\" needs weights";
            if (q.weights.distance > 0 && !q.near) return ".weights.distance: needs near";
            if (q.weights.rtt > 0 && !q.rtt_from) return ".weights.rtt: needs rtt_from";
            return "";
          })
          .check([](const Query& q) -> std::string {
            bool near = false;
            bool rtt = false;
            needs(q.where, &near, &rtt);
            if (near && !q.near) return ".where: a within_km without \"of\" needs the query's near";
            if (rtt && !q.rtt_from) return ".where: a within_ms without \"from\" needs the query's rtt_from";
            return "";
          });
  return s;
}

// ---- Quote ----

const Schema<QuotedServer>& quoted_server_schema() {
  static const auto s =
      Schema<QuotedServer>("server")
          .object_with<SignedDoc>("advert", &QuotedServer::advert_doc, signed_doc_json, signed_doc_of(kAdvertType))
          .money("price_per_hour_micros", &QuotedServer::price_per_hour, 0)
          .money("total_price_micros", &QuotedServer::total_price, 0)
          .custom_opt(
              "distance_m",
              [](const QuotedServer& q) -> std::optional<Json> {
                if (!q.distance_km) return std::nullopt;
                return Json(std::llround(*q.distance_km * 1000));
              },
              [](JsonReader& r, QuotedServer& q, const char* k) {
                auto m = r.opt_i64(k, 0, 30'000'000);
                if (m) q.distance_km = static_cast<double>(*m) / 1000;
              })
          .opt_i64("est_rtt_us", &QuotedServer::est_rtt_us, 0, int64_t{1} << 40)
          .verify([](QuotedServer& q) -> Status {
            XOP_ASSIGN_OR_RETURN(q.advert, verify_advert(q.advert_doc));
            return {};
          });
  return s;
}

const Schema<RemovedExample>& removed_example_schema() {
  static const auto s = Schema<RemovedExample>("example")
                            .str("server", &RemovedExample::server, 64)
                            .str("name", &RemovedExample::name, 128)
                            .str("why", &RemovedExample::why, 512);
  return s;
}

const Schema<RemovedBy>& removed_by_schema() {
  static const auto s = Schema<RemovedBy>("removed")
                            .str("predicate", &RemovedBy::predicate, 512)
                            .str("text", &RemovedBy::text, 256)
                            .i64("count", &RemovedBy::count, 0)
                            .array("examples", &RemovedBy::examples, removed_example_schema(), kMaxQueryExamples);
  return s;
}

const Schema<Relaxation>& relaxation_schema() {
  static const auto s = Schema<Relaxation>("relaxation")
                            .str("predicate", &Relaxation::predicate, 512)
                            .str("text", &Relaxation::text, 256)
                            .f64("from", &Relaxation::from, -1e18, 1e18)
                            .f64("to", &Relaxation::to, -1e18, 1e18)
                            .str("unit", &Relaxation::unit, 32)
                            .i64("would_match", &Relaxation::would_match, 0);
  return s;
}

const Schema<Quote>& quote_schema() {
  static const auto s =
      Schema<Quote>("quote")
          .array("chosen", &Quote::chosen, quoted_server_schema(), static_cast<size_t>(kMaxQueryCount))
          .money("total_price_micros", &Quote::total_price, 0)
          .i64("duration_ms", &Quote::duration_ms, 0, kMaxQueryDurationMs)
          .boolean("explained", &Quote::explained)
          .i64("live", &Quote::live, 0)
          .i64("matched", &Quote::matched, 0)
          // kMaxQueryNodes predicates and the implicit "reservation" and "rank".
          .array("removed", &Quote::removed, removed_by_schema(), kMaxQueryNodes + 2)
          .i64("ranked_out", &Quote::ranked_out, 0)
          .i64("spread_removed", &Quote::spread_removed, 0)
          .array("relaxations", &Quote::relaxations, relaxation_schema(), kMaxRelaxations);
  return s;
}

}  // namespace

int64_t rate_of(const Rates& r, RateName n) {
  switch (n) {
    case RateName::kCpuReserve:
      return r.cpu_reserve_per_core_hour;
    case RateName::kMemoryReserve:
      return r.memory_reserve_per_gib_hour;
    case RateName::kDiskReserve:
      return r.disk_reserve_per_gib_hour;
    case RateName::kNetReserve:
      return r.net_reserve_per_mbps_hour;
    case RateName::kCpuUse:
      return r.cpu_use_per_core_hour;
    case RateName::kMemoryUse:
      return r.memory_use_per_gib_hour;
    case RateName::kDiskIo:
      return r.disk_io_per_gib;
    case RateName::kNetIo:
      return r.net_io_per_gib;
  }
  return 0;
}

const char* rate_key(RateName n) {
  for (const auto& [r, s] : kRateNames) {
    if (r == n) return s;
  }
  return "";
}

Json to_json(const Predicate& p) {
  auto children = [&] {
    Json arr = Json::array();
    for (const auto& c : p.children) arr.push_back(to_json(c));
    return arr;
  };
  switch (p.kind) {
    case Kind::kAll:
      return Json{{"all", children()}};
    case Kind::kAny:
      return Json{{"any", children()}};
    case Kind::kNot:
      return Json{{"not", p.children.empty() ? Json::object() : to_json(p.children[0])}};
    case Kind::kFree:
      return Json{{"free", to_json(p.free)}};
    case Kind::kMaxPricePerHour:
      return Json{{"max_price_per_hour_micros", p.micros}};
    case Kind::kMaxTotalPrice:
      return Json{{"max_total_price_micros", p.micros}};
    case Kind::kRateCeiling:
      return Json{{"max_rate", Json{{"rate", rate_key(p.rate)}, {"micros", p.micros}}}};
    case Kind::kSandbox:
      return Json{{"sandbox", p.text}};
    case Kind::kImage:
      return Json{{"image", p.text}};
    case Kind::kCountry:
      if (p.texts.size() == 1) return Json{{"country", p.texts[0]}};
      return Json{{"region", p.texts}};
    case Kind::kWithinKm:
      if (!p.point) return Json{{"within_km", p.number}};
      return Json{{"within_km", Json{{"km", p.number}, {"of", to_json(*p.point)}}}};
    case Kind::kWithinMs:
      if (!p.from) return Json{{"within_ms", p.number}};
      return Json{{"within_ms", Json{{"ms", p.number}, {"from", rtt_from_schema().encode(*p.from)}}}};
    case Kind::kMinReputation:
      return Json{{"min_reputation", p.number}};
    case Kind::kMinFreePorts:
      return Json{{"min_free_ports", p.integer}};
  }
  return Json::object();
}

Result<Query> query_from_json(const Json& j) { return query_schema().decode(j); }
Json to_json(const Query& q) { return query_schema().encode(q); }

Result<Query> decode_query_body(std::string_view body) {
  if (body.size() > kMaxQueryBody) {
    return make_error(ErrorCode::kPayloadTooLarge, "query body larger than " + std::to_string(kMaxQueryBody));
  }
  // A predicate costs up to two JSON levels (an object and an all/any array).
  XOP_ASSIGN_OR_RETURN(auto j, parse_json(body, 2 * kMaxQueryDepth + 8));
  return query_from_json(j);
}

Json to_json(const Quote& q) { return quote_schema().encode(q); }
Result<Quote> quote_from_json(const Json& j) { return quote_schema().decode(j); }

}  // namespace xop
