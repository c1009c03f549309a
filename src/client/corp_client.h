// The typed client of XenoCorp's API (docs/api/corp.yaml): one method per call, request bodies
// encoded and answers strictly decoded by the shared codecs (proto/corp_requests.h,
// proto/corp_answers.h) through client/typed_call.h. The only place outside the corp that knows the
// corp's paths. Errors: the corp's own Error for a refused call; kUnavailable for an unreachable
// corp or an oversized, non-JSON or malformed answer; kInvalidArgument for an id that cannot be
// a path segment (nothing is sent). Copies share the audience cache of the ApiClient.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "proto/corp_answers.h"
#include "proto/corp_requests.h"
#include "proto/earnings.h"
#include "proto/peer_answers.h"
#include "proto/po_status.h"

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
  Result<EarningsView> earnings(const std::string& account);                  // GET .../{id}/earnings
  // GET /v1/accounts/{id}/purchase-orders[?state=...]: the POs the account bought (or, for a
  // server, was sold), only those in `state` when given.
  Result<std::vector<PoStatusView>> purchase_orders(const std::string& account, std::optional<PoStatus> state);
  Result<ServerAccountView> server(const std::string& id);  // GET /v1/servers/{id}
  // GET /v1/servers/{id} as XIS asks it of a corp it does not trust (xis/xis_peers.h): the answer,
  // whatever its status, decoded by decode_registry_answer (proto/peer_answers.h) under its cap of
  // kMaxRegistryAnswer bytes. nullopt: the corp says `id` is no registered server. kUnavailable:
  // the corp cannot be reached, or answered anything else. Unsigned when the client has no key.
  Result<std::optional<ServerRegistration>> server_registration(const std::string& id);
  Result<DepositAnswer> deposit(const DepositRequest& req);       // POST /v1/deposits
  Result<SignedDoc> create_po(const CreatePoRequest& req);        // POST /v1/purchase-orders
  Result<PoStatusView> purchase_order(const std::string& po_id);  // GET /v1/purchase-orders/{id}
  Result<ClosePoAnswer> close_po(const std::string& po_id);       // POST .../{id}/close
  // POST .../{id}/extend: moves `amount_micros` (> 0) of the caller's balance into the PO's hold.
  Result<ExtendPoAnswer> extend_po(const std::string& po_id, int64_t amount_micros);
  Result<UsageAnswer> report_usage(const SignedDoc& batch);     // POST /v1/usage
  Result<StatementView> statement(const std::string& account);  // GET /v1/statements/{account}
  Result<LedgerCheckView> ledger_check();                       // GET /v1/ledger/check

  // Answer caps: a usage answer lists every record of a batch; a statement every PO and record.
  static constexpr size_t kMaxUsageAnswerBytes = size_t{16} << 20;
  static constexpr size_t kMaxStatementBytes = size_t{64} << 20;
  static constexpr size_t kMaxEarningsBytes = size_t{16} << 20;
  static constexpr size_t kMaxPoListBytes = size_t{64} << 20;

 private:
  ApiClient api_;
};

}  // namespace xop
