// The typed client of XIS's API (docs/api/xis.yaml): one method per call, answers strictly
// decoded by proto/xis_answers.h and proto/search.h through client/typed_call.h. The only place
// outside XIS that knows its paths. Errors as for CorpClient (client/corp_client.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "proto/search.h"
#include "proto/xis_answers.h"
#include "proto/xis_query.h"

namespace xop {

class XisClient {
 public:
  explicit XisClient(ApiClient api) : api_(std::move(api)) {}
  static Result<XisClient> connect(const std::string& url, std::optional<KeyPair> key,
                                   const Clock& clock = SystemClock::instance(), const Connector& connector = {});

  ApiClient& api() { return api_; }

  Result<XisInfo> info();                                     // GET /v1/info
  Result<AdvertAccepted> submit_advert(const SignedDoc& ad);  // POST /v1/adverts (signed)
  Result<std::vector<SignedDoc>> adverts();                   // GET /v1/adverts
  Result<SearchResult> search(const SearchQuery& q);          // POST /v1/search
  Result<Quote> quote(const Query& q);                        // POST /v1/query

  static constexpr size_t kMaxAdvertsAnswerBytes = size_t{64} << 20;
  static constexpr size_t kMaxSearchAnswerBytes = size_t{16} << 20;
  // A quote holds at most kMaxQueryCount adverts of kMaxAdvertBytes and bounded explain parts.
  static constexpr size_t kMaxQuoteAnswerBytes = size_t{8} << 20;

 private:
  ApiClient api_;
};

}  // namespace xop
