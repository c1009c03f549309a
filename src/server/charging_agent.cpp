#include "server/charging_agent.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/log.h"

namespace xop {

ChargingAgent::ChargingAgent(std::string server_id, const KeyPair& key, CorpClient& corp, StateStore& store,
                             const Clock& clock, int64_t heartbeat_ms)
    : server_id_(std::move(server_id)),
      key_(key),
      corp_(corp),
      store_(store),
      clock_(clock),
      heartbeat_ms_(heartbeat_ms),
      last_checkpoint_(clock.now_ms()) {}

Result<ChargingAgent::FlushResult> ChargingAgent::flush() {
  FlushResult out;
  std::map<std::string, PoBalanceView> latest;
  for (int round = 0; round < 100; ++round) {
    // Stamped before the WAL is read: every record written before sent_at is in this batch or
    // was acknowledged (the corp's checkpoint rule relies on it).
    const TimeMs as_of = clock_.now_ms();
    auto unacked = store_.unacked_records(kMaxRecordsPerBatch);
    if (!unacked) {
      last_failure_ = Failure::kLocalStore;
      return tl::make_unexpected(unacked.error());
    }
    auto pending = std::move(*unacked);
    if (pending.empty() && (round > 0 || as_of - last_checkpoint_ < heartbeat_ms_)) break;
    UsageBatch batch;
    batch.server = server_id_;
    batch.sent_at = as_of;
    batch.records = pending;
    XOP_ASSIGN_OR_RETURN(auto doc, SignedDoc::sign(kUsageBatchType, to_json(batch), key_));
    out.sent += pending.size();
    auto reported = corp_.report_usage(doc);
    if (!reported) {
      // kUnavailable: no answer (or the corp said it is unavailable); anything else is the
      // corp's word about the batch (a refusal, or a failure it reported, e.g. "internal").
      last_failure_ =
          reported.error().code == ErrorCode::kUnavailable ? Failure::kCorpUnreachable : Failure::kCorpAnswered;
      return tl::make_unexpected(reported.error());
    }
    auto answer = std::move(*reported);
    // Only records of this batch that the corp says it charged (or already had) leave the WAL.
    std::set<std::pair<std::string, int64_t>> in_batch;
    for (const auto& r : pending) in_batch.emplace(r.session, r.seq);
    std::vector<std::pair<std::string, int64_t>> acked;
    std::vector<StateStore::Refusal> refused;
    for (const auto& r : answer.results) {
      if (!r.acknowledged() && !r.refused()) continue;
      auto key = std::make_pair(r.session, r.seq);
      if (in_batch.erase(key) != 1) continue;
      if (r.refused()) {
        refused.push_back(StateStore::Refusal{r.session, r.seq, r.reason.value_or("refused")});
      } else {
        acked.push_back(std::move(key));
      }
    }
    for (const auto& p : answer.purchase_orders) {
      if (p.exhausted) out.exhausted_pos.push_back(p.po_id);
      latest[p.po_id] = p;
    }
    if (pending.size() < kMaxRecordsPerBatch) last_checkpoint_ = as_of;
    if (pending.empty()) break;  // a heartbeat
    if (auto marked = store_.ack_records(acked); !marked) {
      // The corp holds these records now; they stay in the WAL and go again with the next flush,
      // which the corp answers with "duplicate" (charging nothing twice) until a write succeeds.
      last_failure_ = Failure::kLocalStore;
      XOP_LOGN_ERROR("server", "cannot mark {} usage record(s) the corp acknowledged (they will be resent): {}",
                     acked.size(), marked.error().message);
      return make_error(marked.error().code,
                        "cannot mark usage records the corp acknowledged: " + marked.error().message);
    }
    out.acknowledged += acked.size();
    if (!refused.empty()) {
      // Set aside, never sent again: the corp will not take them (corp/settlement.h). The session
      // goes on; its later records on the same PO are refused too (the chain is broken).
      if (auto marked = store_.refuse_records(refused); !marked) {
        last_failure_ = Failure::kLocalStore;
        return make_error(marked.error().code,
                          "cannot set aside usage records the corp refused: " + marked.error().message);
      }
      for (const auto& r : refused) {
        XOP_LOGN_ERROR("server", "the corp refused usage record {} of session {} (set aside, not charged): {}", r.seq,
                       r.session, r.reason);
      }
      out.refused += refused.size();
    }
    if (acked.empty() && refused.empty()) {
      last_failure_ = Failure::kCorpAnswered;
      return make_error(ErrorCode::kInternal, "corp acknowledged none of the records sent");
    }
  }
  std::sort(out.exhausted_pos.begin(), out.exhausted_pos.end());
  out.exhausted_pos.erase(std::unique(out.exhausted_pos.begin(), out.exhausted_pos.end()), out.exhausted_pos.end());
  // A PO exhausted in an earlier round and extended by a later one is not exhausted any more.
  out.exhausted_pos.erase(std::remove_if(out.exhausted_pos.begin(), out.exhausted_pos.end(),
                                         [&](const std::string& id) { return !latest.at(id).exhausted; }),
                          out.exhausted_pos.end());
  for (auto& [id, p] : latest) out.purchase_orders.push_back(std::move(p));
  return out;
}

}  // namespace xop
