// The records XenoCorp keeps (clearing_house.h works on them, corp_store.h persists them):
// accounts, purchase orders, settled usage records, and ledger transactions seen from one
// account. Their states are enums, each with the one string form used on the wire and in the
// store (to_string / parse_*: parse refuses anything else with kInvalidArgument naming `what`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "corp/settlement.h"
#include "corp/tx_kind.h"
#include "proto/account_kind.h"
#include "proto/po_status.h"
#include "proto/usage_record.h"

namespace xop {

struct AccountRow {
  std::string id;
  AccountKind kind = AccountKind::kUser;
  std::string name;
  std::optional<std::string> owner;
  std::string public_key;  // base64
  TimeMs created_at = 0;
};

struct PoRow {
  std::string po_id;
  std::string user;
  std::string server;
  int64_t max_amount = 0;
  int64_t charged = 0;
  int64_t released = 0;
  PoStatus status = PoStatus::kOpen;  // kClosing iff open with close_requested_at > 0
  std::string session;
  int64_t last_seq = 0;
  bool final_seen = false;
  TimeMs issued_at = 0;
  TimeMs expires_at = 0;
  std::string rates_json;         // the bound price sheet's rates
  std::string document;           // the corp-signed PO, wire form
  TimeMs close_requested_at = 0;  // when the user asked to close it (0: not asked)
  int64_t unpaid = 0;             // arrears: what its records claimed beyond what its hold could pay
  int64_t last_amount = 0;        // what its last record claimed (low funds are judged by it)

  [[nodiscard]] int64_t remaining() const { return max_amount - charged - released; }
  [[nodiscard]] bool closed() const { return status == PoStatus::kClosed; }
};

// The settlement state of `po` (settlement.h) as far as the row knows it: `remaining` is the
// row's max - charged - released; owner, rates and last_period_end are left for the caller.
PoState to_po_state(const PoRow& po);

struct RecordRow {
  UsageRecord record;
  int64_t charged = 0;
  TimeMs received_at = 0;
};

// What one server earned its owner (corp_store.h server_earnings).
struct ServerEarningsRow {
  std::string server;
  std::string name;
  int64_t total = 0;        // micro-credits settled to the owner for its purchase orders, ever
  int64_t since = 0;        // of which at or after the `since` time asked for
  int64_t settlements = 0;  // how many settlement transactions make `total`
};

// A ledger transaction seen from one ledger account: the net of its entries on that account.
struct AccountTxRow {
  std::string id;
  TxKind kind = TxKind::kDeposit;
  int64_t amount = 0;
  TimeMs at = 0;
  std::string memo;
};

// The first answer to a keyed request, as the corp stores it with the key (corp_store.h) and
// replays it: the request's fingerprint (idempotency.h) and the answer's status, content type
// and body, byte for byte.
struct StoredAnswer {
  std::string fingerprint;
  int status = 0;
  std::string content_type;
  std::string body;
};

}  // namespace xop
