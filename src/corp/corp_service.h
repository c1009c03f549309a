// XenoCorp, the clearing house: accounts and keys, balances, purchase orders with holds, the
// double-entry ledger, settlement of signed usage records, statements. The HTTP API is in
// docs/api/corp.yaml; router() serves it. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/keys.h"
#include "net/router.h"

namespace xop {

struct CorpOptions {
  std::string db_path;                 // SQLite database file (created if missing)
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
  // Test seam: called at the start of every full ledger check, on the thread running it.
  std::function<void()> ledger_check_hook;
};

// Result of proving the ledger: every transaction sums to zero, every stored balance equals the
// sum of its entries, no user or hold account is negative, the whole ledger sums to zero.
struct LedgerCheck {
  bool balanced = false;
  TimeMs checked_at = 0;  // the corp's time when the check ran
  int64_t transactions = 0;
  int64_t entries = 0;
  int64_t total = 0;  // sum over all accounts: 0 when balanced
  std::vector<std::string> problems;
};

class CorpService {
 public:
  virtual ~CorpService() = default;
  static Result<std::unique_ptr<CorpService>> open(CorpOptions opts, KeyPair corp_key, const Clock& clock);

  [[nodiscard]] virtual std::shared_ptr<const Router> router() const = 0;
  [[nodiscard]] virtual const PublicKey& public_key() const = 0;
  // A full, fresh check. It reads a snapshot on a connection of its own, so it does not hold up
  // other requests however large the ledger is.
  virtual Result<LedgerCheck> check_ledger() = 0;
};

Json to_json(const LedgerCheck& c);

}  // namespace xop
