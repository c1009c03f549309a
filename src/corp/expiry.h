// Expiry of purchase orders that were never used, as a pure planning step. A user who gets a PO
// and never starts a session (nor closes the PO) would otherwise leave its hold locked forever.
// No clock, no I/O: storage loads the candidates, runs the plan with `now`, and writes it in one
// SQLite transaction.
//
// Rule: a PO that is open, has no usage record settled on it (no session bound, last_seq 0), and
// whose expires_at + grace_ms is earlier than `now` is expired: its whole hold goes back to the
// user in one balanced transaction (kind "expire", hold -> user) and it closes. The grace covers a
// session admitted just before expiry whose first record arrives later. A PO with records is never
// expired this way: its session's final record (or the user's close) releases it. A record that
// arrives after expiry finds the PO closed and is charged 0 (settlement.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "corp/ledger.h"

namespace xop {

inline constexpr const char* kExpireTxKind = "expire";

// What the expiry rule needs to know about one purchase order.
struct PoExpiryView {
  std::string po_id;
  std::string user;
  bool open = false;
  std::string session;  // empty until the first record
  int64_t last_seq = 0;
  TimeMs expires_at = 0;
  int64_t hold = 0;  // the balance of hold:<po_id>
};

// The latest expires_at that is expired at `now`: expires_at < expiry_cutoff(now, grace_ms) iff
// expires_at + grace_ms < now. Saturates instead of overflowing; grace_ms must be >= 0.
TimeMs expiry_cutoff(TimeMs now, int64_t grace_ms);

// True when `po` expired unused at `now` (the rule above).
bool expired_unused(const PoExpiryView& po, TimeMs now, int64_t grace_ms);

struct ExpiryPlan {
  // The POs to close, in input order, each with the amount released (its whole hold).
  std::vector<PoExpiryView> expired;
  // Ledger transactions to post, in order (ids and times are assigned by storage); one per
  // expired PO with a non-zero hold.
  std::vector<LedgerTransaction> transactions;
};

// Applies the rule to every candidate; candidates that are not expired are ignored.
ExpiryPlan plan_expiry(const std::vector<PoExpiryView>& candidates, TimeMs now, int64_t grace_ms);

}  // namespace xop
