#include "client/corp_client.h"

#include <algorithm>
#include <thread>

#include "client/typed_call.h"
#include "crypto/keys.h"
#include "proto/idempotency_key.h"
#include "proto/po_list.h"

namespace xop {

template <typename T>
Result<T> CorpClient::post_keyed(const std::string& target, const Json& body,
                                 const std::function<Result<T>(const Json&)>& decode, size_t max_answer_bytes) {
  last_key_ = random_id("ik");
  const std::map<std::string, std::string> headers{{"Idempotency-Key", format_idempotency_key(last_key_)}};
  const std::string text = body.is_null() ? std::string() : body.dump();
  Error last{ErrorCode::kInternal, "no attempt made"};
  const int attempts = std::max(1, retry_.attempts);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    auto res = api_.call_raw("POST", target, text, "application/json", headers);
    // Sent again with the key: no answer arrived, a 5xx (nothing was stored, so nothing
    // happened), or the first attempt is still running at the corp.
    if (!res) {
      last = res.error();
      continue;
    }
    if (res->status >= 500) {
      last = error_from_response(res->status, res->body);
      continue;
    }
    if (res->status == 409) {
      Error e = error_from_response(res->status, res->body);
      if (e.code == ErrorCode::kIdempotencyKeyInFlight) {
        last = std::move(e);
        if (attempt < attempts) std::this_thread::sleep_for(retry_.in_flight_wait * attempt);
        continue;
      }
    }
    XOP_ASSIGN_OR_RETURN(auto j, answer_json("POST", target, *res, max_answer_bytes));
    auto v = decode(j);
    if (!v) return tl::make_unexpected(malformed_answer("POST", target, v.error().message));
    return v;
  }
  return tl::make_unexpected(std::move(last));
}

Result<CorpClient> CorpClient::connect(const std::string& url, std::optional<KeyPair> key, const Clock& clock,
                                       const Connector& connector) {
  XOP_ASSIGN_OR_RETURN(auto api, ApiClient::connect(url, std::move(key), clock, connector));
  return CorpClient(std::move(api));
}

Result<CorpInfo> CorpClient::info() { return call_typed<CorpInfo>(api_, "GET", "/v1/info", nullptr, decode_corp_info); }

Result<AccountAnswer> CorpClient::register_account(const RegisterAccountRequest& req) {
  return call_typed<AccountAnswer>(api_, "POST", "/v1/accounts", to_json(req), decode_account_answer);
}

Result<AccountAnswer> CorpClient::account(const std::string& id) {
  XOP_RETURN_IF_ERROR(check_path_segment(id, "account id"));
  return call_typed<AccountAnswer>(api_, "GET", "/v1/accounts/" + id, nullptr, decode_account_answer);
}

Result<EarningsView> CorpClient::earnings(const std::string& account) {
  XOP_RETURN_IF_ERROR(check_path_segment(account, "account id"));
  return call_typed<EarningsView>(api_, "GET", "/v1/accounts/" + account + "/earnings", nullptr, decode_earnings,
                                  kMaxEarningsBytes);
}

Result<std::vector<PoStatusView>> CorpClient::purchase_orders(const std::string& account,
                                                              std::optional<PoStatus> state) {
  XOP_RETURN_IF_ERROR(check_path_segment(account, "account id"));
  std::string target = "/v1/accounts/" + account + "/purchase-orders";
  if (state) target += std::string("?state=") + to_string(*state);
  return call_typed<std::vector<PoStatusView>>(api_, "GET", target, nullptr, decode_po_list_answer, kMaxPoListBytes);
}

Result<std::optional<ServerRegistration>> CorpClient::server_registration(const std::string& id) {
  XOP_RETURN_IF_ERROR(check_path_segment(id, "server id"));
  auto r = api_.call_raw("GET", "/v1/servers/" + id, "");
  if (!r) return make_error(ErrorCode::kUnavailable, "the corp cannot be reached: " + r.error().message);
  return decode_registry_answer(id, r->status, r->body);
}

Result<ServerAccountView> CorpClient::server(const std::string& id) {
  XOP_RETURN_IF_ERROR(check_path_segment(id, "server id"));
  return call_typed<ServerAccountView>(api_, "GET", "/v1/servers/" + id, nullptr, decode_server_account_answer);
}

Result<DepositAnswer> CorpClient::deposit(const DepositRequest& req) {
  return post_keyed<DepositAnswer>("/v1/deposits", to_json(req), decode_deposit_answer, kMaxAnswerBytes);
}

Result<PayoutAnswer> CorpClient::payout(const PayoutRequest& req) {
  return post_keyed<PayoutAnswer>("/v1/payouts", to_json(req), decode_payout_answer, kMaxAnswerBytes);
}

Result<SignedDoc> CorpClient::create_po(const CreatePoRequest& req) {
  return post_keyed<SignedDoc>("/v1/purchase-orders", to_json(req), decode_create_po_answer, kMaxAnswerBytes);
}

Result<PoStatusView> CorpClient::purchase_order(const std::string& po_id) {
  XOP_RETURN_IF_ERROR(check_path_segment(po_id, "purchase order id"));
  return call_typed<PoStatusView>(api_, "GET", "/v1/purchase-orders/" + po_id, nullptr, decode_po_status);
}

Result<ClosePoAnswer> CorpClient::close_po(const std::string& po_id) {
  XOP_RETURN_IF_ERROR(check_path_segment(po_id, "purchase order id"));
  return post_keyed<ClosePoAnswer>("/v1/purchase-orders/" + po_id + "/close", nullptr, decode_close_po_answer,
                                   kMaxAnswerBytes);
}

Result<ExtendPoAnswer> CorpClient::extend_po(const std::string& po_id, int64_t amount_micros) {
  XOP_RETURN_IF_ERROR(check_path_segment(po_id, "purchase order id"));
  return post_keyed<ExtendPoAnswer>("/v1/purchase-orders/" + po_id + "/extend", to_json(ExtendPoRequest{amount_micros}),
                                    decode_extend_po_answer, kMaxAnswerBytes);
}

Result<UsageAnswer> CorpClient::report_usage(const SignedDoc& batch) {
  return post_keyed<UsageAnswer>("/v1/usage", to_json(UsageRequest{batch}), decode_usage_answer, kMaxUsageAnswerBytes);
}

Result<StatementView> CorpClient::statement(const std::string& account) {
  XOP_RETURN_IF_ERROR(check_path_segment(account, "account id"));
  return call_typed<StatementView>(api_, "GET", "/v1/statements/" + account, nullptr, decode_statement,
                                   kMaxStatementBytes);
}

Result<LedgerCheckView> CorpClient::ledger_check() {
  return call_typed<LedgerCheckView>(api_, "GET", "/v1/ledger/check", nullptr, decode_ledger_check);
}

}  // namespace xop
