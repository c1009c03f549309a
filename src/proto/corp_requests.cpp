#include "proto/corp_requests.h"

#include "crypto/keys.h"
#include "proto/price_sheet.h"
#include "proto/usage_record.h"

namespace xop {

bool is_printable_text(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

Json to_json(const RegisterAccountRequest& r) {
  Json j{{"kind", to_string(r.kind)}, {"name", r.name}};
  if (r.owner) j["owner"] = *r.owner;
  return j;
}

Json to_json(const DepositRequest& r) {
  Json j{{"account", r.account}, {"amount", r.amount}};
  if (!r.memo.empty()) j["memo"] = r.memo;
  return j;
}

Json to_json(const CreatePoRequest& r) {
  Json j{{"server", r.server}, {"price_sheet", r.price_sheet.to_json()}, {"max_amount", r.max_amount}};
  if (r.ttl_ms) j["ttl_ms"] = *r.ttl_ms;
  return j;
}

Json to_json(const UsageRequest& r) { return Json{{"batch", r.batch.to_json()}}; }

Result<RegisterAccountRequest> decode_register_account(const Json& j) {
  JsonReader r(j, "account");
  RegisterAccountRequest req;
  const std::string kind = r.str("kind", 16);
  req.name = r.str("name", kMaxAccountNameLen);
  req.owner = r.opt_str("owner", 64);
  XOP_RETURN_IF_ERROR(r.finish());
  auto k = parse_account_kind(kind, "account.kind");
  if (!k) return invalid("account.kind: must be \"user\" or \"server\"");
  req.kind = *k;
  if (req.name.empty() || !is_printable_text(req.name))
    return invalid("account.name: must be non-empty printable text");
  if (req.kind == AccountKind::kServer && !req.owner) return invalid("account.owner: required for a server account");
  if (req.kind == AccountKind::kUser && req.owner) return invalid("account.owner: only server accounts have an owner");
  if (req.owner && !is_account_id(*req.owner)) return invalid("account.owner: not an account id");
  return req;
}

Result<DepositRequest> decode_deposit(const Json& j) {
  JsonReader r(j, "deposit");
  DepositRequest req;
  req.account = r.str("account", 64);
  req.amount = r.i64("amount", 1);
  req.memo = r.opt_str("memo", kMaxMemoLen).value_or("");
  XOP_RETURN_IF_ERROR(r.finish());
  if (!is_account_id(req.account)) return invalid("deposit.account: not an account id");
  if (!is_printable_text(req.memo)) return invalid("deposit.memo: must be printable text");
  return req;
}

Result<CreatePoRequest> decode_create_po(const Json& j) {
  JsonReader r(j, "purchase_order_request");
  CreatePoRequest req;
  req.server = r.str("server", 64);
  const Json& sheet = r.object("price_sheet");
  req.max_amount = r.i64("max_amount", 1);
  req.ttl_ms = r.opt_i64("ttl_ms", 1);
  XOP_RETURN_IF_ERROR(r.finish());
  if (!is_account_id(req.server)) return invalid("purchase_order_request.server: not an account id");
  auto doc = SignedDoc::from_json(sheet, kPriceSheetType);
  if (!doc) return invalid("purchase_order_request.price_sheet: " + doc.error().message);
  req.price_sheet = std::move(*doc);
  return req;
}

Result<UsageRequest> decode_usage(const Json& j) {
  JsonReader r(j, "usage");
  const Json& batch = r.object("batch");
  XOP_RETURN_IF_ERROR(r.finish());
  auto doc = SignedDoc::from_json(batch, kUsageBatchType);
  if (!doc) return make_error(doc.error().code, "usage.batch: " + doc.error().message);
  return UsageRequest{std::move(*doc)};
}

}  // namespace xop
