#include "corp/corp_api.h"

#include <string>
#include <utility>

#include "core/encoding.h"
#include "crypto/digest.h"
#include "net/auth.h"
#include "proto/corp_answers.h"
#include "proto/corp_requests.h"
#include "proto/earnings.h"
#include "proto/po_list.h"

namespace xop {
namespace {

constexpr const char* kVersion = "0.1.0";
constexpr size_t kSmallBody = size_t{64} * 1024;
constexpr size_t kUsageBody = size_t{4} * 1024 * 1024;

// Each answer is built as its proto/corp_answers.h struct and encoded by that header, the codec
// the clients decode with.
AccountView account_view(const AccountRow& a) {
  return AccountView{a.id, to_string(a.kind), a.name, a.public_key, a.created_at, a.owner};
}

PoStatusView po_status_view(const PoRow& po, int64_t low_funds_intervals) {
  const int64_t remaining = po.remaining();
  const bool exhausted = remaining == 0 || po.status != PoStatus::kOpen;
  return PoStatusView{po.po_id,
                      po.user,
                      po.server,
                      po.max_amount,
                      po.charged,
                      remaining,
                      to_string(po.status),
                      exhausted,
                      !exhausted && low_funds(remaining, po.last_amount, low_funds_intervals),
                      po.closed() ? 0 : po.unpaid};
}

StatementRecordView record_view(const RecordRow& r) {
  return StatementRecordView{r.record.session,         r.record.seq,      r.record.period_start,
                             r.record.period_end,      r.record.reserved, r.record.used,
                             r.record.amount.micros(), r.charged,         r.record.final};
}

Json statement_json(const Statement& s) {
  StatementView v;
  v.account = s.account;
  v.balance = s.balance;
  v.held = s.held;
  v.earnings = s.earnings;
  for (const auto& p : s.purchase_orders) {
    StatementPoView pv{p.po.po_id, p.po.server, p.po.max_amount, p.po.charged, p.po.remaining(), to_string(p.po.status),
                       {}};
    for (const auto& r : p.records) pv.records.push_back(record_view(r));
    v.purchase_orders.push_back(std::move(pv));
  }
  for (const auto& t : s.transactions)
    v.transactions.push_back(StatementTxView{t.id, to_string(t.kind), t.amount, t.at, t.memo});
  return to_json(v);
}

Json settlement_json(const UsageSettlement& s, int64_t low_funds_intervals) {
  UsageAnswer a;
  for (const auto& o : s.outcomes) {
    UsageOutcomeView v{o.record.session, o.record.po_id, o.record.seq, o.duplicate ? "duplicate" : "charged",
                       o.charged};
    if (o.refused) {
      v.status = "refused";
      v.reason = o.refused->message;
      v.code = o.refused->code_name();
    }
    a.results.push_back(std::move(v));
  }
  for (const auto& st : s.purchase_orders) {
    a.purchase_orders.push_back(PoBalanceView{st.po_id, st.remaining, st.exhausted(), st.closed, st.closing(),
                                              low_funds(st, low_funds_intervals), st.closed ? 0 : st.unpaid});
  }
  return to_json(a);
}

}  // namespace

CorpApi::CorpApi(ClearingHouse& house, const Clock& clock)
    : house_(house),
      clock_(clock),
      verifier_(clock, house.public_key().account_id(), house.options().replay_window_ms) {
  auto r = std::make_shared<Router>();
  r->set_verifier(&verifier_);
  auto route = [this](Method m) {
    return [this, m](const HttpRequest& q, const PathParams& p) { return guarded(q, p, m); };
  };
  r->add(
      "GET", "/v1/info", [this](const HttpRequest& q, const PathParams& p) { return info(q, p); }, 0);
  r->add("POST", "/v1/accounts", route(&CorpApi::register_account), kSmallBody, Access::kSigned);
  r->add("GET", "/v1/accounts/{id}", route(&CorpApi::get_account), 0, Access::kSigned);
  r->add("GET", "/v1/accounts/{id}/earnings", route(&CorpApi::earnings), 0, Access::kSigned);
  r->add("GET", "/v1/accounts/{id}/purchase-orders", route(&CorpApi::account_pos), 0, Access::kSigned);
  r->add("GET", "/v1/servers/{id}", route(&CorpApi::get_server), 0);
  // Money-moving POSTs take an Idempotency-Key (idempotency.h).
  r->add("POST", "/v1/deposits", idempotent(&CorpApi::deposit), kSmallBody, Access::kSigned);
  r->add("POST", "/v1/payouts", idempotent(&CorpApi::payout), kSmallBody, Access::kSigned);
  r->add("POST", "/v1/purchase-orders", idempotent(&CorpApi::create_po), kSmallBody, Access::kSigned);
  r->add("GET", "/v1/purchase-orders/{po_id}", route(&CorpApi::get_po), 0, Access::kSigned);
  r->add("POST", "/v1/purchase-orders/{po_id}/close", idempotent(&CorpApi::close_po), kSmallBody, Access::kSigned);
  r->add("POST", "/v1/purchase-orders/{po_id}/extend", idempotent(&CorpApi::extend_po), kSmallBody, Access::kSigned);
  r->add("POST", "/v1/usage", idempotent(&CorpApi::usage), kUsageBody, Access::kSigned);
  r->add("GET", "/v1/statements/{account}", route(&CorpApi::statement), 0, Access::kSigned);
  r->add("GET", "/v1/ledger/check", route(&CorpApi::ledger_check), 0, Access::kOptional);
  router_ = std::move(r);
}

Handler CorpApi::idempotent(Method m) {
  return [this, m](const HttpRequest& q, const PathParams& p) {
    return serve_idempotent(
        house_, in_flight_, [this](const HttpRequest& r) { return authenticate(verifier_, r); }, q, clock_.now_ms(),
        [&](const HttpRequest& verified) { return guarded(verified, p, m); });
  };
}

HttpResponse CorpApi::guarded(const HttpRequest& q, const PathParams& p, Method m) {
  auto r = (this->*m)(q, p);
  if (!r) return error_response(r.error());
  return std::move(*r);
}

// The caller of a mutating request with its replay nonce: the SHA-256 of the request's decoded
// signature (Ed25519 signatures are deterministic and libsodium refuses malleated ones, so a
// replay carries the same bytes).
Result<Caller> CorpApi::signed_caller(const HttpRequest& q) {
  XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
  auto raw = base64_decode(q.signature().signature_b64);
  if (!raw) return make_error(ErrorCode::kUnauthenticated, "X-Xop-Signature is not base64");
  return Caller{std::move(key), sha256_hex(*raw)};
}

HttpResponse CorpApi::info(const HttpRequest&, const PathParams&) {
  return json_response(200,
                       to_json(CorpInfo{"xop-corp", kVersion, house_.public_key().base64(), verifier_.audience()}));
}

Result<HttpResponse> CorpApi::register_account(const HttpRequest& q, const PathParams&) {
  XOP_ASSIGN_OR_RETURN(auto caller, signed_caller(q));
  XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
  XOP_ASSIGN_OR_RETURN(auto req, decode_register_account(body));
  XOP_ASSIGN_OR_RETURN(auto a, house_.register_account(
                                   caller, RegisterAccount{req.kind, req.name, req.owner, std::move(req.owner_consent)},
                                   clock_.now_ms()));
  return json_response(201, to_json(AccountAnswer{account_view(a), std::nullopt, std::nullopt}));
}

Result<HttpResponse> CorpApi::get_account(const HttpRequest& q, const PathParams& p) {
  XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
  XOP_ASSIGN_OR_RETURN(auto s, house_.account(Caller{std::move(key), {}}, p.at("id"), clock_.now_ms()));
  return json_response(200, to_json(AccountAnswer{account_view(s.account), s.balance, s.held}));
}

Result<HttpResponse> CorpApi::earnings(const HttpRequest& q, const PathParams& p) {
  XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
  XOP_ASSIGN_OR_RETURN(auto e, house_.earnings(Caller{std::move(key), {}}, p.at("id"), clock_.now_ms()));
  EarningsView v{e.account, e.owner, e.day_start, e.total, e.today, {}};
  for (const auto& s : e.servers) {
    v.servers.push_back(ServerEarningsView{s.server, s.name, s.total, s.since, s.settlements});
  }
  return json_response(200, to_json(v));
}

// ?state=open|closing|closed filters; without it every PO the account bought.
Result<HttpResponse> CorpApi::account_pos(const HttpRequest& q, const PathParams& p) {
  XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
  std::optional<PoStatus> state;
  for (const auto& [k, v] : q.query) {
    if (k != "state") return invalid("unknown query parameter " + k);
    XOP_ASSIGN_OR_RETURN(state, parse_po_status(v, "state"));
  }
  XOP_ASSIGN_OR_RETURN(auto pos,
                       house_.purchase_orders_of(Caller{std::move(key), {}}, p.at("id"), state, clock_.now_ms()));
  std::vector<PoStatusView> views;
  views.reserve(pos.size());
  for (const auto& po : pos) views.push_back(po_status_view(po, house_.options().low_funds_intervals));
  return json_response(200, po_list_answer_json(views));
}

Result<HttpResponse> CorpApi::get_server(const HttpRequest&, const PathParams& p) {
  XOP_ASSIGN_OR_RETURN(auto a, house_.server(p.at("id")));
  return json_response(200, to_json(ServerAccountView{a.id, a.name, a.public_key, a.owner}));
}

Result<HttpResponse> CorpApi::deposit(const HttpRequest& q, const PathParams&) {
  XOP_ASSIGN_OR_RETURN(auto caller, signed_caller(q));
  if (!house_.is_admin(caller.key)) {
    return make_error(ErrorCode::kPermissionDenied, "only the admin key may deposit");
  }
  XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
  XOP_ASSIGN_OR_RETURN(auto req, decode_deposit(body));
  XOP_ASSIGN_OR_RETURN(auto d, house_.deposit(caller, Deposit{req.account, req.amount, req.memo}, clock_.now_ms()));
  return json_response(200, to_json(DepositAnswer{d.transaction, d.balance}));
}

Result<HttpResponse> CorpApi::payout(const HttpRequest& q, const PathParams&) {
  XOP_ASSIGN_OR_RETURN(auto caller, signed_caller(q));
  if (!house_.is_admin(caller.key)) {
    return make_error(ErrorCode::kPermissionDenied, "only the admin key may pay out");
  }
  XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
  XOP_ASSIGN_OR_RETURN(auto req, decode_payout(body));
  XOP_ASSIGN_OR_RETURN(auto d, house_.payout(caller, Payout{req.account, req.amount, req.memo}, clock_.now_ms()));
  return json_response(200, to_json(PayoutAnswer{d.transaction, d.balance}));
}

Result<HttpResponse> CorpApi::create_po(const HttpRequest& q, const PathParams&) {
  XOP_ASSIGN_OR_RETURN(auto caller, signed_caller(q));
  XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
  XOP_ASSIGN_OR_RETURN(auto req, decode_create_po(body));
  NewPurchaseOrder order{req.server, std::move(req.price_sheet), req.max_amount, req.ttl_ms};
  XOP_ASSIGN_OR_RETURN(auto doc, house_.create_po(caller, order, clock_.now_ms()));
  return json_response(201, create_po_answer_json(doc));
}

Result<HttpResponse> CorpApi::get_po(const HttpRequest& q, const PathParams& p) {
  XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
  XOP_ASSIGN_OR_RETURN(auto po, house_.purchase_order(Caller{std::move(key), {}}, p.at("po_id"), clock_.now_ms()));
  return json_response(200, to_json(po_status_view(po, house_.options().low_funds_intervals)));
}

Result<HttpResponse> CorpApi::close_po(const HttpRequest& q, const PathParams& p) {
  XOP_ASSIGN_OR_RETURN(auto caller, signed_caller(q));
  if (!q.body.empty()) {
    XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
    if (!body.is_object() || !body.empty()) return invalid("close takes no fields");
  }
  XOP_RETURN_IF_ERROR(house_.close_po(caller, p.at("po_id"), clock_.now_ms()));
  return json_response(200, to_json(ClosePoAnswer{0, to_string(PoStatus::kClosing)}));
}

Result<HttpResponse> CorpApi::extend_po(const HttpRequest& q, const PathParams& p) {
  XOP_ASSIGN_OR_RETURN(auto caller, signed_caller(q));
  XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
  XOP_ASSIGN_OR_RETURN(auto req, decode_extend_po(body));
  XOP_ASSIGN_OR_RETURN(auto e, house_.extend_po(caller, ExtendPo{p.at("po_id"), req.amount}, clock_.now_ms()));
  return json_response(200, to_json(ExtendPoAnswer{po_status_view(e.po, house_.options().low_funds_intervals),
                                                   e.arrears_paid, e.balance, e.transaction}));
}

Result<HttpResponse> CorpApi::usage(const HttpRequest& q, const PathParams&) {
  XOP_ASSIGN_OR_RETURN(auto caller, signed_caller(q));
  XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
  XOP_ASSIGN_OR_RETURN(auto req, decode_usage(body));
  XOP_ASSIGN_OR_RETURN(auto settled, house_.settle_usage(caller, req.batch, clock_.now_ms()));
  return json_response(200, settlement_json(settled, house_.options().low_funds_intervals));
}

Result<HttpResponse> CorpApi::statement(const HttpRequest& q, const PathParams& p) {
  XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
  XOP_ASSIGN_OR_RETURN(auto s, house_.statement(Caller{std::move(key), {}}, p.at("account"), clock_.now_ms()));
  return json_response(200, statement_json(s));
}

// Anyone may ask whether the ledger balances. The admin key's signature gets a fresh check with
// the problem details (which name accounts and balances); everyone else gets a recent answer
// (ClearingHouse::recent_ledger_check) with the problems only counted.
Result<HttpResponse> CorpApi::ledger_check(const HttpRequest& q, const PathParams&) {
  bool admin = false;
  if (!q.header(kHeaderKey).empty()) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    admin = house_.is_admin(key);
  }
  const TimeMs now = clock_.now_ms();
  XOP_ASSIGN_OR_RETURN(auto c, admin ? house_.check_ledger(now) : house_.recent_ledger_check(now));
  if (!admin && !c.problems.empty()) {
    const size_t n = c.problems.size();
    c.problems = {std::to_string(n) + " problem(s); details are shown to the admin key only"};
  }
  LedgerCheckView v = ledger_check_view(c);
  if (!admin) v.deposited = v.paid_out = v.available = v.held = std::nullopt;
  return json_response(200, to_json(v));
}

LedgerCheckView ledger_check_view(const LedgerCheck& c) {
  return LedgerCheckView{c.balanced,  c.checked_at, c.transactions, c.entries, c.total,
                         c.deposited, c.paid_out,   c.available,    c.held,    c.problems};
}

Json to_json(const LedgerCheck& c) { return to_json(ledger_check_view(c)); }

}  // namespace xop
