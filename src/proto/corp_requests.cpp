#include "proto/corp_requests.h"

#include "core/schema.h"
#include "crypto/keys.h"
#include "proto/doc_fields.h"
#include "proto/owner_consent.h"
#include "proto/price_sheet.h"
#include "proto/usage_record.h"

namespace xop {

bool is_printable_text(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

namespace {

const Schema<RegisterAccountRequest>& register_account_schema() {
  static const auto s = Schema<RegisterAccountRequest>("account")
                            .custom(
                                "kind", [](const RegisterAccountRequest& r) { return Json(to_string(r.kind)); },
                                [](JsonReader& r, RegisterAccountRequest& v, const char* k) {
                                  const std::string name = r.str(k, 16);
                                  if (!r.ok()) return;
                                  auto kind = parse_account_kind(name, "account.kind");
                                  if (kind)
                                    v.kind = *kind;
                                  else
                                    r.fail(k, "must be \"user\" or \"server\"");
                                })
                            .str("name", &RegisterAccountRequest::name, kMaxAccountNameLen)
                            .opt_str("owner", &RegisterAccountRequest::owner, 64)
                            .custom_opt(
                                "owner_consent",
                                [](const RegisterAccountRequest& r) -> std::optional<Json> {
                                  if (!r.owner_consent) return std::nullopt;
                                  return r.owner_consent->to_json();
                                },
                                [](JsonReader& r, RegisterAccountRequest& v, const char* k) {
                                  const Json* j = r.opt_object(k);
                                  if (j == nullptr || !r.ok()) return;
                                  auto d = SignedDoc::from_json(*j, kOwnerConsentType);
                                  if (d)
                                    v.owner_consent = std::move(*d);
                                  else
                                    r.fail(k, d.error().message);
                                })
                            .check([](const RegisterAccountRequest& r) -> std::string {
                              if (r.name.empty() || !is_printable_text(r.name))
                                return ".name: must be non-empty printable text";
                              if (r.kind == AccountKind::kServer && !r.owner)
                                return ".owner: required for a server account";
                              if (r.kind == AccountKind::kUser && r.owner)
                                return ".owner: only server accounts have an owner";
                              if (r.owner && !is_account_id(*r.owner)) return ".owner: not an account id";
                              if (r.owner_consent && r.kind != AccountKind::kServer)
                                return ".owner_consent: only server accounts name an owner";
                              return "";
                            });
  return s;
}

const Schema<DepositRequest>& deposit_schema() {
  static const auto s =
      Schema<DepositRequest>("deposit")
          .str("account", &DepositRequest::account, 64)
          .i64("amount_micros", &DepositRequest::amount, 1)
          // Optional; an empty memo is left out.
          .custom_opt(
              "memo",
              [](const DepositRequest& r) -> std::optional<Json> {
                if (r.memo.empty()) return std::nullopt;
                return Json(r.memo);
              },
              [](JsonReader& r, DepositRequest& d, const char* k) { d.memo = r.opt_str(k, kMaxMemoLen).value_or(""); })
          .check([](const DepositRequest& r) { return is_account_id(r.account) ? "" : ".account: not an account id"; })
          .check(
              [](const DepositRequest& r) { return is_printable_text(r.memo) ? "" : ".memo: must be printable text"; });
  return s;
}

const Schema<PayoutRequest>& payout_schema() {
  static const auto s =
      Schema<PayoutRequest>("payout")
          .str("account_id", &PayoutRequest::account, 64)
          .i64("amount_micros", &PayoutRequest::amount, 1)
          .str("memo", &PayoutRequest::memo, kMaxMemoLen)
          .check(
              [](const PayoutRequest& r) { return is_account_id(r.account) ? "" : ".account_id: not an account id"; })
          .check([](const PayoutRequest& r) {
            return !r.memo.empty() && is_printable_text(r.memo) ? "" : ".memo: must be non-empty printable text";
          });
  return s;
}

const Schema<CreatePoRequest>& create_po_schema() {
  static const auto s =
      Schema<CreatePoRequest>("purchase_order_request")
          .str("server", &CreatePoRequest::server, 64)
          .object_with<SignedDoc>("price_sheet", &CreatePoRequest::price_sheet, signed_doc_json,
                                  signed_doc_at(kPriceSheetType, SignedDocErrors::kAsInvalid))
          .i64("max_amount_micros", &CreatePoRequest::max_amount, 1)
          .opt_i64("ttl_ms", &CreatePoRequest::ttl_ms, 1)
          .check([](const CreatePoRequest& r) { return is_account_id(r.server) ? "" : ".server: not an account id"; });
  return s;
}

const Schema<ExtendPoRequest>& extend_po_schema() {
  static const auto s = Schema<ExtendPoRequest>("extend_request").i64("amount_micros", &ExtendPoRequest::amount, 1);
  return s;
}

const Schema<UsageRequest>& usage_request_schema() {
  static const auto s = Schema<UsageRequest>("usage").object_with<SignedDoc>(
      "batch", &UsageRequest::batch, signed_doc_json, signed_doc_at(kUsageBatchType, SignedDocErrors::kKeepCode));
  return s;
}

}  // namespace

Json to_json(const RegisterAccountRequest& r) { return register_account_schema().encode(r); }
Result<RegisterAccountRequest> decode_register_account(const Json& j) { return register_account_schema().decode(j); }
Json to_json(const DepositRequest& r) { return deposit_schema().encode(r); }
Result<DepositRequest> decode_deposit(const Json& j) { return deposit_schema().decode(j); }
Json to_json(const PayoutRequest& r) { return payout_schema().encode(r); }
Result<PayoutRequest> decode_payout(const Json& j) { return payout_schema().decode(j); }
Json to_json(const CreatePoRequest& r) { return create_po_schema().encode(r); }
Result<CreatePoRequest> decode_create_po(const Json& j) { return create_po_schema().decode(j); }
Json to_json(const ExtendPoRequest& r) { return extend_po_schema().encode(r); }
Result<ExtendPoRequest> decode_extend_po(const Json& j) { return extend_po_schema().decode(j); }
Json to_json(const UsageRequest& r) { return usage_request_schema().encode(r); }
Result<UsageRequest> decode_usage(const Json& j) { return usage_request_schema().decode(j); }

}  // namespace xop
