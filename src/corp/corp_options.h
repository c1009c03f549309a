// The options of XenoCorp's clearing house (clearing_house.h) and of its service
// (corp_service.h). ClearingHouse::open refuses values outside the ranges stated here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "crypto/id_source.h"
#include "crypto/keys.h"
#include "storage/sqlite_db.h"

namespace xop {

struct CorpOptions {
  std::string db_path;  // SQLite database file (created if missing)
  // Code only, never from a config file: the daemon always syncs every commit; the in-process
  // simulated platform does not (storage/sqlite_db.h).
  SqliteDurability durability = SqliteDurability::kSynced;
  // Code only: where purchase-order and transaction ids come from (not owned; outlives the corp).
  // Null, the daemon's: random. The seeded simulated platform passes a SeededIds.
  IdSource* ids = nullptr;
  std::optional<PublicKey> admin_key;  // the only key allowed to POST /v1/deposits
  int64_t default_po_ttl_ms = 3'600'000;
  int64_t max_po_ttl_ms = 7LL * 24 * 3'600'000;
  int64_t replay_window_ms = 60'000;
  // The hold of an open PO with no usage record (from its expires_at), or of a PO its user asked
  // to close (from that time), goes back to the user once the PO's server has checked in past
  // that time + this grace (a session admitted just before reports its first record later), or
  // once unreported_po_backstop_ms have passed without. >= 0; backstop >= grace. See expiry.h.
  int64_t unused_po_grace_ms = 60'000;
  int64_t unreported_po_backstop_ms = 24LL * 3'600'000;
  // How far a server's clock (which dates usage periods) may differ from the corp's; see the
  // time rules in settlement.h. >= 0.
  int64_t usage_clock_skew_ms = 60'000;
  // GET /v1/ledger/check without the admin key's signature answers from a cached check that is
  // recomputed at most once per this interval (the full check reads the whole ledger). > 0.
  int64_t ledger_check_interval_ms = 10'000;
  // A PO is low on funds (answers carry low_funds) when its hold covers fewer than this many more
  // charging intervals at what its last usage record claimed (settlement.h low_funds). 1..1000.
  int64_t low_funds_intervals = 3;
  // Test seam: called at the start of every full ledger check, on the thread running it.
  std::function<void()> ledger_check_hook;
};

}  // namespace xop
