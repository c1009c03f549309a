#include "proto/search.h"

namespace xop {

Json to_json(const SearchQuery& q) {
  Json j{{"min", to_json(q.min)}, {"count", q.count}};
  if (q.max_price_per_hour) j["max_price_per_hour"] = q.max_price_per_hour->micros();
  if (q.near) j["near"] = to_json(*q.near);
  if (q.sandbox) j["sandbox"] = *q.sandbox;
  return j;
}

Result<SearchQuery> search_query_from_json(const Json& j) {
  JsonReader r(j, "query");
  SearchQuery q;
  const Json* min = r.opt_object("min");
  auto price = r.opt_i64("max_price_per_hour", 0);
  const Json* near = r.opt_object("near");
  q.count = r.opt_i64("count", 1, 1000).value_or(10);
  q.sandbox = r.opt_str("sandbox", 32);
  XOP_RETURN_IF_ERROR(r.finish());
  if (min != nullptr) {
    XOP_ASSIGN_OR_RETURN(q.min, resources_from_json(*min, "query.min"));
  }
  if (price) q.max_price_per_hour = Money::micros(*price);
  if (near != nullptr) {
    XOP_ASSIGN_OR_RETURN(auto g, geo_from_json(*near, "query.near"));
    q.near = g;
  }
  return q;
}

Json to_json(const SearchResult& r) {
  Json c = Json::array();
  for (const auto& x : r.candidates) {
    c.push_back(Json{{"advert", x.advert_doc.to_json()},
                     {"distance_km", x.distance_km},
                     {"price_per_hour", x.price_per_hour.micros()}});
  }
  Json rej = Json::array();
  for (const auto& x : r.rejected) rej.push_back(Json{{"server", x.server}, {"name", x.name}, {"reason", x.reason}});
  return Json{{"candidates", std::move(c)}, {"rejected", std::move(rej)}};
}

Result<SearchResult> search_result_from_json(const Json& j) {
  JsonReader r(j, "search_result");
  const Json& cands = r.array("candidates", 1000);
  const Json& rej = r.array("rejected", 100000);
  XOP_RETURN_IF_ERROR(r.finish());
  SearchResult out;
  for (const auto& c : cands) {
    JsonReader cr(c, "candidate");
    const Json& adv = cr.object("advert");
    const double d = cr.number("distance_km", 0, 1e6);
    const int64_t price = cr.i64("price_per_hour", 0);
    XOP_RETURN_IF_ERROR(cr.finish());
    Candidate cand;
    XOP_ASSIGN_OR_RETURN(cand.advert_doc, SignedDoc::from_json(adv, kAdvertType));
    XOP_ASSIGN_OR_RETURN(cand.advert, verify_advert(cand.advert_doc));
    cand.distance_km = d;
    cand.price_per_hour = Money::micros(price);
    out.candidates.push_back(std::move(cand));
  }
  for (const auto& x : rej) {
    JsonReader xr(x, "rejection");
    Rejection rj;
    rj.server = xr.str("server", 64);
    rj.name = xr.str("name", 128);
    rj.reason = xr.str("reason", 512);
    XOP_RETURN_IF_ERROR(xr.finish());
    out.rejected.push_back(std::move(rj));
  }
  return out;
}

}  // namespace xop
