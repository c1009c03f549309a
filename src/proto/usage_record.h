// Usage records: what one session reserved and used over one charging interval, and the amount
// the server claims for it. Records are numbered per session from 1 without gaps; the last one
// has final=true. A server signs a batch of records (SignedDoc type "usage_batch") and sends
// it to XenoCorp, which recomputes each amount from the PO's price sheet.
#pragma once

#include <vector>

#include "core/money.h"
#include "core/resources.h"
#include "core/schema.h"
#include "core/time.h"
#include "crypto/signed_doc.h"

namespace xop {

inline constexpr const char* kUsageBatchType = "usage_batch";
inline constexpr size_t kMaxRecordsPerBatch = 1000;

struct UsageRecord {
  std::string session;  // "s" + 32 hex, chosen by the server
  std::string po_id;
  int64_t seq = 0;  // 1, 2, 3, ...
  TimeMs period_start = 0;
  TimeMs period_end = 0;
  Resources reserved;
  Usage used;
  Money amount;
  bool final = false;

  friend bool operator==(const UsageRecord&, const UsageRecord&) = default;
};

// A batch may be empty: a heartbeat telling the corp the server has nothing to deliver (see the
// checkpoint rule in corp/expiry.h, for which sent_at is stamped before the WAL is read).
struct UsageBatch {
  std::string server;  // account id of the signing server key
  TimeMs sent_at = 0;
  std::vector<UsageRecord> records;
};

// The wire forms, declared once (core/schema.h; docs/formats.md).
const Schema<UsageRecord>& usage_record_schema();
const Schema<UsageBatch>& usage_batch_schema();
Json to_json(const UsageRecord& r);
Result<UsageRecord> usage_record_from_json(const Json& j, const std::string& where);
Json to_json(const UsageBatch& b);
Result<UsageBatch> usage_batch_from_json(const Json& j);

// Verifies a signed batch: signature valid and signer is the server the batch names.
Result<UsageBatch> verify_usage_batch(const SignedDoc& doc);

bool is_session_id(std::string_view id);

}  // namespace xop
