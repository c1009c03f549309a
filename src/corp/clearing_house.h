// XenoCorp's clearing house as a domain object, without HTTP: accounts and keys, balances,
// purchase orders with holds, the double-entry ledger, settlement of signed usage records, the
// release of unclaimed holds, statements. Every operation is a typed call with the time `now`
// (the corp's clock, milliseconds) passed in: it reads no clock itself, so tests and simulators
// drive it on any timeline. corp_api.h serves it over HTTP; corp_service.h composes the two.
//
// Who calls: each operation takes the Caller the transport authenticated (its verified key);
// the clearing house decides what that key may do (its account, the admin key of CorpOptions).
// Mutating calls store the caller's request_nonce in the same SQLite transaction as their
// effect and refuse a nonce already stored (kUnauthenticated "request replayed"); nonces are
// pruned once older than now - 2 * replay_window_ms. An empty nonce skips that check (direct
// callers with no signed request).
//
// Every account, purchase-order, statement and mutating call first releases the holds no usage
// will claim any more (release_unclaimed_holds), in its own transaction. A call that fails
// changes nothing else. Money moves only in balanced ledger transactions. Thread-safe: calls are
// serialised, except the ledger checks, which read a snapshot on a connection of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "corp/corp_options.h"
#include "corp/corp_records.h"
#include "corp/ledger_check.h"
#include "corp/settlement.h"
#include "crypto/keys.h"
#include "crypto/signed_doc.h"

namespace xop {

class SqliteTxn;  // storage/sqlite_db.h

class CorpStore;

// The authenticated caller of one operation.
struct Caller {
  PublicKey key;              // verified: the caller holds its secret key
  std::string request_nonce;  // unique per signed request (corp_api: SHA-256 hex of its signature)
};

struct RegisterAccount {
  AccountKind kind = AccountKind::kUser;
  std::string name;
  std::optional<std::string> owner;  // a registered user; set for servers (checked by the decoder)
  // For a server: the owner's signed consent to be named by this server (proto/owner_consent.h).
  // A new server account is refused without it (kPermissionDenied).
  std::optional<SignedDoc> owner_consent = std::nullopt;
};

struct Deposit {
  std::string account;
  int64_t amount = 0;  // > 0
  std::string memo;
};

struct Deposited {
  std::string transaction;  // the ledger transaction id
  int64_t balance = 0;      // the account's balance after it
};

struct Payout {
  std::string account;
  int64_t amount = 0;  // > 0
  std::string memo;    // why, for whom: required
};

struct PaidOut {
  std::string transaction;  // the ledger transaction id
  int64_t balance = 0;      // the account's balance after it
};

// A request under an Idempotency-Key (idempotency.h): who sent it, its key, and the digest of
// what it asks.
struct IdempotencyClaim {
  std::string scope;  // the caller's account id: keys of different callers never meet
  std::string key;
  std::string fingerprint;
};

struct IdempotentAnswer {
  StoredAnswer answer;
  bool replayed = false;  // the stored first answer, not a new one
};

struct AccountStatus {
  AccountRow account;
  int64_t balance = 0;  // available
  int64_t held = 0;     // in the holds of its open purchase orders
};

struct NewPurchaseOrder {
  std::string server;
  SignedDoc price_sheet;  // signed by `server`
  int64_t max_amount = 0;
  std::optional<int64_t> ttl_ms;  // > 0; default and cap in CorpOptions
};

struct ExtendPo {
  std::string po_id;
  int64_t amount = 0;  // > 0: moved from the user's balance into the PO's hold
};

struct Extended {
  PoRow po;                  // after the extension
  int64_t arrears_paid = 0;  // of `amount`, paid at once to the server's owner for capped records
  int64_t balance = 0;       // the user's available balance after it
  std::string transaction;   // the ledger transaction of kind "extend"
};

struct UsageSettlement {
  std::vector<RecordOutcome> outcomes;   // one per record of the batch, in order
  std::vector<PoState> purchase_orders;  // the resulting state of each PO it names
};

struct PoStatement {
  PoRow po;
  std::vector<RecordRow> records;  // by seq
};

struct Statement {
  std::string account;
  int64_t balance = 0;
  int64_t held = 0;
  std::vector<PoStatement> purchase_orders;  // where the account is user or server, oldest first
  std::vector<AccountTxRow> transactions;    // on its user ledger account, in order
  std::optional<int64_t> earnings;           // set when it owns servers: total settled to it
};

// What an owner's servers earned: settlements credited to the owner, per server, in total and
// since the start of the current UTC day.
struct Earnings {
  std::string account;                     // the account asked about (a user, or one server)
  std::string owner;                       // the user the money went to
  TimeMs day_start = 0;                    // 00:00 UTC of `now`: "today" counts from here
  int64_t total = 0;                       // sum over `servers`
  int64_t today = 0;                       // sum over `servers`
  std::vector<ServerEarningsRow> servers;  // `since` is today's part
};

// 00:00 UTC of the day holding `now` (ms since the epoch, now >= 0).
constexpr TimeMs utc_day_start(TimeMs now) { return now - now % 86'400'000; }

class ClearingHouse {
 public:
  // Opens (creating if missing) the database at opts.db_path; refuses options outside their
  // ranges (corp_options.h) with kInvalidArgument. `corp_key` signs purchase orders.
  static Result<std::unique_ptr<ClearingHouse>> open(CorpOptions opts, KeyPair corp_key);
  ~ClearingHouse();
  ClearingHouse(const ClearingHouse&) = delete;
  ClearingHouse& operator=(const ClearingHouse&) = delete;

  [[nodiscard]] const PublicKey& public_key() const { return key_.public_key(); }
  [[nodiscard]] const CorpOptions& options() const { return opts_; }
  [[nodiscard]] bool is_admin(const PublicKey& k) const;

  // Registers caller.key as an account (its id is the key's account id). kConflict if already
  // registered; an owner must be a registered user (kNotFound / kInvalidArgument).
  Result<AccountRow> register_account(const Caller& caller, const RegisterAccount& req, TimeMs now);
  // The admin key only (kPermissionDenied): moves `amount` from external:deposits to the account.
  Result<Deposited> deposit(const Caller& caller, const Deposit& req, TimeMs now);
  // The admin key only (kPermissionDenied): moves `amount` from the account's available balance to
  // external:payouts (kPaymentRequired above the balance; holds are not touched), recording the
  // memo and the admin's account id in the ledger transaction's memo.
  Result<PaidOut> payout(const Caller& caller, const Payout& req, TimeMs now);

  // Serves one request under an Idempotency-Key, in ONE SQLite transaction with its effect:
  // - the key is stored for claim.scope with the same fingerprint: its stored answer, replayed
  //   (`run` is not called);
  // - stored with another fingerprint: kIdempotencyKeyReused, nothing happens;
  // - not stored: calls `run` (which calls the operations above; their transactions nest inside
  //   this one). A 2xx answer is stored with the key and commits with the operation's effect, so
  //   the effect and its answer are kept together or not at all; any other answer rolls
  //   everything back and is returned unstored (a failed call changed nothing, so a retry with
  //   the key runs it again).
  // `run` runs with the clearing house's lock held: it must call nothing but this object.
  Result<IdempotentAnswer> run_idempotent(const IdempotencyClaim& claim, TimeMs now,
                                          const std::function<StoredAnswer()>& run);

  // Readable by the account itself, the owner of a server account, and the admin.
  Result<AccountStatus> account(const Caller& caller, const std::string& id, TimeMs now);
  // Public: a registered server account (users are kNotFound like unknown ids).
  Result<AccountRow> server(const std::string& id);

  // A registered user buys from a registered server: moves max_amount into the PO's hold and
  // returns the corp-signed purchase order (proto/purchase_order.h).
  Result<SignedDoc> create_po(const Caller& caller, const NewPurchaseOrder& req, TimeMs now);
  // Readable by its user, its server, the server's owner, the admin.
  Result<PoRow> purchase_order(const Caller& caller, const std::string& po_id, TimeMs now);
  // Its user asks to close it: it becomes closing (exhausted, still charged); its hold is
  // released by release_unclaimed_holds (expiry.h). kConflict when closed or already closing.
  Status close_po(const Caller& caller, const std::string& po_id, TimeMs now);

  // Its user adds `amount` to an open PO (neither closed nor closing, else kConflict): the amount
  // moves from the user's balance into the hold (kPaymentRequired above the available balance;
  // kInvalidArgument for amount <= 0 or a max_amount that would overflow), and the PO's arrears
  // (records charged less than they claimed because the hold ran dry) are paid from it first,
  // oldest record first, as settlements to the server's owner -- all in one SQLite transaction.
  // Unknown PO: kNotFound; another user's (the admin's too): kPermissionDenied. The corp-signed
  // PO document keeps its original max_amount: the hold the corp keeps is what counts.
  Result<Extended> extend_po(const Caller& caller, const ExtendPo& req, TimeMs now);

  // Settles a usage batch signed by the calling server (proto/usage_record.h; settlement.h has
  // the rules). A batch below kMaxRecordsPerBatch records is the server's checkpoint (expiry.h).
  Result<UsageSettlement> settle_usage(const Caller& caller, const SignedDoc& batch, TimeMs now);

  // For a user: what each server it owns earned it. For a server: what that server earned its
  // owner. Readable by the user (resp. the server itself and its owner) and the admin; anyone
  // else gets kPermissionDenied, whether or not the account exists (so strangers learn nothing).
  Result<Earnings> earnings(const Caller& caller, const std::string& id, TimeMs now);

  // The purchase orders the account bought (as user), oldest first, only those in `state` when
  // set. Private to its account (kPermissionDenied for anyone else, the admin too).
  Result<std::vector<PoRow>> purchase_orders_of(const Caller& caller, const std::string& id,
                                                std::optional<PoStatus> state, TimeMs now);

  // Private to its account (kPermissionDenied for anyone else, the admin too).
  Result<Statement> statement(const Caller& caller, const std::string& id, TimeMs now);

  // Releases the holds of purchase orders no usage will claim any more (expiry.h). Returns how
  // many were closed. Called by the operations above; callable on its own (a sweep).
  Result<size_t> release_unclaimed_holds(TimeMs now);

  // A full, fresh check of the ledger at `now` (runs CorpOptions::ledger_check_hook first).
  Result<LedgerCheck> check_ledger(TimeMs now);
  // The last full check if younger than ledger_check_interval_ms, else a new one; while one
  // caller recomputes it the others get the previous answer, so a flood runs at most one full
  // check per interval.
  Result<LedgerCheck> recent_ledger_check(TimeMs now);

 private:
  ClearingHouse(CorpOptions opts, KeyPair key, std::unique_ptr<CorpStore> store,
                std::unique_ptr<CorpStore> check_store);
  Result<size_t> release_locked(TimeMs now);  // release_unclaimed_holds with mu_ held
  Result<AccountRow> registered_caller(const PublicKey& k);
  Status consume_nonce(const Caller& caller, TimeMs now);
  // Every mutating request starts so, with mu_ held: `txn` begins and the request's nonce is
  // consumed in it, so that the nonce is stored with the request's effect or not at all (a replay
  // fails here and changes nothing).
  Status begin_request_locked(SqliteTxn& txn, const Caller& caller, TimeMs now);
  Result<PoRow> readable_po(const PublicKey& key, const std::string& po_id);

  CorpOptions opts_;
  KeyPair key_;
  // Guards store_. Recursive: run_idempotent holds it while the operations it runs take it again.
  std::recursive_mutex mu_;
  std::unique_ptr<CorpStore> store_;
  std::mutex check_mu_;                     // guards check_store_
  std::unique_ptr<CorpStore> check_store_;  // a second connection, used only for ledger checks
  std::mutex refresh_mu_;                   // held by the caller recomputing the cached check
  std::mutex cache_mu_;                     // guards cached_
  std::optional<LedgerCheck> cached_;
};

}  // namespace xop
