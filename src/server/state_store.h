// The XenoServer's durable local state (SQLite, WAL): its sessions and the write-ahead log of
// usage records. A record is written here before it is sent to XenoCorp and marked acknowledged
// only after the corp accepted it, so no record is lost or charged twice (the corp refuses
// duplicates by (session, seq)). Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json_reader.h"
#include "proto/usage_record.h"
#include "storage/sqlite_db.h"

namespace xop {

struct SessionRow {
  std::string id;
  std::string user;
  std::string po_id;
  Json spec;            // SessionSpec as JSON
  Json purchase_order;  // the signed PO as JSON
  std::string state;    // starting | running | frozen | stopping | stopped | failed
  std::string reason;
  TimeMs created_at = 0;
  TimeMs started_at = 0;
  TimeMs stopped_at = 0;
  int64_t last_seq = 0;
  TimeMs last_period_end = 0;
  std::optional<int> exit_code;
  // How the workload ended, once it did: "exited" (its own exit code), "signaled" (killed by a
  // signal, e.g. on stop), "oom-killed" (killed after the kernel's OOM killer struck in the
  // session's memory cgroup); empty while it runs or when unknown.
  std::string exit_reason;
  Json totals = Json::object();  // metered totals for display
  // Credit control: while frozen (its purchase order ran dry), when the server stops it unless
  // the PO is extended first; 0 otherwise.
  TimeMs frozen_until = 0;
  // The session's share of the session network (server/session_network.h SessionNet) while it
  // holds one; empty once released or when it has none (loopback only).
  Json network = Json::object();
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  static Result<std::unique_ptr<StateStore>> open(const std::string& path,
                                                  SqliteDurability durability = SqliteDurability::kSynced);

  // Inserts a new session; kConflict when the PO is already used by another session.
  virtual Status insert_session(const SessionRow& s) = 0;
  virtual Status update_session(const SessionRow& s) = 0;
  virtual Result<std::optional<SessionRow>> session(const std::string& id) = 0;
  virtual Result<std::vector<SessionRow>> sessions() = 0;

  // Appends a record and advances the session's last_seq/last_period_end in one transaction.
  virtual Status append_record(const UsageRecord& r) = 0;
  virtual Result<std::vector<UsageRecord>> unacked_records(size_t limit) = 0;
  virtual Status ack_records(const std::vector<std::pair<std::string, int64_t>>& keys) = 0;
  // Sets records the corp refused aside (a dead letter): they are no longer pending (never sent
  // again) and keep the corp's reason. Each key is (session, seq).
  struct Refusal {
    std::string session;
    int64_t seq = 0;
    std::string reason;
  };
  virtual Status refuse_records(const std::vector<Refusal>& refused) = 0;
  // Records the corp refused, oldest session and seq first, with the reason (at most `limit`).
  virtual Result<std::vector<std::pair<UsageRecord, std::string>>> refused_records(size_t limit) = 0;
  virtual Result<std::vector<UsageRecord>> records(const std::string& session) = 0;
};

}  // namespace xop
