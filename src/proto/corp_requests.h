// The bodies of XenoCorp's mutating requests (docs/api/corp.yaml), declared once: clients
// (client/corp_client.h) encode them with to_json(), the corp decodes them. Each decoder is strict:
// unknown fields, wrong types, out-of-range values and malformed ids are kInvalidArgument;
// embedded signed documents must carry a valid signature. Exposed for the fuzzer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/json_reader.h"
#include "crypto/signed_doc.h"
#include "proto/account_kind.h"

namespace xop {

inline constexpr size_t kMaxAccountNameLen = 64;
inline constexpr size_t kMaxMemoLen = 256;

struct RegisterAccountRequest {
  AccountKind kind = AccountKind::kUser;  // "user" | "server" on the wire; any other name is refused
  std::string name;
  std::optional<std::string> owner;  // required iff kind is kServer
  // The owner's signed consent (proto/owner_consent.h); a new server account needs it. Its form
  // and signature are checked here, whom it names by the corp.
  std::optional<SignedDoc> owner_consent = std::nullopt;
};
Json to_json(const RegisterAccountRequest& r);
Result<RegisterAccountRequest> decode_register_account(const Json& j);

struct DepositRequest {
  std::string account;
  int64_t amount = 0;  // > 0
  std::string memo;
};
Json to_json(const DepositRequest& r);
Result<DepositRequest> decode_deposit(const Json& j);

// POST /v1/payouts: money leaves the platform from the account's available balance.
struct PayoutRequest {
  std::string account;
  int64_t amount = 0;  // > 0
  std::string memo;    // required: 1..kMaxMemoLen printable characters
};
Json to_json(const PayoutRequest& r);
Result<PayoutRequest> decode_payout(const Json& j);

struct CreatePoRequest {
  std::string server;
  SignedDoc price_sheet;  // signature checked; signer not yet compared with the server's key
  int64_t max_amount = 0;
  std::optional<int64_t> ttl_ms;  // > 0
};
Json to_json(const CreatePoRequest& r);
Result<CreatePoRequest> decode_create_po(const Json& j);

// POST /v1/purchase-orders/{po_id}/extend.
struct ExtendPoRequest {
  int64_t amount = 0;  // > 0
};
Json to_json(const ExtendPoRequest& r);
Result<ExtendPoRequest> decode_extend_po(const Json& j);

struct UsageRequest {
  SignedDoc batch;  // signature checked; contents checked by verify_usage_batch
};
Json to_json(const UsageRequest& r);
Result<UsageRequest> decode_usage(const Json& j);

// True for printable text without control characters (names and memos).
bool is_printable_text(std::string_view s);

}  // namespace xop
