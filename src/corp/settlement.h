// Settlement of usage records, as a pure planning step: given the state of every purchase order
// a batch names and the batch's records, decide what each record is charged and which ledger
// transactions settle them -- or refuse the whole batch. No clock, no I/O; storage loads the
// states, runs the plan, and writes it in one SQLite transaction.
//
// Rules, per record in batch order (state carries over between records of the same PO):
//   unknown PO -> 404; PO of another server -> 403; a session other than the PO's first -> 409;
//   seq <= last_seq -> duplicate (must equal the stored record, else 409), charged 0;
//   after the final record -> 409; seq != last_seq + 1 -> 409 (gap);
//   amount != compute_charge(rates, reserved, used, period) -> 400 naming session and seq;
//   otherwise charged min(amount, remaining hold) as hold -> user:<server owner>, and when the
//   record is final the rest of the hold is released to the user and the PO closes. Records on
//   a PO the user closed are accepted but charged 0.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "corp/ledger.h"
#include "proto/price_sheet.h"
#include "proto/usage_record.h"

namespace xop {

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

  [[nodiscard]] bool exhausted() const { return remaining == 0 || closed; }
};

struct RecordOutcome {
  UsageRecord record;
  bool duplicate = false;
  int64_t charged = 0;
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

Result<SettlementPlan> plan_settlement(const std::string& server, const std::vector<UsageRecord>& records,
                                       std::map<std::string, PoState> states, const StoredRecordLookup& stored);

}  // namespace xop
