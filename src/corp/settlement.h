// Settlement of usage records, as a pure planning step: given the state of every purchase order
// a batch names and the batch's records, decide what each record is charged and which ledger
// transactions settle them, or why it is refused. No clock, no I/O; storage loads the states,
// runs the plan, and writes it in one SQLite transaction.
//
// A refusal is per record: a record that breaks a rule below is refused (its outcome carries the
// error; it is not stored, charges nothing and changes no state), and the batch's other records
// are settled as if it were absent. So one bad record never blocks a server's whole usage log;
// the later records of the same PO then find a seq gap and are refused too (a PO's record chain
// is broken at its first bad record: nothing after it is charged, which can cost the server, never
// the user). Only a batch-level problem (signature, shape, the server's identity) refuses a
// whole batch, before planning.
//
// Rules, per record in batch order (state carries over between records of the same PO):
//   unknown PO -> 404; PO of another server -> 403; a session other than the PO's first -> 409;
//   seq <= last_seq -> duplicate (must equal the stored record, else 409), charged 0;
//   after the final record -> 409; seq != last_seq + 1 -> 409 (gap);
//   amount != compute_charge(rates, reserved, used, period) -> 400 naming session and seq;
//   a period that is impossible in time or a usage that is impossible for the reservation -> 400
//   (the time rules below, check_usage_claim);
//   otherwise charged min(amount, remaining hold) as hold -> user:<server owner> (what the hold
//   could not pay is the PO's arrears, `unpaid`, which an extension pays first), and when the
//   record is final the rest of the hold is released to the user and the PO closes. Records on
//   a PO that is closed (by its final record, or released by expiry.h) are accepted but charged 0;
//   records on a PO whose user asked to close it are charged until its release.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "corp/ledger.h"
#include "proto/price_sheet.h"
#include "proto/usage_bounds.h"
#include "proto/usage_record.h"

namespace xop {

// The time and physics rules a new record must meet (times in ms; the server's clock stamps the
// periods, the corp's clock gives `now`; `clock_skew_ms` is how far they may disagree):
//   - not dated before its purchase order existed: period_start >= issued_at - clock_skew_ms;
//   - not in the future: period_end <= now + clock_skew_ms;
//   - not overlapping the previous record of its session: period_start >= that record's
//     period_end (periods chain; a gap is allowed, e.g. across a server restart);
//   - CPU no more than the reservation allows over the period. The kernel enforces the quota per
//     CFS period (kCfsPeriodMs), at least kCfsMinQuotaUs per period, so a window of the period's
//     length can hold the quota of up to kCfsToleranceMs more: used.cpu_ns <=
//     max(cpu_millis, kCfsMinQuotaUs / kCfsPeriodMs) * (period_ms + kCfsToleranceMs) * 1000;
//   - memory no more than the reservation held over the period, with the same time tolerance and
//     1/16 for the kernel's page-granular charging: used.memory_byte_seconds * 1000 <=
//     (memory_bytes + memory_bytes / 16) * (period_ms + kCfsToleranceMs).
//   Disk and network usage are not bounded by the reservation (they are counters of bytes moved,
//   which no reservation field limits), so they are not checked here.
inline constexpr int64_t kDefaultUsageClockSkewMs = 5'000;

struct UsageClaimLimits {
  TimeMs now = 0;
  int64_t clock_skew_ms = kDefaultUsageClockSkewMs;  // >= 0
};

struct PoState {
  std::string po_id;
  std::string user;
  std::string server;
  std::string owner;  // account credited with the server's earnings
  Rates rates;
  int64_t max_amount = 0;
  int64_t charged = 0;
  int64_t released = 0;
  int64_t remaining = 0;  // the hold: max_amount - charged - released
  bool closed = false;
  bool final_seen = false;
  std::string session;  // empty until the first record
  int64_t last_seq = 0;
  TimeMs issued_at = 0;
  TimeMs expires_at = 0;
  TimeMs last_period_end = 0;     // of record last_seq; meaningful when last_seq > 0
  TimeMs close_requested_at = 0;  // the user asked to close it: still charged, but exhausted
  int64_t unpaid = 0;             // arrears: sum over its records of amount - charged while it was open
  int64_t last_amount = 0;        // what record last_seq claimed (its full amount, however much was charged)

  [[nodiscard]] bool exhausted() const { return remaining == 0 || closed || close_requested_at > 0; }
  [[nodiscard]] bool closing() const { return !closed && close_requested_at > 0; }
};

// Credit control's early warning: an open, not exhausted PO whose hold covers fewer than
// `intervals` more charging intervals at what its last record claimed (no record yet: never low).
// Pure; computed without overflow.
bool low_funds(int64_t remaining, int64_t last_amount, int64_t intervals);
inline bool low_funds(const PoState& po, int64_t intervals) {
  return !po.exhausted() && low_funds(po.remaining, po.last_amount, intervals);
}

// What an extension of `amount` (> 0) pays of a PO's arrears: the capped records (seq, what each
// still lacks), oldest first, are paid in that order until the amount runs out. Pure.
struct ArrearsClaim {
  int64_t seq = 0;
  int64_t lacking = 0;  // amount - charged, > 0
};
struct ArrearsPayment {
  int64_t seq = 0;
  int64_t paid = 0;  // > 0
};
std::vector<ArrearsPayment> plan_arrears(const std::vector<ArrearsClaim>& claims, int64_t amount);

struct RecordOutcome {
  UsageRecord record;
  bool duplicate = false;
  int64_t charged = 0;
  std::optional<Error> refused = std::nullopt;  // the rule it breaks (code as listed above)
};

struct SettlementPlan {
  std::vector<RecordOutcome> outcomes;
  // Ledger transactions to post, in order (ids and times are assigned by storage).
  std::vector<LedgerTransaction> transactions;
  // The resulting state of every PO the batch names, in order of first appearance.
  std::vector<PoState> purchase_orders;
};

// Returns the record already stored for (po_id, seq), if any.
using StoredRecordLookup = std::function<std::optional<UsageRecord>(const std::string& po_id, int64_t seq)>;

// The time and physics rules above for one new record `rec` on `po` (kInvalidArgument naming
// the record and the rule it breaks).
Status check_usage_claim(const PoState& po, const UsageRecord& rec, const UsageClaimLimits& limits);

Result<SettlementPlan> plan_settlement(const std::string& server, const std::vector<UsageRecord>& records,
                                       std::map<std::string, PoState> states, const StoredRecordLookup& stored,
                                       const UsageClaimLimits& limits);

}  // namespace xop
