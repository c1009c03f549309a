#include "proto/xis_bodies.h"

#include "crypto/keys.h"
#include "proto/doc_fields.h"

namespace xop {
namespace {

// {"advert": <SignedDoc of type "advert">}.
struct AdvertBody {
  SignedDoc advert;
};
const Schema<AdvertBody>& advert_body_schema() {
  static const auto s = Schema<AdvertBody>("body").object_with<SignedDoc>("advert", &AdvertBody::advert,
                                                                          signed_doc_json, signed_doc_of(kAdvertType));
  return s;
}

struct SharedBody {
  SignedDoc advert;
  std::string owner;
};
const Schema<SharedBody>& shared_body_schema() {
  static const auto s =
      Schema<SharedBody>("shared advert")
          .object_with<SignedDoc>("advert", &SharedBody::advert, signed_doc_json, signed_doc_of(kAdvertType))
          .str("owner", &SharedBody::owner, 64)
          .check([](const SharedBody& b) -> std::string {
            return b.owner.empty() || is_account_id(b.owner) ? "" : "owner is not an account id";
          });
  return s;
}

}  // namespace

Result<SharedAdvert> decode_shared_advert(std::string_view body) {
  if (body.size() > kMaxSharedAdvertBody) {
    return make_error(ErrorCode::kPayloadTooLarge,
                      "shared advert larger than " + std::to_string(kMaxSharedAdvertBody) + " bytes");
  }
  XOP_ASSIGN_OR_RETURN(auto j, parse_json(body));
  XOP_ASSIGN_OR_RETURN(auto b, shared_body_schema().decode(j));
  SharedAdvert out;
  XOP_ASSIGN_OR_RETURN(out.submission, verify_advert_submission(b.advert));
  out.owner = std::move(b.owner);
  return out;
}

std::string encode_shared_advert(const SignedDoc& doc, const std::string& owner) {
  return shared_body_schema().encode(SharedBody{doc, owner}).dump();
}

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
  XOP_ASSIGN_OR_RETURN(auto b, advert_body_schema().decode(j));
  return verify_advert_submission(b.advert);
}

Result<SearchQuery> decode_search_body(std::string_view body) {
  if (body.size() > kMaxSearchBody) {
    return make_error(ErrorCode::kPayloadTooLarge, "search body larger than " + std::to_string(kMaxSearchBody));
  }
  XOP_ASSIGN_OR_RETURN(auto j, parse_json(body));
  return search_query_from_json(j);
}

}  // namespace xop
