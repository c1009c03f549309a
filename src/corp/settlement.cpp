#include "corp/settlement.h"

#include <algorithm>

#include "proto/charge.h"

namespace xop {
namespace {

std::string record_name(const UsageRecord& r) {
  return "record (session " + r.session + ", seq " + std::to_string(r.seq) + ")";
}

}  // namespace

Result<SettlementPlan> plan_settlement(const std::string& server, const std::vector<UsageRecord>& records,
                                       std::map<std::string, PoState> states, const StoredRecordLookup& stored) {
  SettlementPlan plan;
  std::vector<std::string> order;
  std::map<std::pair<std::string, int64_t>, UsageRecord> in_batch;

  for (const auto& rec : records) {
    auto it = states.find(rec.po_id);
    if (it == states.end()) {
      return make_error(ErrorCode::kNotFound, record_name(rec) + ": unknown purchase order " + rec.po_id);
    }
    PoState& po = it->second;
    if (po.server != server) {
      return make_error(ErrorCode::kPermissionDenied,
                        record_name(rec) + ": purchase order " + rec.po_id + " belongs to another server");
    }
    if (std::find(order.begin(), order.end(), rec.po_id) == order.end()) order.push_back(rec.po_id);
    if (!po.session.empty() && po.session != rec.session) {
      return make_error(ErrorCode::kConflict,
                        record_name(rec) + ": purchase order " + rec.po_id + " is bound to session " + po.session);
    }

    if (rec.seq <= po.last_seq) {
      std::optional<UsageRecord> prev;
      if (auto b = in_batch.find({rec.po_id, rec.seq}); b != in_batch.end()) {
        prev = b->second;
      } else {
        prev = stored(rec.po_id, rec.seq);
      }
      if (!prev || !(*prev == rec)) {
        return make_error(ErrorCode::kConflict,
                          record_name(rec) + ": differs from the record already settled with that seq");
      }
      plan.outcomes.push_back(RecordOutcome{rec, true, 0});
      continue;
    }
    if (po.final_seen) {
      return make_error(ErrorCode::kConflict, record_name(rec) + ": follows the final record of " + rec.po_id);
    }
    if (rec.seq != po.last_seq + 1) {
      return make_error(ErrorCode::kConflict,
                        record_name(rec) + ": seq gap, expected seq " + std::to_string(po.last_seq + 1));
    }
    auto charge = compute_charge(po.rates, rec.reserved, rec.used, rec.period_end - rec.period_start);
    if (!charge) return invalid(record_name(rec) + ": " + charge.error().message);
    if (charge->total != rec.amount) {
      return invalid(record_name(rec) + ": claims " + std::to_string(rec.amount.micros()) +
                     " but the price sheet gives " + std::to_string(charge->total.micros()));
    }

    const int64_t charged = po.closed ? 0 : std::min(rec.amount.micros(), po.remaining);
    if (charged > 0) {
      LedgerTransaction tx;
      tx.kind = "settlement";
      tx.po_id = po.po_id;
      tx.memo = "session " + rec.session + " seq " + std::to_string(rec.seq);
      tx.entries = transfer(hold_ledger_account(po.po_id), user_ledger_account(po.owner), charged);
      plan.transactions.push_back(std::move(tx));
      po.remaining -= charged;
      po.charged += charged;
    }
    po.session = rec.session;
    po.last_seq = rec.seq;
    if (rec.final) {
      po.final_seen = true;
      if (po.remaining > 0) {
        LedgerTransaction tx;
        tx.kind = "release";
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
