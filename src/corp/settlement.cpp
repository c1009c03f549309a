#include "corp/settlement.h"

#include <algorithm>
#include <limits>

#include "core/int128.h"
#include "proto/charge.h"

namespace xop {
namespace {

std::string record_name(const UsageRecord& r) {
  return "record (session " + r.session + ", seq " + std::to_string(r.seq) + ")";
}

// a - b, saturating (inputs are times or small tolerances).
TimeMs sub_sat(TimeMs a, int64_t b) {
  TimeMs r = 0;
  return __builtin_sub_overflow(a, b, &r) ? std::numeric_limits<TimeMs>::min() : r;
}
TimeMs add_sat(TimeMs a, int64_t b) {
  TimeMs r = 0;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<TimeMs>::max() : r;
}

}  // namespace

Status check_usage_claim(const PoState& po, const UsageRecord& rec, const UsageClaimLimits& limits) {
  const std::string name = record_name(rec);
  if (rec.period_start < sub_sat(po.issued_at, limits.clock_skew_ms)) {
    return invalid(name + ": period starts at " + std::to_string(rec.period_start) + ", before purchase order " +
                   po.po_id + " was issued at " + std::to_string(po.issued_at));
  }
  if (rec.period_end > add_sat(limits.now, limits.clock_skew_ms)) {
    return invalid(name + ": period ends at " + std::to_string(rec.period_end) + ", in the future (now " +
                   std::to_string(limits.now) + ")");
  }
  if (po.last_seq > 0 && rec.period_start < po.last_period_end) {
    return invalid(name + ": period starts at " + std::to_string(rec.period_start) +
                   ", overlapping the previous record, which ends at " + std::to_string(po.last_period_end));
  }
  if (rec.period_end < rec.period_start) return invalid(name + ": period ends before it starts");
  // The bounds of proto/usage_bounds.h, which the server applies to what it claims too.
  const int64_t period_ms = rec.period_end - rec.period_start;
  if (rec.used.cpu_ns > max_claimable_cpu_ns(rec.reserved.cpu_millis, period_ms)) {
    return invalid(name + ": claims " + std::to_string(rec.used.cpu_ns) + " ns of CPU, more than " +
                   std::to_string(rec.reserved.cpu_millis) + " cpu_millis allow in " +
                   std::to_string(rec.period_end - rec.period_start) + " ms");
  }
  if (rec.used.memory_byte_seconds > max_claimable_memory_byte_seconds(rec.reserved.memory_bytes, period_ms)) {
    return invalid(name + ": claims " + std::to_string(rec.used.memory_byte_seconds) +
                   " memory byte-seconds, more than " + std::to_string(rec.reserved.memory_bytes) +
                   " memory_bytes allow in " + std::to_string(rec.period_end - rec.period_start) + " ms");
  }
  return {};
}

bool low_funds(int64_t remaining, int64_t last_amount, int64_t intervals) {
  if (last_amount <= 0 || intervals <= 0) return false;
  return static_cast<i128>(remaining) < static_cast<i128>(last_amount) * intervals;
}

std::vector<ArrearsPayment> plan_arrears(const std::vector<ArrearsClaim>& claims, int64_t amount) {
  std::vector<ArrearsPayment> out;
  for (const auto& c : claims) {
    if (amount <= 0) break;
    if (c.lacking <= 0) continue;
    const int64_t pay = std::min(c.lacking, amount);
    out.push_back(ArrearsPayment{c.seq, pay});
    amount -= pay;
  }
  return out;
}

Result<SettlementPlan> plan_settlement(const std::string& server, const std::vector<UsageRecord>& records,
                                       std::map<std::string, PoState> states, const StoredRecordLookup& stored,
                                       const UsageClaimLimits& limits) {
  SettlementPlan plan;
  std::vector<std::string> order;
  std::map<std::pair<std::string, int64_t>, UsageRecord> in_batch;

  // Refuses `rec` (its outcome names why) and goes on with the next record.
  auto refuse = [&](const UsageRecord& rec, tl::unexpected<Error> why) {
    plan.outcomes.push_back(RecordOutcome{rec, false, 0, std::move(why).value()});
  };
  for (const auto& rec : records) {
    auto it = states.find(rec.po_id);
    if (it == states.end()) {
      refuse(rec, make_error(ErrorCode::kNotFound, record_name(rec) + ": unknown purchase order " + rec.po_id));
      continue;
    }
    PoState& po = it->second;
    if (po.server != server) {
      refuse(rec, make_error(ErrorCode::kPermissionDenied,
                             record_name(rec) + ": purchase order " + rec.po_id + " belongs to another server"));
      continue;
    }
    if (std::find(order.begin(), order.end(), rec.po_id) == order.end()) order.push_back(rec.po_id);
    if (!po.session.empty() && po.session != rec.session) {
      refuse(rec, make_error(ErrorCode::kConflict, record_name(rec) + ": purchase order " + rec.po_id +
                                                       " is bound to session " + po.session));
      continue;
    }

    if (rec.seq <= po.last_seq) {
      std::optional<UsageRecord> prev;
      if (auto b = in_batch.find({rec.po_id, rec.seq}); b != in_batch.end()) {
        prev = b->second;
      } else {
        prev = stored(rec.po_id, rec.seq);
      }
      if (!prev || !(*prev == rec)) {
        refuse(rec, make_error(ErrorCode::kConflict,
                               record_name(rec) + ": differs from the record already settled with that seq"));
        continue;
      }
      plan.outcomes.push_back(RecordOutcome{rec, true, 0});
      continue;
    }
    if (po.final_seen) {
      refuse(rec, make_error(ErrorCode::kConflict, record_name(rec) + ": follows the final record of " + rec.po_id));
      continue;
    }
    if (rec.seq != po.last_seq + 1) {
      refuse(rec, make_error(ErrorCode::kConflict,
                             record_name(rec) + ": seq gap, expected seq " + std::to_string(po.last_seq + 1)));
      continue;
    }
    if (auto claim = check_usage_claim(po, rec, limits); !claim) {
      refuse(rec, tl::make_unexpected(claim.error()));
      continue;
    }
    auto charge = compute_charge(po.rates, rec.reserved, rec.used, rec.period_end - rec.period_start);
    if (!charge) {
      refuse(rec, invalid(record_name(rec) + ": " + charge.error().message));
      continue;
    }
    if (charge->total != rec.amount) {
      refuse(rec, invalid(record_name(rec) + ": claims " + std::to_string(rec.amount.micros()) +
                          " but the price sheet gives " + std::to_string(charge->total.micros())));
      continue;
    }

    const int64_t charged = po.closed ? 0 : std::min(rec.amount.micros(), po.remaining);
    int64_t unpaid = po.unpaid;
    // Bounded: every amount is at most the record decoder's cap, far below INT64_MAX / kMax records.
    if (!po.closed && charged < rec.amount.micros() &&
        __builtin_add_overflow(po.unpaid, rec.amount.micros() - charged, &unpaid)) {
      refuse(rec, invalid(record_name(rec) + ": arrears out of range"));
      continue;
    }
    // Every rule holds: from here on the record is settled and the PO's state moves.
    po.unpaid = unpaid;
    po.last_amount = rec.amount.micros();
    if (charged > 0) {
      LedgerTransaction tx;
      tx.kind = TxKind::kSettlement;
      tx.po_id = po.po_id;
      tx.memo = "session " + rec.session + " seq " + std::to_string(rec.seq);
      tx.entries = transfer(hold_ledger_account(po.po_id), user_ledger_account(po.owner), charged);
      plan.transactions.push_back(std::move(tx));
      po.remaining -= charged;
      po.charged += charged;
    }
    po.session = rec.session;
    po.last_seq = rec.seq;
    po.last_period_end = rec.period_end;
    if (rec.final) {
      po.final_seen = true;
      if (po.remaining > 0) {
        LedgerTransaction tx;
        tx.kind = TxKind::kRelease;
        tx.po_id = po.po_id;
        tx.memo = "final record of session " + rec.session;
        tx.entries = transfer(hold_ledger_account(po.po_id), user_ledger_account(po.user), po.remaining);
        plan.transactions.push_back(std::move(tx));
        po.released += po.remaining;
        po.remaining = 0;
      }
      po.closed = true;
    }
    in_batch[{rec.po_id, rec.seq}] = rec;
    plan.outcomes.push_back(RecordOutcome{rec, false, charged});
  }
  for (const auto& id : order) plan.purchase_orders.push_back(states.at(id));
  return plan;
}

}  // namespace xop
