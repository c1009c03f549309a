// The answers of XenoCorp's API (docs/api/corp.yaml), declared once: the corp encodes them with
// to_json() and clients (client/corp_client.h) decode them with the strict decoders below.
// Decoders never throw: unknown fields, missing fields, wrong types and out-of-range values are
// kInvalidArgument naming the field path (e.g. "usage_answer.results[0].seq: ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json_reader.h"
#include "core/resources.h"
#include "crypto/signed_doc.h"

namespace xop {

// GET /v1/info of the corp.
struct CorpInfo {
  std::string service;  // "xop-corp"
  std::string version;
  std::string public_key;  // base64 Ed25519 key (checked by the decoder)
  std::string audience;    // what signed requests name as their audience
};
Json to_json(const CorpInfo& i);
Result<CorpInfo> decode_corp_info(const Json& j);

// An account as the corp shows it.
struct AccountView {
  std::string id;
  std::string kind;  // "user" | "server"
  std::string name;
  std::string public_key;
  int64_t created_at = 0;
  std::optional<std::string> owner;  // server accounts
};
Json to_json(const AccountView& a);

// POST /v1/accounts answers {"account": ...}; GET /v1/accounts/{id} adds balance and held.
struct AccountAnswer {
  AccountView account;
  std::optional<int64_t> balance;  // micros; GET only
  std::optional<int64_t> held;     // micros; GET only
};
Json to_json(const AccountAnswer& a);
Result<AccountAnswer> decode_account_answer(const Json& j);

// GET /v1/servers/{id} (public): {"server": {...}}.
struct ServerAccountView {
  std::string id;
  std::string name;
  std::string public_key;
  std::optional<std::string> owner;
};
Json to_json(const ServerAccountView& s);
Result<ServerAccountView> decode_server_account_answer(const Json& j);

// POST /v1/deposits.
struct DepositAnswer {
  std::string transaction;
  int64_t balance = 0;
};
Json to_json(const DepositAnswer& d);
Result<DepositAnswer> decode_deposit_answer(const Json& j);

// POST /v1/payouts.
struct PayoutAnswer {
  std::string transaction;
  int64_t balance = 0;
};
Json to_json(const PayoutAnswer& d);
Result<PayoutAnswer> decode_payout_answer(const Json& j);

// POST /v1/purchase-orders: {"purchase_order": <SignedDoc of type "purchase_order">}. The
// decoder checks the document's form and signature, not the signer (the caller knows the corp).
Json create_po_answer_json(const SignedDoc& po);
Result<SignedDoc> decode_create_po_answer(const Json& j);

// GET /v1/purchase-orders/{po_id}.
struct PoStatusView {
  std::string po_id;
  std::string user;
  std::string server;
  int64_t max_amount = 0;
  int64_t charged = 0;
  int64_t remaining = 0;
  std::string state;  // "open" | "closing" | "closed" | ...
  bool exhausted = false;
  // Credit control (absent from older corps' answers: false / 0). low_funds: open, not exhausted,
  // and the hold covers fewer than the corp's low_funds_intervals more charging intervals at what
  // the last record claimed. unpaid: what records claimed beyond the hold (arrears), which an
  // extension pays first.
  bool low_funds = false;
  int64_t unpaid = 0;
};
Json to_json(const PoStatusView& p);
Result<PoStatusView> decode_po_status(const Json& j);

// POST /v1/purchase-orders/{po_id}/extend.
struct ExtendPoAnswer {
  PoStatusView purchase_order;  // after the extension
  int64_t arrears_paid = 0;     // of the extension, paid at once for records the hold had capped
  int64_t balance = 0;          // the user's available balance after it
  std::string transaction;      // the ledger transaction of kind "extend"
};
Json to_json(const ExtendPoAnswer& e);
Result<ExtendPoAnswer> decode_extend_po_answer(const Json& j);

// POST /v1/purchase-orders/{po_id}/close.
struct ClosePoAnswer {
  int64_t released = 0;
  std::string state;
};
Json to_json(const ClosePoAnswer& c);
Result<ClosePoAnswer> decode_close_po_answer(const Json& j);

// The settlement answer to POST /v1/usage: per record whether it was charged now, had been
// already ("duplicate"), or is refused (corp/settlement.h: a record-level rule), and the state of
// each purchase order the batch touched.
struct UsageOutcomeView {
  std::string session;
  std::string po_id;
  int64_t seq = 0;
  // "charged" | "duplicate" | "refused"; any other status is neither an acknowledgement nor a
  // refusal (the record stays pending: a later corp may know it).
  std::string status;
  int64_t charged = 0;
  // "refused" only: why (the rule it breaks, naming session and seq) and its error code name. A
  // refused record is not stored and never will be: the server keeps it aside and stops sending it.
  std::optional<std::string> reason = std::nullopt;
  std::optional<std::string> code = std::nullopt;
  // True when the corp holds the record (charged now or earlier): the server may drop it.
  [[nodiscard]] bool acknowledged() const { return status == "charged" || status == "duplicate"; }
  [[nodiscard]] bool refused() const { return status == "refused"; }
};
// exhausted: the server must not run the PO's session on credit any more. Why: closed (nothing
// held), closing (its user asked to close it: stop the session), or neither (the hold ran dry: the
// user may extend it; servers freeze the session for their freeze_grace). low_funds: not
// exhausted yet, but fewer than low_funds_intervals charging intervals left. unpaid: arrears.
// The last three are absent from older corps' answers (false / 0).
struct PoBalanceView {
  std::string po_id;
  int64_t remaining = 0;
  bool exhausted = false;
  bool closed = false;
  bool closing = false;
  bool low_funds = false;
  int64_t unpaid = 0;
};
struct UsageAnswer {
  std::vector<UsageOutcomeView> results;
  std::vector<PoBalanceView> purchase_orders;
};
Json to_json(const UsageAnswer& a);
Result<UsageAnswer> decode_usage_answer(const Json& j);

// GET /v1/statements/{account}.
struct StatementRecordView {
  std::string session;
  int64_t seq = 0;
  int64_t period_start = 0;
  int64_t period_end = 0;
  Resources reserved;
  Usage used;
  int64_t amount = 0;
  int64_t charged = 0;
  bool final = false;
};
struct StatementPoView {
  std::string po_id;
  std::string server;
  int64_t max_amount = 0;
  int64_t charged = 0;
  int64_t remaining = 0;
  std::string state;
  std::vector<StatementRecordView> records;
};
struct StatementTxView {
  std::string id;
  std::string kind;
  int64_t amount = 0;
  int64_t at = 0;
  std::string memo;
};
struct StatementView {
  std::string account;
  int64_t balance = 0;
  int64_t held = 0;
  std::optional<int64_t> earnings;  // server accounts
  std::vector<StatementPoView> purchase_orders;
  std::vector<StatementTxView> transactions;
};
Json to_json(const StatementView& s);
Result<StatementView> decode_statement(const Json& j);

// GET /v1/ledger/check.
struct LedgerCheckView {
  bool balanced = false;
  int64_t checked_at = 0;
  int64_t transactions = 0;
  int64_t entries = 0;
  int64_t total = 0;
  // Money in and out and where the rest is (corp/ledger_check.h); shown to the admin key only.
  std::optional<int64_t> deposited;
  std::optional<int64_t> paid_out;
  std::optional<int64_t> available;
  std::optional<int64_t> held;
  std::vector<std::string> problems;
};
Json to_json(const LedgerCheckView& c);
Result<LedgerCheckView> decode_ledger_check(const Json& j);

}  // namespace xop
