// Release of purchase-order holds that no usage will claim, as a pure planning step: holds of POs
// that were never used, and of POs their user asked to close. No clock, no I/O: storage loads the
// candidates, runs the plan with `now`, and writes it in one SQLite transaction.
//
// The corp cannot see usage a server has metered but not yet delivered (a corp outage, a network
// partition), so it releases a hold only once the PO's server has shown that it has nothing left
// to claim on it, or after a long backstop. The rule, which a server can rely on:
//
//   A server's checkpoint `reported_through` is the latest time T (the server's clock, never later
//   than the corp's `now` when it arrived) such that the server has delivered every usage record
//   it wrote before T. A usage batch with fewer than kMaxRecordsPerBatch records (an empty batch
//   too: a heartbeat) must hold every record the server has not had acknowledged, read from its
//   WAL after the batch's sent_at was stamped; such a batch sets T to max(sent_at, its latest
//   period_end). A full batch sets nothing (more records may be waiting).
//
//   The PO's release time D is expires_at for a PO with no usage record yet (no session can be
//   admitted after expires_at), and the time its user asked to close it for a PO that is closing
//   (the earlier of the two if both apply). An open PO with a release time is released -- its
//   whole hold goes back to the user in one balanced transaction (kind "expire") and it closes --
//   when
//       reported_through > D + grace_ms     (the server has delivered everything it wrote up
//                                            to D + grace: the first record of a session admitted
//                                            before D is written within the grace), or
//       now > D + backstop_ms               (the server stayed silent that long; its claims for
//                                            usage before D are then forfeit).
//   An open PO with records and no close request has no release time: its session's final record
//   releases the rest. Records that arrive on a PO before its release are charged as usual; after
//   it, they find the PO closed and are charged 0 (settlement.h).
//
// What the server must do to be paid for everything: write a session's first record within the
// grace of admitting it, stop a session whose PO it is told is exhausted (closing POs are), and
// deliver its WAL (oldest acknowledged-or-not first, at most kMaxRecordsPerBatch per batch) with a
// heartbeat when it has nothing to send, before the backstop passes. The corp's options choose
// grace_ms (unused_po_grace_ms) and backstop_ms (unreported_po_backstop_ms).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/time.h"
#include "corp/ledger.h"

namespace xop {

inline constexpr const char* kExpireTxKind = to_string(TxKind::kExpire);

// What the release rule needs to know about one purchase order.
struct PoExpiryView {
  std::string po_id;
  std::string user;
  bool open = false;
  std::string session;  // empty until the first record
  int64_t last_seq = 0;
  TimeMs expires_at = 0;
  int64_t hold = 0;               // the balance of hold:<po_id>
  TimeMs close_requested_at = 0;  // 0: the user has not asked to close it
  TimeMs reported_through = 0;    // the checkpoint of the PO's server (0: none yet)
};

// The latest time that is more than grace_ms before `now`: t < expiry_cutoff(now, grace_ms) iff
// t + grace_ms < now. Saturates instead of overflowing; grace_ms must be >= 0.
TimeMs expiry_cutoff(TimeMs now, int64_t grace_ms);

// The PO's release time D (see above), or 0 when it has none.
TimeMs release_time(const PoExpiryView& po);

// True when `po` is released at `now` (the rule above).
bool release_due(const PoExpiryView& po, TimeMs now, int64_t grace_ms, int64_t backstop_ms);

struct ExpiryPlan {
  // The POs to close, in input order, each with the amount released (its whole hold).
  std::vector<PoExpiryView> expired;
  // Ledger transactions to post, in order (ids and times are assigned by storage); one per
  // expired PO with a non-zero hold.
  std::vector<LedgerTransaction> transactions;
};

// Applies the rule to every candidate; candidates that are not due are ignored.
ExpiryPlan plan_expiry(const std::vector<PoExpiryView>& candidates, TimeMs now, int64_t grace_ms, int64_t backstop_ms);

}  // namespace xop
