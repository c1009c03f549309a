// The XenoServer's sessions: admission (purchase order, price sheet, capacity, image), start in a
// sandbox, sampling of kernel counters, usage records per charging interval (written to the
// state store's WAL before anything is sent), stop and final record. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/id_source.h"
#include "crypto/keys.h"
#include "proto/corp_answers.h"
#include "proto/purchase_order.h"
#include "proto/session_spec.h"
#include "server/image_store.h"
#include "server/meter.h"
#include "server/sandbox.h"
#include "server/session_network.h"
#include "server/state_store.h"

namespace xop {

struct SessionManagerOptions {
  std::string server_id;     // our account id
  std::string sessions_dir;  // per-session directories live here
  Resources capacity;
  int64_t max_pids_per_session = 1024;
  int64_t capacity_pids = 32768;  // every live session's spec.pids together stay within this
  int64_t stop_grace_ms = 5000;
  // Credit control (on_credit): how long a session whose purchase order ran dry stays frozen
  // before it is stopped with reason kFundsExhaustedReason; 0 stops it at once.
  int64_t freeze_grace_ms = 300'000;
  // The writable layer: true puts it on a loop-mounted ext4 disk of the session's reserved
  // disk_bytes (at least kMinSessionDiskBytes; default_disk_bytes for a session that reserves none,
  // which is also what admission counts against capacity for it); false keeps it in a plain
  // directory without a bound (the mock runtime, tests).
  bool loop_disks = false;
  int64_t default_disk_bytes = 32LL << 20;
  // Output capture (see OutputLimits in sandbox_process.h), and how long the capped log stays
  // readable after the session ended before its directory is deleted.
  int64_t log_max_bytes = 8LL << 20;
  int64_t log_rate_bytes_per_s = 1LL << 20;
  int64_t log_retention_ms = 3'600'000;
  // Where session ids come from (not owned; outlives the manager). Null: random.
  IdSource* ids = nullptr;
  // The session network (not owned; outlives the manager). Null: sessions get loopback only and a
  // spec publishing ports is refused.
  SessionNetwork* network = nullptr;
  std::string public_host;  // the host named in published endpoints ("host:port")
};

// A published port of a session, as its answer lists it.
struct SessionEndpoint {
  PublishedPort port;
  std::string endpoint;  // public_host:host_port
};

// Who ended a session the server stopped; it becomes the session's exit_reason (unless the kernel's
// OOM killer struck first): "stopped" (its user), "po-exhausted" (its purchase order ran dry, was
// closed or expired), "evicted" (the server's owner, or the server shutting down with
// --stop-sessions).
enum class StopCause { kUser, kPurchaseOrder, kEvicted };
const char* exit_reason_name(StopCause c);

// Why a session whose purchase order ran dry was stopped (at once, or after freeze_grace_ms).
inline constexpr const char* kFundsExhaustedReason = "funds-exhausted";
// Why a session whose purchase order its user closed was stopped.
inline constexpr const char* kPoClosedReason = "purchase order closed";

struct SessionView {
  SessionRow row;
  bool low_funds = false;    // the corp's last answer said its purchase order is low on funds
  Usage metered;             // everything metered so far
  int64_t memory_bytes = 0;  // current level
  Money claimed;             // sum of amounts in records so far
  std::string address;       // on the session network, while it holds one
  std::vector<SessionEndpoint> endpoints;
  // create()'s answer only: how long the phases of the start took, in order (the driver's own
  // phases included), for the start benchmark's breakdown.
  std::vector<TimedPhase> start_phases;
};

class SessionManager {
 public:
  // `price_sheet` is our current signed price sheet; POs must bind exactly this one.
  SessionManager(SessionManagerOptions opts, const Clock& clock, Sandbox& sandbox, ImageStore& images,
                 StateStore& store, PublicKey corp_key, SignedDoc price_sheet);
  ~SessionManager();
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // Re-reads sessions from the state store at start-up: running ones are re-adopted when the
  // sandbox still knows them, otherwise finished with a final record; ended ones whose final
  // record was still pending get it. The files of ended
  // sessions left by a crash (container, mounts, loop disk, bundle; logs past their retention)
  // and session directories the store does not know are removed.
  Status recover();

  // Admission + start. `user` is the authenticated caller.
  Result<SessionView> create(const std::string& user, const CreateSessionRequest& req);
  // Stops a session the caller owns (or any, when `user` is empty: server-side decision).
  Result<SessionView> stop(const std::string& user, const std::string& id, const std::string& reason,
                           StopCause cause = StopCause::kUser);
  Result<SessionView> get(const std::string& user, const std::string& id);
  Result<std::vector<SessionView>> list(const std::string& user);
  Result<std::string> logs(const std::string& user, const std::string& id, size_t max_bytes);

  // Samples every live session; finishes those whose workload exited; deletes the directories
  // (logs) of sessions that ended more than log_retention_ms ago.
  void sample_all();
  // Writes a usage record for every live session covering the time since its previous record.
  void write_records();
  // Credit control, from the corp's latest word on purchase orders (a usage answer). For the live
  // session of each PO:
  //   closed or closing (its user closed it)  -> stopped at once (kPoClosedReason);
  //   exhausted otherwise (the hold ran dry)  -> frozen (Sandbox::freeze, state "frozen",
  //       frozen_until = now + freeze_grace_ms, persisted) -- or stopped at once
  //       (kFundsExhaustedReason) when freeze_grace_ms is 0; a frozen session keeps writing its
  //       records (the reservation is still held), which the corp charges as far as the PO holds;
  //   not exhausted and frozen (it was extended) -> thawed, "running" again;
  //   and low_funds is kept for the session view.
  // Returns how many sessions it stopped (their final records wait in the WAL).
  size_t on_credit(const std::vector<PoBalanceView>& pos);
  // Stops the frozen sessions whose frozen_until has passed (kFundsExhaustedReason), whether or
  // not the corp can be reached. Returns how many.
  size_t stop_expired_frozen();

  [[nodiscard]] Resources reserved() const;
  [[nodiscard]] Resources free() const;
  // Stops every live session (server shutdown with --stop-sessions).
  void stop_all(const std::string& reason);
  // Sessions starting, running or stopping.
  [[nodiscard]] size_t live_count() const;

 private:
  struct Live;
  SessionView view_locked(const Live& s) const;
  // Writes the session's next usage record (final: its last, ending at `now`) and then its row.
  // Fails only when the record was not written, its usage back in the meter for the next one; a
  // row that cannot be saved after it is save_row_locked's to report and retry.
  Status write_record_locked(Live& s, TimeMs now, bool final);
  // Writes s.row to the store; a failure is logged at error and leaves s.row_dirty, which
  // write_records() retries.
  void save_row_locked(Live& s);
  // recover(): writes the final record of an ended session whose final record was pending when
  // the server went down, ending at its stop and carrying the usage its row kept; a failure is
  // logged and left pending for write_records().
  void write_pending_final_locked(Live& s);
  // `cause`: the server stopped it (see StopCause); nullopt: it ended on its own or failed.
  void finish_locked(Live& s, const std::string& state, const std::string& reason,
                     std::optional<StopCause> cause = std::nullopt);
  Live* find_owned(const std::string& user, const std::string& id, Error* err);
  Result<UsageSample> sample_locked(Live& s, bool final);
  [[nodiscard]] Resources held(const SessionSpec& spec) const;
  // Removes what an ended session left: its container, rootfs mount, disk and bundle, and with
  // `logs` its whole directory.
  void remove_files_locked(Live& s, bool logs);
  // Gives back the session's address and ports and removes its namespace (after its sandbox).
  void release_network_locked(Live& s);

  SessionManagerOptions opts_;
  const Clock& clock_;
  Sandbox& sandbox_;
  ImageStore& images_;
  StateStore& store_;
  PublicKey corp_key_;
  SignedDoc price_sheet_;
  Rates rates_;
  mutable std::mutex mu_;  // guards sessions_ and every Live
  std::map<std::string, std::unique_ptr<Live>> sessions_;
};

}  // namespace xop
