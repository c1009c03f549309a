#include "corp/expiry.h"

#include <algorithm>
#include <limits>

namespace xop {

TimeMs expiry_cutoff(TimeMs now, int64_t grace_ms) {
  TimeMs cutoff = 0;
  if (__builtin_sub_overflow(now, grace_ms, &cutoff)) {
    return grace_ms > 0 ? std::numeric_limits<TimeMs>::min() : std::numeric_limits<TimeMs>::max();
  }
  return cutoff;
}

TimeMs release_time(const PoExpiryView& po) {
  const bool unused = po.session.empty() && po.last_seq == 0;
  if (po.close_requested_at > 0 && unused) return std::min(po.close_requested_at, po.expires_at);
  if (po.close_requested_at > 0) return po.close_requested_at;
  if (unused) return po.expires_at;
  return 0;
}

bool release_due(const PoExpiryView& po, TimeMs now, int64_t grace_ms, int64_t backstop_ms) {
  if (!po.open || grace_ms < 0 || backstop_ms < 0) return false;
  const TimeMs d = release_time(po);
  if (d == 0) return false;
  // reported_through > d + grace  <=>  d < reported_through - grace (saturating).
  if (d < expiry_cutoff(std::min(po.reported_through, now), grace_ms)) return true;
  return d < expiry_cutoff(now, backstop_ms);
}

ExpiryPlan plan_expiry(const std::vector<PoExpiryView>& candidates, TimeMs now, int64_t grace_ms, int64_t backstop_ms) {
  ExpiryPlan plan;
  for (const auto& po : candidates) {
    if (!release_due(po, now, grace_ms, backstop_ms)) continue;
    if (po.hold > 0) {
      LedgerTransaction tx;
      tx.kind = TxKind::kExpire;
      tx.po_id = po.po_id;
      tx.memo = po.close_requested_at > 0 ? "purchase order " + po.po_id + " closed by the user"
                                          : "purchase order " + po.po_id + " expired unused";
      tx.entries = transfer(hold_ledger_account(po.po_id), user_ledger_account(po.user), po.hold);
      plan.transactions.push_back(std::move(tx));
    }
    plan.expired.push_back(po);
  }
  return plan;
}

}  // namespace xop
