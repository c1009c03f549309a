// Sends the usage-record WAL to XenoCorp: every unacknowledged record, in signed batches, until
// the corp has acknowledged them. Records the corp reports as charged or duplicate are marked
// acknowledged; purchase orders it reports exhausted are returned so their sessions stop.
// A batch the corp refuses as a whole stays in the WAL and is logged (it will be retried; the
// corp's answer says why, e.g. a server bug or a key problem).
#pragma once

#include <string>
#include <vector>

#include "client/api_client.h"
#include "server/state_store.h"

namespace xop {

class ChargingAgent {
 public:
  ChargingAgent(std::string server_id, const KeyPair& key, ApiClient& corp, StateStore& store, const Clock& clock);

  struct FlushResult {
    size_t sent = 0;
    size_t acknowledged = 0;
    std::vector<std::string> exhausted_pos;
  };
  // Sends everything pending (in batches of at most kMaxRecordsPerBatch).
  Result<FlushResult> flush();

 private:
  std::string server_id_;
  const KeyPair& key_;
  ApiClient& corp_;
  StateStore& store_;
  const Clock& clock_;
};

}  // namespace xop
