#include "proto/corp_answers.h"

#include <utility>

#include "core/schema.h"
#include "crypto/keys.h"
#include "proto/doc_fields.h"
#include "proto/purchase_order.h"

namespace xop {
namespace {

constexpr size_t kMaxItems = size_t{1} << 20;
constexpr size_t kMaxId = 128;

const Schema<CorpInfo>& corp_info_schema() {
  static const auto s = Schema<CorpInfo>("corp_info")
                            .str("service", &CorpInfo::service, 64)
                            .str("version", &CorpInfo::version, 64)
                            .str("public_key", &CorpInfo::public_key, kMaxId)
                            .str("audience", &CorpInfo::audience, kMaxId)
                            .check([](const CorpInfo& i) {
                              return PublicKey::from_base64(i.public_key) ? "" : ".public_key: not a public key";
                            });
  return s;
}

const Schema<AccountView>& account_view_schema() {
  static const auto s = Schema<AccountView>("account")
                            .str("id", &AccountView::id, kMaxId)
                            .str("kind", &AccountView::kind, 16)
                            .str("name", &AccountView::name, 256)
                            .str("public_key", &AccountView::public_key, kMaxId)
                            .i64("created_at", &AccountView::created_at, 0)
                            .opt_str("owner", &AccountView::owner, kMaxId);
  return s;
}

const Schema<AccountAnswer>& account_answer_schema() {
  static const auto s = Schema<AccountAnswer>("account_answer")
                            .object("account", &AccountAnswer::account, account_view_schema())
                            .opt_i64("balance_micros", &AccountAnswer::balance)
                            .opt_i64("held_micros", &AccountAnswer::held, 0);
  return s;
}

const Schema<ServerAccountView>& server_account_view_schema() {
  static const auto s = Schema<ServerAccountView>("server")
                            .str("id", &ServerAccountView::id, kMaxId)
                            .str("name", &ServerAccountView::name, 256)
                            .str("public_key", &ServerAccountView::public_key, kMaxId)
                            .opt_str("owner", &ServerAccountView::owner, kMaxId);
  return s;
}

// {"server": {...}}.
struct ServerAccountAnswer {
  ServerAccountView server;
};
const Schema<ServerAccountAnswer>& server_account_answer_schema() {
  static const auto s = Schema<ServerAccountAnswer>("server_answer")
                            .object("server", &ServerAccountAnswer::server, server_account_view_schema());
  return s;
}

const Schema<PayoutAnswer>& payout_answer_schema() {
  static const auto s = Schema<PayoutAnswer>("payout_answer")
                            .str("transaction", &PayoutAnswer::transaction, kMaxId)
                            .i64("balance_micros", &PayoutAnswer::balance, 0);
  return s;
}

const Schema<DepositAnswer>& deposit_answer_schema() {
  static const auto s = Schema<DepositAnswer>("deposit_answer")
                            .str("transaction", &DepositAnswer::transaction, kMaxId)
                            .i64("balance_micros", &DepositAnswer::balance);
  return s;
}

// {"purchase_order": <SignedDoc>}, whose body must name a purchase order id.
struct CreatePoAnswer {
  SignedDoc purchase_order;
};
const Schema<CreatePoAnswer>& create_po_answer_schema() {
  static const auto s = Schema<CreatePoAnswer>("purchase_order_answer")
                            .object_with<SignedDoc>("purchase_order", &CreatePoAnswer::purchase_order, signed_doc_json,
                                                    signed_doc_at(kPurchaseOrderType, SignedDocErrors::kAsInvalid))
                            .check([](const CreatePoAnswer& a) {
                              const Json& body = a.purchase_order.body;
                              const bool ok = body.contains("po_id") && body["po_id"].is_string() &&
                                              is_po_id(body["po_id"].get_ref<const std::string&>());
                              return ok ? "" : ".purchase_order.po_id: missing or not a purchase order id";
                            });
  return s;
}

const Schema<PoStatusView>& po_status_schema() {
  static const auto s = Schema<PoStatusView>("po_status")
                            .str("po_id", &PoStatusView::po_id, kMaxId)
                            .str("user", &PoStatusView::user, kMaxId)
                            .str("server", &PoStatusView::server, kMaxId)
                            .i64("max_amount_micros", &PoStatusView::max_amount, 0)
                            .i64("charged_micros", &PoStatusView::charged, 0)
                            .i64("remaining_micros", &PoStatusView::remaining, 0)
                            .str("state", &PoStatusView::state, 16)
                            .boolean("exhausted", &PoStatusView::exhausted)
                            .boolean_or("low_funds", &PoStatusView::low_funds, false)
                            .i64_or("unpaid_micros", &PoStatusView::unpaid, 0, 0);
  return s;
}

const Schema<ExtendPoAnswer>& extend_po_answer_schema() {
  static const auto s = Schema<ExtendPoAnswer>("extend_answer")
                            .object("purchase_order", &ExtendPoAnswer::purchase_order, po_status_schema())
                            .i64("arrears_paid_micros", &ExtendPoAnswer::arrears_paid, 0)
                            .i64("balance_micros", &ExtendPoAnswer::balance)
                            .str("transaction", &ExtendPoAnswer::transaction, kMaxId);
  return s;
}

const Schema<ClosePoAnswer>& close_po_answer_schema() {
  static const auto s = Schema<ClosePoAnswer>("close_answer")
                            .i64("released_micros", &ClosePoAnswer::released, 0)
                            .str("state", &ClosePoAnswer::state, 16);
  return s;
}

const Schema<UsageOutcomeView>& usage_outcome_schema() {
  static const auto s = Schema<UsageOutcomeView>("result")
                            .str("session", &UsageOutcomeView::session, kMaxId)
                            .str("po_id", &UsageOutcomeView::po_id, kMaxId)
                            .i64("seq", &UsageOutcomeView::seq, 0)
                            .str("status", &UsageOutcomeView::status, 16)
                            .i64("charged_micros", &UsageOutcomeView::charged, 0)
                            .opt_str("reason", &UsageOutcomeView::reason, 4096)
                            .opt_str("code", &UsageOutcomeView::code, 64)
                            .check([](const UsageOutcomeView& o) -> std::string {
                              if (o.status.empty()) return ".status: empty";
                              if (o.refused() != o.reason.has_value()) return ".reason: given exactly when refused";
                              return "";
                            });
  return s;
}

const Schema<PoBalanceView>& po_balance_schema() {
  static const auto s = Schema<PoBalanceView>("purchase_order")
                            .str("po_id", &PoBalanceView::po_id, kMaxId)
                            .i64("remaining_micros", &PoBalanceView::remaining, 0)
                            .boolean("exhausted", &PoBalanceView::exhausted)
                            .boolean("closed", &PoBalanceView::closed)
                            .boolean_or("closing", &PoBalanceView::closing, false)
                            .boolean_or("low_funds", &PoBalanceView::low_funds, false)
                            .i64_or("unpaid_micros", &PoBalanceView::unpaid, 0, 0);
  return s;
}

const Schema<UsageAnswer>& usage_answer_schema() {
  static const auto s = Schema<UsageAnswer>("usage_answer")
                            .array("results", &UsageAnswer::results, usage_outcome_schema(), kMaxItems)
                            .array("purchase_orders", &UsageAnswer::purchase_orders, po_balance_schema(), kMaxItems);
  return s;
}

const Schema<StatementRecordView>& statement_record_schema() {
  static const auto s = Schema<StatementRecordView>("record")
                            .str("session", &StatementRecordView::session, kMaxId)
                            .i64("seq", &StatementRecordView::seq, 0)
                            .i64("period_start", &StatementRecordView::period_start)
                            .i64("period_end", &StatementRecordView::period_end)
                            .object("reserved", &StatementRecordView::reserved, resources_schema())
                            .object("used", &StatementRecordView::used, usage_schema())
                            .i64("amount_micros", &StatementRecordView::amount, 0)
                            .i64("charged_micros", &StatementRecordView::charged, 0)
                            .boolean("final", &StatementRecordView::final);
  return s;
}

const Schema<StatementPoView>& statement_po_schema() {
  static const auto s = Schema<StatementPoView>("purchase_order")
                            .str("po_id", &StatementPoView::po_id, kMaxId)
                            .str("server", &StatementPoView::server, kMaxId)
                            .i64("max_amount_micros", &StatementPoView::max_amount, 0)
                            .i64("charged_micros", &StatementPoView::charged, 0)
                            .i64("remaining_micros", &StatementPoView::remaining, 0)
                            .str("state", &StatementPoView::state, 16)
                            .array("records", &StatementPoView::records, statement_record_schema(), kMaxItems);
  return s;
}

const Schema<StatementTxView>& statement_tx_schema() {
  static const auto s = Schema<StatementTxView>("transaction")
                            .str("id", &StatementTxView::id, kMaxId)
                            .str("kind", &StatementTxView::kind, 32)
                            .i64("amount_micros", &StatementTxView::amount)
                            .i64("at", &StatementTxView::at, 0)
                            .str("memo", &StatementTxView::memo, 1024);
  return s;
}

const Schema<StatementView>& statement_schema() {
  static const auto s = Schema<StatementView>("statement")
                            .str("account", &StatementView::account, kMaxId)
                            .i64("balance_micros", &StatementView::balance)
                            .i64("held_micros", &StatementView::held, 0)
                            .opt_i64("earnings_micros", &StatementView::earnings)
                            .array("purchase_orders", &StatementView::purchase_orders, statement_po_schema(), kMaxItems)
                            .array("transactions", &StatementView::transactions, statement_tx_schema(), kMaxItems);
  return s;
}

const Schema<LedgerCheckView>& ledger_check_schema() {
  static const auto s = Schema<LedgerCheckView>("ledger_check")
                            .boolean("balanced", &LedgerCheckView::balanced)
                            .i64("checked_at", &LedgerCheckView::checked_at)
                            .i64("transactions", &LedgerCheckView::transactions, 0)
                            .i64("entries", &LedgerCheckView::entries, 0)
                            .i64("total_micros", &LedgerCheckView::total)
                            .opt_i64("deposited_micros", &LedgerCheckView::deposited)
                            .opt_i64("paid_out_micros", &LedgerCheckView::paid_out)
                            .opt_i64("available_micros", &LedgerCheckView::available)
                            .opt_i64("held_micros", &LedgerCheckView::held)
                            .str_array("problems", &LedgerCheckView::problems, kMaxItems);
  return s;
}

}  // namespace

Json to_json(const CorpInfo& i) { return corp_info_schema().encode(i); }
Result<CorpInfo> decode_corp_info(const Json& j) { return corp_info_schema().decode(j); }
Json to_json(const AccountView& a) { return account_view_schema().encode(a); }
Json to_json(const AccountAnswer& a) { return account_answer_schema().encode(a); }
Result<AccountAnswer> decode_account_answer(const Json& j) { return account_answer_schema().decode(j); }
Json to_json(const ServerAccountView& s) { return server_account_answer_schema().encode(ServerAccountAnswer{s}); }
Result<ServerAccountView> decode_server_account_answer(const Json& j) {
  return server_account_answer_schema().decode(j).map([](ServerAccountAnswer a) { return std::move(a.server); });
}
Json to_json(const PayoutAnswer& d) { return payout_answer_schema().encode(d); }
Result<PayoutAnswer> decode_payout_answer(const Json& j) { return payout_answer_schema().decode(j); }
Json to_json(const DepositAnswer& d) { return deposit_answer_schema().encode(d); }
Result<DepositAnswer> decode_deposit_answer(const Json& j) { return deposit_answer_schema().decode(j); }
Json create_po_answer_json(const SignedDoc& po) { return create_po_answer_schema().encode(CreatePoAnswer{po}); }
Result<SignedDoc> decode_create_po_answer(const Json& j) {
  return create_po_answer_schema().decode(j).map([](CreatePoAnswer a) { return std::move(a.purchase_order); });
}
Json to_json(const PoStatusView& p) { return po_status_schema().encode(p); }
Result<PoStatusView> decode_po_status(const Json& j) { return po_status_schema().decode(j); }
Json to_json(const ExtendPoAnswer& e) { return extend_po_answer_schema().encode(e); }
Result<ExtendPoAnswer> decode_extend_po_answer(const Json& j) { return extend_po_answer_schema().decode(j); }
Json to_json(const ClosePoAnswer& c) { return close_po_answer_schema().encode(c); }
Result<ClosePoAnswer> decode_close_po_answer(const Json& j) { return close_po_answer_schema().decode(j); }
Json to_json(const UsageAnswer& a) { return usage_answer_schema().encode(a); }
Result<UsageAnswer> decode_usage_answer(const Json& j) { return usage_answer_schema().decode(j); }
Json to_json(const StatementView& s) { return statement_schema().encode(s); }
Result<StatementView> decode_statement(const Json& j) { return statement_schema().decode(j); }
Json to_json(const LedgerCheckView& c) { return ledger_check_schema().encode(c); }
Result<LedgerCheckView> decode_ledger_check(const Json& j) { return ledger_check_schema().decode(j); }

}  // namespace xop
