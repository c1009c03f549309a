// The typed client of XenoCorp's API (docs/api/corp.yaml): one method per call, request bodies
// encoded and answers strictly decoded by the shared codecs (proto/corp_requests.h,
// proto/corp_answers.h) through client/typed_call.h. The only place outside the corp that knows the
// corp's paths. Errors: the corp's own Error for a refused call; kUnavailable for an unreachable
// corp or an oversized, non-JSON or malformed answer; kInvalidArgument for an id that cannot be
// a path segment (nothing is sent). Copies share the audience cache of the ApiClient.
#pragma once

#include <optional>
#include <string>

#include "client/api_client.h"
#include "proto/corp_answers.h"
#include "proto/corp_requests.h"

namespace xop {

class CorpClient {
 public:
  explicit CorpClient(ApiClient api) : api_(std::move(api)) {}
  static Result<CorpClient> connect(const std::string& url, std::optional<KeyPair> key,
                                    const Clock& clock = SystemClock::instance(), const Connector& connector = {});

  // The underlying signed client (e.g. to pin the audience).
  ApiClient& api() { return api_; }

  Result<CorpInfo> info();                                                    // GET /v1/info
  Result<AccountAnswer> register_account(const RegisterAccountRequest& req);  // POST /v1/accounts
  Result<AccountAnswer> account(const std::string& id);                       // GET /v1/accounts/{id}
  Result<ServerAccountView> server(const std::string& id);                    // GET /v1/servers/{id}
  Result<DepositAnswer> deposit(const DepositRequest& req);                   // POST /v1/deposits
  Result<SignedDoc> create_po(const CreatePoRequest& req);                    // POST /v1/purchase-orders
  Result<PoStatusView> purchase_order(const std::string& po_id);              // GET /v1/purchase-orders/{id}
  Result<ClosePoAnswer> close_po(const std::string& po_id);                   // POST .../{id}/close
  Result<UsageAnswer> report_usage(const SignedDoc& batch);                   // POST /v1/usage
  Result<StatementView> statement(const std::string& account);                // GET /v1/statements/{account}
  Result<LedgerCheckView> ledger_check();                                     // GET /v1/ledger/check

  // Answer caps: a usage answer lists every record of a batch; a statement every PO and record.
  static constexpr size_t kMaxUsageAnswerBytes = size_t{16} << 20;
  static constexpr size_t kMaxStatementBytes = size_t{64} << 20;

 private:
  ApiClient api_;
};

}  // namespace xop
