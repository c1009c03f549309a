#include "proto/xis_bodies.h"

namespace xop {

Result<AdvertSubmission> verify_advert_submission(const SignedDoc& doc) {
  AdvertSubmission s;
  XOP_ASSIGN_OR_RETURN(s.advert, verify_advert(doc));
  XOP_ASSIGN_OR_RETURN(s.price_sheet, price_sheet_from_json(s.advert.price_sheet.body));
  s.doc = doc;
  return s;
}

Result<AdvertSubmission> decode_advert_body(std::string_view body) {
  if (body.size() > kMaxAdvertBody) {
    return make_error(ErrorCode::kPayloadTooLarge, "advert body larger than " + std::to_string(kMaxAdvertBody));
  }
  XOP_ASSIGN_OR_RETURN(auto j, parse_json(body));
  JsonReader r(j, "body");
  const Json& adv = r.object("advert");
  XOP_RETURN_IF_ERROR(r.finish());
  XOP_ASSIGN_OR_RETURN(auto doc, SignedDoc::from_json(adv, kAdvertType));
  return verify_advert_submission(doc);
}

Result<SearchQuery> decode_search_body(std::string_view body) {
  if (body.size() > kMaxSearchBody) {
    return make_error(ErrorCode::kPayloadTooLarge, "search body larger than " + std::to_string(kMaxSearchBody));
  }
  XOP_ASSIGN_OR_RETURN(auto j, parse_json(body));
  return search_query_from_json(j);
}

}  // namespace xop
