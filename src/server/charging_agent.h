// Sends the usage-record WAL to XenoCorp: every unacknowledged record, in signed batches, until
// the corp has acknowledged them. Records the corp reports as charged or duplicate are marked
// acknowledged; the states it reports of their purchase orders (exhausted, closing, low funds) are
// returned for credit control.
// A batch the corp refuses as a whole stays in the WAL and is logged (it will be retried; the
// corp's answer says why, e.g. a server bug or a key problem). Acknowledgements the store cannot
// write are logged at error and fail the flush; those records stay in the WAL and are resent (the
// corp answers "duplicate" and charges nothing twice).
// Checkpoints (corp/expiry.h): every batch's sent_at is stamped before the WAL is read, a batch
// below kMaxRecordsPerBatch holds the whole backlog, and when nothing is pending the agent sends
// an empty batch (a heartbeat) at most once per heartbeat interval, so that the corp can release
// the holds of purchase orders this server has nothing to claim on.
#pragma once

#include <string>
#include <vector>

#include "client/corp_client.h"
#include "server/state_store.h"

namespace xop {

class ChargingAgent {
 public:
  static constexpr int64_t kDefaultHeartbeatMs = 10'000;
  ChargingAgent(std::string server_id, const KeyPair& key, CorpClient& corp, StateStore& store, const Clock& clock,
                int64_t heartbeat_ms = kDefaultHeartbeatMs);

  struct FlushResult {
    size_t sent = 0;
    size_t acknowledged = 0;
    size_t refused = 0;  // set aside (StateStore::refuse_records): the corp will never take them
    std::vector<std::string> exhausted_pos;
    // The latest state the corp gave of every purchase order the flush named, by po_id order
    // (credit control: SessionManager::on_credit).
    std::vector<PoBalanceView> purchase_orders;
  };
  // Sends everything pending (in batches of at most kMaxRecordsPerBatch), or a heartbeat.
  Result<FlushResult> flush();

  // Where the last failed flush() failed: the corp could not be reached, the corp answered with
  // an error (refused or failed the batch), or this server's own state store failed. Records
  // stay in the WAL in every case.
  enum class Failure { kCorpUnreachable, kCorpAnswered, kLocalStore };
  [[nodiscard]] Failure last_failure() const { return last_failure_; }

 private:
  std::string server_id_;
  const KeyPair& key_;
  CorpClient& corp_;
  StateStore& store_;
  const Clock& clock_;
  int64_t heartbeat_ms_;
  TimeMs last_checkpoint_ = 0;  // sent_at of the last batch the corp accepted below the maximum
  Failure last_failure_ = Failure::kCorpUnreachable;
};

}  // namespace xop
