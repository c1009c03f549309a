// Decoders of the request bodies XIS accepts from outside. Strict: unknown fields, wrong types
// and out-of-range values are errors (kInvalidArgument), bad signatures kUnauthenticated.
// Never throw, whatever the input.
#pragma once

#include <string_view>

#include "proto/advert.h"
#include "proto/search.h"

namespace xop {

// Largest bodies XIS reads (the HTTP server refuses bigger ones with 413 before reading them).
inline constexpr size_t kMaxAdvertBody = kMaxAdvertBytes;  // proto/advert.h
inline constexpr size_t kMaxSearchBody = size_t{16} * 1024;

// A verified advert together with the signed document it came in.
struct AdvertSubmission {
  SignedDoc doc;
  Advert advert;
  PriceSheet price_sheet;
};

// {"advert": <SignedDoc of type "advert">}: parses, checks the document signature, and
// verify_advert() (signer is the server it names, price sheet signed by the same key).
Result<AdvertSubmission> decode_advert_body(std::string_view body);
// Verifies an already parsed signed advert (the same checks as above).
Result<AdvertSubmission> verify_advert_submission(const SignedDoc& doc);

// What XIS instances share through the advert bus (xis/advert_bus.h):
// {"advert": <SignedDoc of type "advert">, "owner": "<account id>" or ""}: an advert as the
// instance that took it from its server admitted it, with the owner the corp named for that
// server there ("" when that instance does not ask the corp). Decoding makes the same checks as
// decode_advert_body (signatures included) and checks the owner is an account id or empty.
struct SharedAdvert {
  AdvertSubmission submission;
  std::string owner;
};
inline constexpr size_t kMaxSharedAdvertBody = kMaxAdvertBody + 256;
Result<SharedAdvert> decode_shared_advert(std::string_view body);
std::string encode_shared_advert(const SignedDoc& doc, const std::string& owner);

// The wire form of SearchQuery (proto/search.h).
Result<SearchQuery> decode_search_body(std::string_view body);

}  // namespace xop
