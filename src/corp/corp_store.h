// XenoCorp's persistent state in SQLite: accounts, the double-entry ledger (transactions,
// entries, cached balances), purchase orders and the usage records settled against them.
// Mutating calls must run inside an open SqliteTxn on db(); a caller's failure rolls back
// everything. Not thread-safe: ClearingHouse serialises access.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "corp/corp_records.h"
#include "corp/ledger.h"
#include "corp/ledger_check.h"
#include "corp/settlement.h"
#include "crypto/id_source.h"
#include "proto/usage_record.h"
#include "storage/sqlite_db.h"

namespace xop {

class CorpStore {
 public:
  // `ids` (not owned, outlives the store) mints transaction ids; null: random ones.
  static Result<CorpStore> open(const std::string& path, SqliteDurability durability = SqliteDurability::kSynced,
                                IdSource* ids = nullptr);
  SqliteDb& db() { return db_; }

  Result<std::optional<AccountRow>> find_account(const std::string& id);
  Status insert_account(const AccountRow& a);
  Result<bool> owns_servers(const std::string& user_id);

  // Validates and applies `tx` (assigning id and time), writing its entries and updating the
  // cached balances. Returns the transaction id.
  Result<std::string> post(LedgerTransaction tx, TimeMs now);
  Result<int64_t> balance(const std::string& ledger_account);
  Result<LedgerCheck> check();

  Status insert_po(const PoRow& po);
  Result<std::optional<PoRow>> find_po(const std::string& po_id);
  // Writes the settlement-relevant fields of `s` (max_amount too: an extension raises it).
  Status update_po(const PoState& s);
  // POs where `account` is the user or the server, oldest first.
  Result<std::vector<PoRow>> pos_of(const std::string& account);
  // Open POs whose release time (expiry.h) is before `cutoff`: unused ones that expired before it
  // and closing ones whose close was requested before it, oldest expiry first. expiry.h decides
  // which are released.
  Result<std::vector<PoRow>> releasable_pos_before(TimeMs cutoff);
  // The server's checkpoint (expiry.h), 0 when it has none; raising it never lowers it.
  Result<TimeMs> reported_through(const std::string& server);
  Status note_reported_through(const std::string& server, TimeMs through);
  // Sum of the holds of the user's open POs.
  Result<int64_t> held_by(const std::string& user_id);

  Result<std::optional<UsageRecord>> find_record(const std::string& po_id, int64_t seq);
  Status insert_record(const UsageRecord& r, int64_t charged, TimeMs now);
  Result<std::vector<RecordRow>> records_of(const std::string& po_id);
  // The PO's records charged less than they claimed (its arrears), oldest first.
  Result<std::vector<ArrearsClaim>> capped_records(const std::string& po_id);
  // Adds `paid` to what record (po_id, seq) was charged (an extension paying its arrears).
  Status add_record_charge(const std::string& po_id, int64_t seq, int64_t paid);

  // Replay protection that survives restarts: records `nonce` (derived from a signed request) as
  // received at `now`, refusing it with kUnauthenticated "request replayed" if it is already
  // there. Call inside the transaction of the request's effect, so that the effect and its nonce
  // commit together or not at all. Also prunes nonces received before `keep_after` (the caller
  // passes a time before which no request can still be inside the replay window).
  Status consume_nonce(const std::string& nonce, TimeMs now, TimeMs keep_after);

  // The answer stored with (scope, key) by insert_answer, if any (idempotency.h). Keys never
  // expire: they live as long as the ledger whose movements they guard.
  Result<std::optional<StoredAnswer>> find_answer(const std::string& scope, const std::string& key);
  // Stores the first answer to a keyed request; inside the transaction of its effect. kConflict
  // (SQLite's constraint) when the key is already stored.
  Status insert_answer(const std::string& scope, const std::string& key, const StoredAnswer& a, TimeMs now);

  Result<std::vector<AccountTxRow>> transactions_of(const std::string& ledger_account);
  // Total credited to the user's ledger account by settlements.
  Result<int64_t> earnings_of(const std::string& user_id);
  // The servers `owner_id` owns (by name, then id), each with what settlements of its purchase
  // orders credited to the owner in total and at or after `since`. One row per owned server, zero
  // when it earned nothing; `only_server` non-empty keeps that server only.
  Result<std::vector<ServerEarningsRow>> server_earnings(const std::string& owner_id, TimeMs since,
                                                         const std::string& only_server = "");

 private:
  CorpStore(SqliteDb db, IdSource* ids) : db_(std::move(db)), ids_(&ids_or_random(ids)) {}
  SqliteDb db_;
  IdSource* ids_;
};

}  // namespace xop
