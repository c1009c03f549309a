#include "proto/xis_answers.h"

#include "core/schema.h"
#include "proto/advert.h"
#include "proto/doc_fields.h"

namespace xop {
namespace {

const Schema<XisInfo>& xis_info_schema() {
  static const auto s = Schema<XisInfo>("xis_info")
                            .str("service", &XisInfo::service, 64)
                            .str("version", &XisInfo::version, 64)
                            .str("audience", &XisInfo::audience, 128)
                            .i64("adverts", &XisInfo::adverts, 0);
  return s;
}

const Schema<AdvertAccepted>& advert_accepted_schema() {
  static const auto s = Schema<AdvertAccepted>("advert_answer")
                            .boolean("accepted", &AdvertAccepted::accepted)
                            .i64("expires_at", &AdvertAccepted::expires_at, 0);
  return s;
}

struct AdvertsAnswer {
  std::vector<SignedDoc> adverts;
};
const Schema<AdvertsAnswer>& adverts_answer_schema() {
  static const auto s = Schema<AdvertsAnswer>("adverts_answer")
                            .array_with<SignedDoc>(
                                "adverts", &AdvertsAnswer::adverts, signed_doc_json,
                                // An element that is no well-formed signed advert becomes an empty doc, left out by
                                // decode_adverts_answer: one bad advert must not hide every other server.
                                [](const Json& j, const std::string&) -> Result<SignedDoc> {
                                  auto d = SignedDoc::from_json(j, kAdvertType);
                                  return d ? std::move(*d) : SignedDoc{};
                                },
                                size_t{1} << 20);
  return s;
}

}  // namespace

Json to_json(const XisInfo& i) { return xis_info_schema().encode(i); }
Result<XisInfo> decode_xis_info(const Json& j) { return xis_info_schema().decode(j); }
Json to_json(const AdvertAccepted& a) { return advert_accepted_schema().encode(a); }
Result<AdvertAccepted> decode_advert_accepted(const Json& j) { return advert_accepted_schema().decode(j); }
Json adverts_answer_json(const std::vector<SignedDoc>& adverts) {
  return adverts_answer_schema().encode(AdvertsAnswer{adverts});
}
Result<std::vector<SignedDoc>> decode_adverts_answer(const Json& j) {
  return adverts_answer_schema().decode(j).map([](AdvertsAnswer a) {
    std::vector<SignedDoc> out;
    out.reserve(a.adverts.size());
    for (auto& d : a.adverts) {
      if (!d.type.empty()) out.push_back(std::move(d));
    }
    return out;
  });
}

}  // namespace xop
