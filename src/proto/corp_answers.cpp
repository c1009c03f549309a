#include "proto/corp_answers.h"

#include <utility>

#include "crypto/keys.h"
#include "proto/purchase_order.h"

namespace xop {
namespace {

constexpr size_t kMaxItems = size_t{1} << 20;
constexpr size_t kMaxId = 128;

// Decodes each element of `arr` with `one(element, where)`, folding the first error into `r`.
template <typename T, typename F>
std::vector<T> each(JsonReader& r, const Json& arr, const char* key, F one) {
  std::vector<T> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size() && r.ok(); ++i) {
    auto v = one(arr[i], r.path(key) + "[" + std::to_string(i) + "]");
    if (!v) {
      r.absorb(tl::make_unexpected(v.error()));
      break;
    }
    out.push_back(std::move(*v));
  }
  return out;
}

Result<AccountView> decode_account_view(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  AccountView a;
  a.id = r.str("id", kMaxId);
  a.kind = r.str("kind", 16);
  a.name = r.str("name", 256);
  a.public_key = r.str("public_key", kMaxId);
  a.created_at = r.i64("created_at", 0);
  a.owner = r.opt_str("owner", kMaxId);
  XOP_RETURN_IF_ERROR(r.finish());
  return a;
}

Result<UsageOutcomeView> decode_outcome(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  UsageOutcomeView o;
  o.session = r.str("session", kMaxId);
  o.po_id = r.str("po_id", kMaxId);
  o.seq = r.i64("seq", 0);
  o.status = r.str("status", 16);
  o.charged = r.i64("charged", 0);
  XOP_RETURN_IF_ERROR(r.finish());
  if (o.status.empty()) return invalid(where + ".status: empty");
  return o;
}

Result<PoBalanceView> decode_po_balance(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  PoBalanceView p;
  p.po_id = r.str("po_id", kMaxId);
  p.remaining = r.i64("remaining", 0);
  p.exhausted = r.boolean("exhausted");
  p.closed = r.boolean("closed");
  XOP_RETURN_IF_ERROR(r.finish());
  return p;
}

Result<StatementRecordView> decode_statement_record(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  StatementRecordView s;
  s.session = r.str("session", kMaxId);
  s.seq = r.i64("seq", 0);
  s.period_start = r.i64("period_start");
  s.period_end = r.i64("period_end");
  const Json& reserved = r.object("reserved");
  const Json& used = r.object("used");
  s.amount = r.i64("amount", 0);
  s.charged = r.i64("charged", 0);
  s.final = r.boolean("final");
  XOP_RETURN_IF_ERROR(r.finish());
  XOP_ASSIGN_OR_RETURN(s.reserved, resources_from_json(reserved, where + ".reserved"));
  XOP_ASSIGN_OR_RETURN(s.used, usage_from_json(used, where + ".used"));
  return s;
}

Result<StatementPoView> decode_statement_po(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  StatementPoView p;
  p.po_id = r.str("po_id", kMaxId);
  p.server = r.str("server", kMaxId);
  p.max_amount = r.i64("max_amount", 0);
  p.charged = r.i64("charged", 0);
  p.remaining = r.i64("remaining", 0);
  p.state = r.str("state", 16);
  const Json& recs = r.array("records", kMaxItems);
  p.records = each<StatementRecordView>(r, recs, "records", decode_statement_record);
  XOP_RETURN_IF_ERROR(r.finish());
  return p;
}

Result<StatementTxView> decode_statement_tx(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  StatementTxView t;
  t.id = r.str("id", kMaxId);
  t.kind = r.str("kind", 32);
  t.amount = r.i64("amount");
  t.at = r.i64("at", 0);
  t.memo = r.str("memo", 1024);
  XOP_RETURN_IF_ERROR(r.finish());
  return t;
}

Json account_view_json(const AccountView& a) {
  Json j{{"id", a.id}, {"kind", a.kind}, {"name", a.name}, {"public_key", a.public_key}, {"created_at", a.created_at}};
  if (a.owner) j["owner"] = *a.owner;
  return j;
}

}  // namespace

Json to_json(const CorpInfo& i) {
  return Json{{"service", i.service}, {"version", i.version}, {"public_key", i.public_key}, {"audience", i.audience}};
}

Result<CorpInfo> decode_corp_info(const Json& j) {
  JsonReader r(j, "corp_info");
  CorpInfo i;
  i.service = r.str("service", 64);
  i.version = r.str("version", 64);
  i.public_key = r.str("public_key", kMaxId);
  i.audience = r.str("audience", kMaxId);
  XOP_RETURN_IF_ERROR(r.finish());
  if (!PublicKey::from_base64(i.public_key)) return invalid("corp_info.public_key: not a public key");
  return i;
}

Json to_json(const AccountView& a) { return account_view_json(a); }

Json to_json(const AccountAnswer& a) {
  Json j{{"account", account_view_json(a.account)}};
  if (a.balance) j["balance"] = *a.balance;
  if (a.held) j["held"] = *a.held;
  return j;
}

Result<AccountAnswer> decode_account_answer(const Json& j) {
  JsonReader r(j, "account_answer");
  AccountAnswer a;
  const Json& acc = r.object("account");
  a.balance = r.opt_i64("balance");
  a.held = r.opt_i64("held", 0);
  XOP_RETURN_IF_ERROR(r.finish());
  XOP_ASSIGN_OR_RETURN(a.account, decode_account_view(acc, "account_answer.account"));
  return a;
}

Json to_json(const ServerAccountView& s) {
  Json j{{"id", s.id}, {"name", s.name}, {"public_key", s.public_key}};
  if (s.owner) j["owner"] = *s.owner;
  return Json{{"server", std::move(j)}};
}

Result<ServerAccountView> decode_server_account_answer(const Json& j) {
  JsonReader outer(j, "server_answer");
  const Json& sj = outer.object("server");
  XOP_RETURN_IF_ERROR(outer.finish());
  JsonReader r(sj, "server_answer.server");
  ServerAccountView s;
  s.id = r.str("id", kMaxId);
  s.name = r.str("name", 256);
  s.public_key = r.str("public_key", kMaxId);
  s.owner = r.opt_str("owner", kMaxId);
  XOP_RETURN_IF_ERROR(r.finish());
  return s;
}

Json to_json(const DepositAnswer& d) { return Json{{"transaction", d.transaction}, {"balance", d.balance}}; }

Result<DepositAnswer> decode_deposit_answer(const Json& j) {
  JsonReader r(j, "deposit_answer");
  DepositAnswer d;
  d.transaction = r.str("transaction", kMaxId);
  d.balance = r.i64("balance");
  XOP_RETURN_IF_ERROR(r.finish());
  return d;
}

Json create_po_answer_json(const SignedDoc& po) { return Json{{"purchase_order", po.to_json()}}; }

Result<SignedDoc> decode_create_po_answer(const Json& j) {
  JsonReader r(j, "purchase_order_answer");
  const Json& po = r.object("purchase_order");
  XOP_RETURN_IF_ERROR(r.finish());
  auto doc = SignedDoc::from_json(po, kPurchaseOrderType);
  if (!doc) return invalid("purchase_order_answer.purchase_order: " + doc.error().message);
  if (!doc->body.contains("po_id") || !doc->body["po_id"].is_string() ||
      !is_po_id(doc->body["po_id"].get_ref<const std::string&>())) {
    return invalid("purchase_order_answer.purchase_order.po_id: missing or not a purchase order id");
  }
  return doc;
}

Json to_json(const PoStatusView& p) {
  return Json{{"po_id", p.po_id},     {"user", p.user},           {"server", p.server}, {"max_amount", p.max_amount},
              {"charged", p.charged}, {"remaining", p.remaining}, {"state", p.state},   {"exhausted", p.exhausted}};
}

Result<PoStatusView> decode_po_status(const Json& j) {
  JsonReader r(j, "po_status");
  PoStatusView p;
  p.po_id = r.str("po_id", kMaxId);
  p.user = r.str("user", kMaxId);
  p.server = r.str("server", kMaxId);
  p.max_amount = r.i64("max_amount", 0);
  p.charged = r.i64("charged", 0);
  p.remaining = r.i64("remaining", 0);
  p.state = r.str("state", 16);
  p.exhausted = r.boolean("exhausted");
  XOP_RETURN_IF_ERROR(r.finish());
  return p;
}

Json to_json(const ClosePoAnswer& c) { return Json{{"released", c.released}, {"state", c.state}}; }

Result<ClosePoAnswer> decode_close_po_answer(const Json& j) {
  JsonReader r(j, "close_answer");
  ClosePoAnswer c;
  c.released = r.i64("released", 0);
  c.state = r.str("state", 16);
  XOP_RETURN_IF_ERROR(r.finish());
  return c;
}

Json to_json(const UsageAnswer& a) {
  Json results = Json::array();
  for (const auto& o : a.results) {
    results.push_back(
        Json{{"session", o.session}, {"po_id", o.po_id}, {"seq", o.seq}, {"status", o.status}, {"charged", o.charged}});
  }
  Json pos = Json::array();
  for (const auto& p : a.purchase_orders) {
    pos.push_back(
        Json{{"po_id", p.po_id}, {"remaining", p.remaining}, {"exhausted", p.exhausted}, {"closed", p.closed}});
  }
  return Json{{"results", std::move(results)}, {"purchase_orders", std::move(pos)}};
}

Result<UsageAnswer> decode_usage_answer(const Json& j) {
  JsonReader r(j, "usage_answer");
  UsageAnswer a;
  const Json& results = r.array("results", kMaxItems);
  a.results = each<UsageOutcomeView>(r, results, "results", decode_outcome);
  const Json& pos = r.array("purchase_orders", kMaxItems);
  a.purchase_orders = each<PoBalanceView>(r, pos, "purchase_orders", decode_po_balance);
  XOP_RETURN_IF_ERROR(r.finish());
  return a;
}

Json to_json(const StatementView& s) {
  Json po_list = Json::array();
  for (const auto& p : s.purchase_orders) {
    Json rj = Json::array();
    for (const auto& r : p.records) {
      rj.push_back(Json{{"session", r.session},
                        {"seq", r.seq},
                        {"period_start", r.period_start},
                        {"period_end", r.period_end},
                        {"reserved", to_json(r.reserved)},
                        {"used", to_json(r.used)},
                        {"amount", r.amount},
                        {"charged", r.charged},
                        {"final", r.final}});
    }
    po_list.push_back(Json{{"po_id", p.po_id},
                           {"server", p.server},
                           {"max_amount", p.max_amount},
                           {"charged", p.charged},
                           {"remaining", p.remaining},
                           {"state", p.state},
                           {"records", std::move(rj)}});
  }
  Json tj = Json::array();
  for (const auto& t : s.transactions) {
    tj.push_back(Json{{"id", t.id}, {"kind", t.kind}, {"amount", t.amount}, {"at", t.at}, {"memo", t.memo}});
  }
  Json out{{"account", s.account},
           {"balance", s.balance},
           {"held", s.held},
           {"purchase_orders", std::move(po_list)},
           {"transactions", std::move(tj)}};
  if (s.earnings) out["earnings"] = *s.earnings;
  return out;
}

Result<StatementView> decode_statement(const Json& j) {
  JsonReader r(j, "statement");
  StatementView s;
  s.account = r.str("account", kMaxId);
  s.balance = r.i64("balance");
  s.held = r.i64("held", 0);
  s.earnings = r.opt_i64("earnings");
  const Json& pos = r.array("purchase_orders", kMaxItems);
  s.purchase_orders = each<StatementPoView>(r, pos, "purchase_orders", decode_statement_po);
  const Json& txs = r.array("transactions", kMaxItems);
  s.transactions = each<StatementTxView>(r, txs, "transactions", decode_statement_tx);
  XOP_RETURN_IF_ERROR(r.finish());
  return s;
}

Json to_json(const LedgerCheckView& c) {
  return Json{{"balanced", c.balanced}, {"checked_at", c.checked_at}, {"transactions", c.transactions},
              {"entries", c.entries},   {"total", c.total},           {"problems", c.problems}};
}

Result<LedgerCheckView> decode_ledger_check(const Json& j) {
  JsonReader r(j, "ledger_check");
  LedgerCheckView c;
  c.balanced = r.boolean("balanced");
  c.checked_at = r.i64("checked_at");
  c.transactions = r.i64("transactions", 0);
  c.entries = r.i64("entries", 0);
  c.total = r.i64("total");
  c.problems = r.str_array("problems", kMaxItems);
  XOP_RETURN_IF_ERROR(r.finish());
  return c;
}

}  // namespace xop
