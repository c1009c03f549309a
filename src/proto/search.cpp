#include "proto/search.h"

#include "proto/doc_fields.h"

namespace xop {

const Schema<SearchQuery>& search_query_schema() {
  static const auto s =
      Schema<SearchQuery>("query")
          .object_or("min", &SearchQuery::min, resources_schema())
          .opt_money("max_price_per_hour_micros", &SearchQuery::max_price_per_hour, 0)
          .opt_object("near", &SearchQuery::near, geo_schema())
          .i64_or("count", &SearchQuery::count, 10, 1, 1000)
          .opt_str("sandbox", &SearchQuery::sandbox, 32)
          .opt_object("rtt_from_coord", &SearchQuery::rtt_from_coord, advert_coord_schema())
          .opt_str("rtt_from_server", &SearchQuery::rtt_from_server, 64)
          .opt_i64("within_ms", &SearchQuery::within_ms, 1, kMaxWithinMs)
          .check([](const SearchQuery& q) {
            return q.rtt_from_coord && q.rtt_from_server ? ": give rtt_from_coord or rtt_from_server, not both" : "";
          })
          .check([](const SearchQuery& q) {
            return q.within_ms && !q.rtt_from_coord && !q.rtt_from_server
                       ? ".within_ms: needs rtt_from_coord or rtt_from_server"
                       : "";
          })
          .check([](const SearchQuery& q) {
            return q.rtt_from_server && !is_account_id(*q.rtt_from_server) ? ".rtt_from_server: not an account id" : "";
          });
  return s;
}

const Schema<Candidate>& candidate_schema() {
  static const auto s =
      Schema<Candidate>("candidate")
          .object_with<SignedDoc>("advert", &Candidate::advert_doc, signed_doc_json, signed_doc_of(kAdvertType))
          .f64("distance_km", &Candidate::distance_km, 0, 1e6)
          .money("price_per_hour_micros", &Candidate::price_per_hour, 0)
          .opt_i64("est_rtt_us", &Candidate::est_rtt_us, 0, kMaxWithinMs * 1000 * 100)
          .verify([](Candidate& c) -> Status {
            XOP_ASSIGN_OR_RETURN(c.advert, verify_advert(c.advert_doc));
            return {};
          });
  return s;
}

const Schema<Rejection>& rejection_schema() {
  static const auto s = Schema<Rejection>("rejection")
                            .str("server", &Rejection::server, 64)
                            .str("name", &Rejection::name, 128)
                            .str("reason", &Rejection::reason, 512);
  return s;
}

const Schema<SearchResult>& search_result_schema() {
  static const auto s = Schema<SearchResult>("search_result")
                            .array("candidates", &SearchResult::candidates, candidate_schema(), 1000)
                            .array("rejected", &SearchResult::rejected, rejection_schema(), 100000);
  return s;
}

Json to_json(const SearchQuery& q) { return search_query_schema().encode(q); }
Result<SearchQuery> search_query_from_json(const Json& j) { return search_query_schema().decode(j); }
Json to_json(const SearchResult& r) { return search_result_schema().encode(r); }
Result<SearchResult> search_result_from_json(const Json& j) { return search_result_schema().decode(j); }

}  // namespace xop
