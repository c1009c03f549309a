#include "client/corp_client.h"

#include "client/typed_call.h"
#include "proto/po_list.h"

namespace xop {

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
  return call_typed<DepositAnswer>(api_, "POST", "/v1/deposits", to_json(req), decode_deposit_answer);
}

Result<SignedDoc> CorpClient::create_po(const CreatePoRequest& req) {
  return call_typed<SignedDoc>(api_, "POST", "/v1/purchase-orders", to_json(req), decode_create_po_answer);
}

Result<PoStatusView> CorpClient::purchase_order(const std::string& po_id) {
  XOP_RETURN_IF_ERROR(check_path_segment(po_id, "purchase order id"));
  return call_typed<PoStatusView>(api_, "GET", "/v1/purchase-orders/" + po_id, nullptr, decode_po_status);
}

Result<ClosePoAnswer> CorpClient::close_po(const std::string& po_id) {
  XOP_RETURN_IF_ERROR(check_path_segment(po_id, "purchase order id"));
  return call_typed<ClosePoAnswer>(api_, "POST", "/v1/purchase-orders/" + po_id + "/close", nullptr,
                                   decode_close_po_answer);
}

Result<ExtendPoAnswer> CorpClient::extend_po(const std::string& po_id, int64_t amount_micros) {
  XOP_RETURN_IF_ERROR(check_path_segment(po_id, "purchase order id"));
  return call_typed<ExtendPoAnswer>(api_, "POST", "/v1/purchase-orders/" + po_id + "/extend",
                                    to_json(ExtendPoRequest{amount_micros}), decode_extend_po_answer);
}

Result<UsageAnswer> CorpClient::report_usage(const SignedDoc& batch) {
  return call_typed<UsageAnswer>(api_, "POST", "/v1/usage", to_json(UsageRequest{batch}), decode_usage_answer,
                                 kMaxUsageAnswerBytes);
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
