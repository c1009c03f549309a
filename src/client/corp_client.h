// The typed client of XenoCorp's API (docs/api/corp.yaml): one method per call, request bodies
// encoded and answers strictly decoded by the shared codecs (proto/corp_requests.h,
// proto/corp_answers.h) through client/typed_call.h. The only place outside the corp that knows the
// corp's paths. Errors: the corp's own Error for a refused call; kUnavailable for an unreachable
// corp or an oversized, non-JSON or malformed answer; kInvalidArgument for an id that cannot be
// a path segment (nothing is sent). Copies share the audience cache of the ApiClient.
//
// Money-moving POSTs (deposit, payout, create_po, close_po, report_usage) carry an
// Idempotency-Key (docs/api/corp.yaml): a fresh random key per call, reused by the call's
// retries. A call whose answer never arrived (the corp unreachable, the connection lost, a 5xx)
// or whose first attempt is still in flight at the corp (409 idempotency_key_in_flight) is sent
// again, freshly signed, with the same key, up to RetryPolicy::attempts times in all: the corp
// moves the money at most once and a retry gets the first answer. Any other answer (a refusal, a
// malformed body) is final.
#pragma once

#include <chrono>
#include <functional>
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
  struct RetryPolicy {
    int attempts = 3;  // in all, >= 1
    // Before a retry of a request still in flight at the corp; multiplied by the attempt number.
    std::chrono::milliseconds in_flight_wait{100};
  };

  explicit CorpClient(ApiClient api) : api_(std::move(api)) {}
  static Result<CorpClient> connect(const std::string& url, std::optional<KeyPair> key,
                                    const Clock& clock = SystemClock::instance(), const Connector& connector = {});

  // The underlying signed client (e.g. to pin the audience).
  ApiClient& api() { return api_; }
  void set_retry_policy(RetryPolicy p) { retry_ = p; }
  // The Idempotency-Key of the last money-moving call made (empty before one): for tests and logs.
  [[nodiscard]] const std::string& last_idempotency_key() const { return last_key_; }

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
  Result<PayoutAnswer> payout(const PayoutRequest& req);          // POST /v1/payouts
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
  // POSTs `body` to `target` under a fresh Idempotency-Key, retrying as the class comment says.
  template <typename T>
  Result<T> post_keyed(const std::string& target, const Json& body, const std::function<Result<T>(const Json&)>& decode,
                       size_t max_answer_bytes);

  ApiClient api_;
  RetryPolicy retry_;
  std::string last_key_;
};

}  // namespace xop
