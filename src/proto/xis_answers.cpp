#include "proto/xis_answers.h"

#include "proto/advert.h"

namespace xop {

Json to_json(const XisInfo& i) {
  return Json{{"service", i.service}, {"version", i.version}, {"audience", i.audience}, {"adverts", i.adverts}};
}

Result<XisInfo> decode_xis_info(const Json& j) {
  JsonReader r(j, "xis_info");
  XisInfo i;
  i.service = r.str("service", 64);
  i.version = r.str("version", 64);
  i.audience = r.str("audience", 128);
  i.adverts = r.i64("adverts", 0);
  XOP_RETURN_IF_ERROR(r.finish());
  return i;
}

Json to_json(const AdvertAccepted& a) { return Json{{"accepted", a.accepted}, {"expires_at", a.expires_at}}; }

Result<AdvertAccepted> decode_advert_accepted(const Json& j) {
  JsonReader r(j, "advert_answer");
  AdvertAccepted a;
  a.accepted = r.boolean("accepted");
  a.expires_at = r.i64("expires_at", 0);
  XOP_RETURN_IF_ERROR(r.finish());
  return a;
}

Json adverts_answer_json(const std::vector<SignedDoc>& adverts) {
  Json arr = Json::array();
  for (const auto& d : adverts) arr.push_back(d.to_json());
  return Json{{"adverts", std::move(arr)}};
}

Result<std::vector<SignedDoc>> decode_adverts_answer(const Json& j) {
  JsonReader r(j, "adverts_answer");
  const Json& arr = r.array("adverts", size_t{1} << 20);
  XOP_RETURN_IF_ERROR(r.finish());
  std::vector<SignedDoc> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    auto d = SignedDoc::from_json(arr[i], kAdvertType);
    if (!d) return invalid("adverts_answer.adverts[" + std::to_string(i) + "]: " + d.error().message);
    out.push_back(std::move(*d));
  }
  return out;
}

}  // namespace xop
