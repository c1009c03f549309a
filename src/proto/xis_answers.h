// The answers of XIS's API (docs/api/xis.yaml), declared once: XIS encodes them with to_json()
// and client/xis_client.h decodes them strictly (unknown, missing or mistyped fields are
// kInvalidArgument naming the field). The search answer's codec is proto/search.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json_reader.h"
#include "crypto/signed_doc.h"

namespace xop {

// GET /v1/info of XIS.
struct XisInfo {
  std::string service;
  std::string version;
  std::string audience;
  int64_t adverts = 0;  // live adverts
};
Json to_json(const XisInfo& i);
Result<XisInfo> decode_xis_info(const Json& j);

// POST /v1/adverts.
struct AdvertAccepted {
  bool accepted = false;
  int64_t expires_at = 0;
};
Json to_json(const AdvertAccepted& a);
Result<AdvertAccepted> decode_advert_accepted(const Json& j);

// GET /v1/adverts: the live signed adverts. The answer's shape is decoded strictly; an element that
// is not a well-formed, validly signed "advert" is left out rather than failing the whole list
// (callers verify each advert's content anyway, e.g. verify_advert).
Json adverts_answer_json(const std::vector<SignedDoc>& adverts);
Result<std::vector<SignedDoc>> decode_adverts_answer(const Json& j);

}  // namespace xop
