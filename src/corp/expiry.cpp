#include "corp/expiry.h"

#include <limits>

namespace xop {

TimeMs expiry_cutoff(TimeMs now, int64_t grace_ms) {
  TimeMs cutoff = 0;
  if (__builtin_sub_overflow(now, grace_ms, &cutoff)) {
    return grace_ms > 0 ? std::numeric_limits<TimeMs>::min() : std::numeric_limits<TimeMs>::max();
  }
  return cutoff;
}

bool expired_unused(const PoExpiryView& po, TimeMs now, int64_t grace_ms) {
  if (!po.open || !po.session.empty() || po.last_seq != 0 || grace_ms < 0) return false;
  return po.expires_at < expiry_cutoff(now, grace_ms);
}

ExpiryPlan plan_expiry(const std::vector<PoExpiryView>& candidates, TimeMs now, int64_t grace_ms) {
  ExpiryPlan plan;
  for (const auto& po : candidates) {
    if (!expired_unused(po, now, grace_ms)) continue;
    if (po.hold > 0) {
      LedgerTransaction tx;
      tx.kind = kExpireTxKind;
      tx.po_id = po.po_id;
      tx.memo = "purchase order " + po.po_id + " expired unused";
      tx.entries = transfer(hold_ledger_account(po.po_id), user_ledger_account(po.user), po.hold);
      plan.transactions.push_back(std::move(tx));
    }
    plan.expired.push_back(po);
  }
  return plan;
}

}  // namespace xop
