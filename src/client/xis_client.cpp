#include "client/xis_client.h"

#include "client/typed_call.h"

namespace xop {

Result<XisClient> XisClient::connect(const std::string& url, std::optional<KeyPair> key, const Clock& clock,
                                     const Connector& connector) {
  XOP_ASSIGN_OR_RETURN(auto api, ApiClient::connect(url, std::move(key), clock, connector));
  return XisClient(std::move(api));
}

Result<XisInfo> XisClient::info() { return call_typed<XisInfo>(api_, "GET", "/v1/info", nullptr, decode_xis_info); }

Result<AdvertAccepted> XisClient::submit_advert(const SignedDoc& ad) {
  return call_typed<AdvertAccepted>(api_, "POST", "/v1/adverts", Json{{"advert", ad.to_json()}},
                                    decode_advert_accepted);
}

Result<std::vector<SignedDoc>> XisClient::adverts() {
  return call_typed<std::vector<SignedDoc>>(api_, "GET", "/v1/adverts", nullptr, decode_adverts_answer,
                                            kMaxAdvertsAnswerBytes);
}

Result<SearchResult> XisClient::search(const SearchQuery& q) {
  return call_typed<SearchResult>(api_, "POST", "/v1/search", to_json(q), search_result_from_json,
                                  kMaxSearchAnswerBytes);
}

Result<Quote> XisClient::quote(const Query& q) {
  return call_typed<Quote>(api_, "POST", "/v1/query", to_json(q), quote_from_json, kMaxQuoteAnswerBytes);
}

}  // namespace xop
