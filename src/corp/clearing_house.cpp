#include "corp/clearing_house.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/log.h"
#include "corp/corp_store.h"
#include "corp/expiry.h"
#include "proto/owner_consent.h"
#include "proto/purchase_order.h"
#include "proto/usage_record.h"

namespace xop {

Result<std::unique_ptr<ClearingHouse>> ClearingHouse::open(CorpOptions opts, KeyPair corp_key) {
  if (opts.db_path.empty()) return invalid("corp: db_path is required");
  if (opts.default_po_ttl_ms <= 0 || opts.max_po_ttl_ms <= 0 || opts.replay_window_ms <= 0) {
    return invalid("corp: ttl and replay window options must be positive");
  }
  if (opts.unused_po_grace_ms < 0) return invalid("corp: unused_po_grace_ms must not be negative");
  if (opts.unreported_po_backstop_ms < opts.unused_po_grace_ms) {
    return invalid("corp: unreported_po_backstop_ms must be at least unused_po_grace_ms");
  }
  if (opts.usage_clock_skew_ms < 0) return invalid("corp: usage_clock_skew_ms must not be negative");
  if (opts.ledger_check_interval_ms <= 0) return invalid("corp: ledger_check_interval_ms must be positive");
  if (opts.low_funds_intervals < 1 || opts.low_funds_intervals > 1000) {
    return invalid("corp: low_funds_intervals must be between 1 and 1000");
  }
  XOP_ASSIGN_OR_RETURN(auto store, CorpStore::open(opts.db_path, opts.durability, opts.ids));
  XOP_ASSIGN_OR_RETURN(auto check_store, CorpStore::open(opts.db_path, opts.durability, opts.ids));
  return std::unique_ptr<ClearingHouse>(new ClearingHouse(std::move(opts), std::move(corp_key),
                                                          std::make_unique<CorpStore>(std::move(store)),
                                                          std::make_unique<CorpStore>(std::move(check_store))));
}

ClearingHouse::ClearingHouse(CorpOptions opts, KeyPair key, std::unique_ptr<CorpStore> store,
                             std::unique_ptr<CorpStore> check_store)
    : opts_(std::move(opts)), key_(std::move(key)), store_(std::move(store)), check_store_(std::move(check_store)) {}

ClearingHouse::~ClearingHouse() = default;

bool ClearingHouse::is_admin(const PublicKey& k) const { return opts_.admin_key && *opts_.admin_key == k; }

// The registered account that holds `k` (call with mu_ held).
Result<AccountRow> ClearingHouse::registered_caller(const PublicKey& k) {
  XOP_ASSIGN_OR_RETURN(auto a, store_->find_account(k.account_id()));
  if (!a || a->public_key != k.base64()) {
    return make_error(ErrorCode::kUnauthenticated, "the signing key is not a registered account");
  }
  return std::move(*a);
}

// Persisted replay protection for a mutating request (the HTTP verifier's cache is only in
// memory and forgets everything on restart), stored in the same SQLite transaction as the
// request's effect. A request the verifier accepted has a timestamp within the window of the
// receipt time, so it can be replayed only until received_at + 2 * window: older nonces are
// pruned. Call with mu_ held and a transaction open.
Status ClearingHouse::consume_nonce(const Caller& caller, TimeMs now) {
  if (caller.request_nonce.empty()) return {};
  TimeMs keep_after = 0;
  if (__builtin_sub_overflow(now, 2 * opts_.replay_window_ms, &keep_after)) keep_after = 0;
  return store_->consume_nonce(caller.request_nonce, now, keep_after);
}

// Runs in its own SQLite transaction, so a request that fails afterwards does not undo it.
// Cheap when nothing is due: one probe of the purchase orders.
Result<size_t> ClearingHouse::release_unclaimed_holds(TimeMs now) {
  std::lock_guard lock(mu_);
  return release_locked(now);
}

Status ClearingHouse::begin_request_locked(SqliteTxn& txn, const Caller& caller, TimeMs now) {
  XOP_RETURN_IF_ERROR(txn.begin());
  return consume_nonce(caller, now);
}

Result<size_t> ClearingHouse::release_locked(TimeMs now) {
  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(txn.begin());
  XOP_ASSIGN_OR_RETURN(auto rows, store_->releasable_pos_before(expiry_cutoff(now, opts_.unused_po_grace_ms)));
  if (rows.empty()) return size_t{0};  // nothing written; the transaction rolls back
  std::vector<PoExpiryView> views;
  std::map<std::string, const PoRow*> by_id;
  std::map<std::string, TimeMs> through;
  for (const auto& po : rows) {
    XOP_ASSIGN_OR_RETURN(int64_t hold, store_->balance(hold_ledger_account(po.po_id)));
    if (!through.contains(po.server)) {
      XOP_ASSIGN_OR_RETURN(through[po.server], store_->reported_through(po.server));
    }
    views.push_back(PoExpiryView{po.po_id, po.user, !po.closed(), po.session, po.last_seq, po.expires_at, hold,
                                 po.close_requested_at, through[po.server]});
    by_id[po.po_id] = &po;
  }
  ExpiryPlan plan = plan_expiry(views, now, opts_.unused_po_grace_ms, opts_.unreported_po_backstop_ms);
  if (plan.expired.empty()) return size_t{0};
  for (auto& tx : plan.transactions) XOP_RETURN_IF_ERROR(store_->post(std::move(tx), now));
  for (const auto& v : plan.expired) {
    PoState st = to_po_state(*by_id.at(v.po_id));
    st.released += v.hold;
    st.closed = true;
    XOP_RETURN_IF_ERROR(store_->update_po(st));
  }
  XOP_RETURN_IF_ERROR(txn.commit());
  XOP_LOGN_INFO("corp", "released the holds of {} purchase order(s) no usage can claim", plan.expired.size());
  return plan.expired.size();
}

Result<AccountRow> ClearingHouse::register_account(const Caller& caller, const RegisterAccount& req, TimeMs now) {
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(begin_request_locked(txn, caller, now));
  AccountRow a{caller.key.account_id(), req.kind, req.name, req.owner, caller.key.base64(), now};
  XOP_ASSIGN_OR_RETURN(auto existing, store_->find_account(a.id));
  if (existing) return make_error(ErrorCode::kConflict, "account " + a.id + " is already registered");
  if (req.owner) {
    XOP_ASSIGN_OR_RETURN(auto owner, store_->find_account(*req.owner));
    if (!owner) return make_error(ErrorCode::kNotFound, "owner " + *req.owner + " is not a registered account");
    if (owner->kind != AccountKind::kUser) return invalid("owner " + *req.owner + " is not a user account");
    if (!req.owner_consent) {
      return make_error(ErrorCode::kPermissionDenied,
                        "a server names its owner only with the owner's signed consent: the owner runs `xop server "
                        "consent " +
                            a.id + "` and the server sends it (config key owner_consent_file)");
    }
    XOP_ASSIGN_OR_RETURN(auto owner_key, PublicKey::from_base64(owner->public_key));
    XOP_RETURN_IF_ERROR(verify_owner_consent(*req.owner_consent, owner_key, a.id));
  }
  XOP_RETURN_IF_ERROR(store_->insert_account(a));
  XOP_RETURN_IF_ERROR(txn.commit());
  return a;
}

Result<AccountStatus> ClearingHouse::account(const Caller& caller, const std::string& id, TimeMs now) {
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  XOP_ASSIGN_OR_RETURN(auto a, store_->find_account(id));
  const std::string who = caller.key.account_id();
  const bool allowed = is_admin(caller.key) || (a && (a->id == who || (a->owner && *a->owner == who)));
  if (!allowed) return make_error(ErrorCode::kPermissionDenied, "not allowed to read account " + id);
  if (!a) return make_error(ErrorCode::kNotFound, "no account " + id);
  AccountStatus out;
  XOP_ASSIGN_OR_RETURN(out.balance, store_->balance(user_ledger_account(a->id)));
  XOP_ASSIGN_OR_RETURN(out.held, store_->held_by(a->id));
  out.account = std::move(*a);
  return out;
}

// Public and read-only, for XIS: is `id` a registered server account, with which key and owner?
// Users are 404 like unknown ids, so nothing about users can be learnt here.
Result<AccountRow> ClearingHouse::server(const std::string& id) {
  if (!is_account_id(id)) return invalid("not an account id: " + id.substr(0, 64));
  std::lock_guard lock(mu_);
  XOP_ASSIGN_OR_RETURN(auto a, store_->find_account(id));
  if (!a || a->kind != AccountKind::kServer) return make_error(ErrorCode::kNotFound, "no server account " + id);
  return std::move(*a);
}

Result<Deposited> ClearingHouse::deposit(const Caller& caller, const Deposit& req, TimeMs now) {
  if (!is_admin(caller.key)) return make_error(ErrorCode::kPermissionDenied, "only the admin key may deposit");
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(begin_request_locked(txn, caller, now));
  XOP_ASSIGN_OR_RETURN(auto a, store_->find_account(req.account));
  if (!a) return make_error(ErrorCode::kNotFound, "no account " + req.account);
  LedgerTransaction tx;
  tx.kind = TxKind::kDeposit;
  tx.memo = req.memo;
  tx.entries = transfer(kExternalDeposits, user_ledger_account(a->id), req.amount);
  Deposited out;
  XOP_ASSIGN_OR_RETURN(out.transaction, store_->post(std::move(tx), now));
  XOP_ASSIGN_OR_RETURN(out.balance, store_->balance(user_ledger_account(a->id)));
  XOP_RETURN_IF_ERROR(txn.commit());
  return out;
}

Result<PaidOut> ClearingHouse::payout(const Caller& caller, const Payout& req, TimeMs now) {
  if (!is_admin(caller.key)) return make_error(ErrorCode::kPermissionDenied, "only the admin key may pay out");
  if (req.amount <= 0) return invalid("amount_micros: must be positive");
  if (req.memo.empty()) return invalid("memo: required for a payout");
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(begin_request_locked(txn, caller, now));
  XOP_ASSIGN_OR_RETURN(auto a, store_->find_account(req.account));
  if (!a) return make_error(ErrorCode::kNotFound, "no account " + req.account);
  XOP_ASSIGN_OR_RETURN(const int64_t available, store_->balance(user_ledger_account(a->id)));
  if (req.amount > available) {
    return make_error(ErrorCode::kPaymentRequired, "payout of " + std::to_string(req.amount) + " micros exceeds " +
                                                       a->id + "'s available balance of " + std::to_string(available) +
                                                       " micros");
  }
  LedgerTransaction tx;
  tx.kind = TxKind::kPayout;
  tx.memo = req.memo + " (paid out by " + caller.key.account_id() + ")";
  tx.entries = transfer(user_ledger_account(a->id), kExternalPayouts, req.amount);
  PaidOut out;
  XOP_ASSIGN_OR_RETURN(out.transaction, store_->post(std::move(tx), now));
  XOP_ASSIGN_OR_RETURN(out.balance, store_->balance(user_ledger_account(a->id)));
  XOP_RETURN_IF_ERROR(txn.commit());
  return out;
}

Result<IdempotentAnswer> ClearingHouse::run_idempotent(const IdempotencyClaim& claim, TimeMs now,
                                                       const std::function<StoredAnswer()>& run) {
  std::lock_guard lock(mu_);
  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(txn.begin());
  XOP_ASSIGN_OR_RETURN(auto stored, store_->find_answer(claim.scope, claim.key));
  if (stored) {
    if (stored->fingerprint != claim.fingerprint) {
      return make_error(ErrorCode::kIdempotencyKeyReused,
                        "Idempotency-Key was already used by this account for another request");
    }
    return IdempotentAnswer{std::move(*stored), true};
  }
  StoredAnswer answer = run();
  if (answer.status < 200 || answer.status >= 300) return IdempotentAnswer{std::move(answer), false};
  answer.fingerprint = claim.fingerprint;
  XOP_RETURN_IF_ERROR(store_->insert_answer(claim.scope, claim.key, answer, now));
  XOP_RETURN_IF_ERROR(txn.commit());
  return IdempotentAnswer{std::move(answer), false};
}

Result<SignedDoc> ClearingHouse::create_po(const Caller& caller, const NewPurchaseOrder& req, TimeMs now) {
  XOP_ASSIGN_OR_RETURN(auto sheet, verify_price_sheet(req.price_sheet));
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  XOP_ASSIGN_OR_RETURN(auto user, registered_caller(caller.key));
  if (user.kind != AccountKind::kUser) return make_error(ErrorCode::kPermissionDenied, "only user accounts may buy");
  XOP_ASSIGN_OR_RETURN(auto server, store_->find_account(req.server));
  if (!server || server->kind != AccountKind::kServer) {
    return make_error(ErrorCode::kNotFound, "no server " + req.server);
  }
  if (sheet.server != server->id || req.price_sheet.signer.base64() != server->public_key) {
    return invalid("price_sheet: not signed by server " + req.server);
  }
  const int64_t ttl = std::min(req.ttl_ms.value_or(opts_.default_po_ttl_ms), opts_.max_po_ttl_ms);
  PurchaseOrder po;
  po.po_id = ids_or_random(opts_.ids).next("po");
  po.user = user.id;
  po.server = server->id;
  po.price_sheet = req.price_sheet;
  po.max_amount = Money::micros(req.max_amount);
  po.issued_at = now;
  if (__builtin_add_overflow(now, ttl, &po.expires_at)) return invalid("ttl_ms: out of range");
  XOP_ASSIGN_OR_RETURN(auto doc, SignedDoc::sign(kPurchaseOrderType, to_json(po), key_));

  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(begin_request_locked(txn, caller, now));
  PoRow row;
  row.po_id = po.po_id;
  row.user = po.user;
  row.server = po.server;
  row.max_amount = req.max_amount;
  row.status = PoStatus::kOpen;
  row.issued_at = po.issued_at;
  row.expires_at = po.expires_at;
  row.rates_json = to_json(sheet.rates).dump();
  row.document = doc.to_json().dump();
  XOP_RETURN_IF_ERROR(store_->insert_po(row));
  LedgerTransaction tx;
  tx.kind = TxKind::kHold;
  tx.po_id = po.po_id;
  tx.memo = "hold for purchase order " + po.po_id;
  tx.entries = transfer(user_ledger_account(user.id), hold_ledger_account(po.po_id), req.max_amount);
  XOP_RETURN_IF_ERROR(store_->post(std::move(tx), now));
  XOP_RETURN_IF_ERROR(txn.commit());
  return doc;
}

// The PO, if `key` may read it (its user, its server, the server's owner, the admin).
Result<PoRow> ClearingHouse::readable_po(const PublicKey& key, const std::string& po_id) {
  XOP_ASSIGN_OR_RETURN(auto po, store_->find_po(po_id));
  const std::string who = key.account_id();
  bool allowed = is_admin(key);
  if (po) {
    allowed = allowed || po->user == who || po->server == who;
    if (!allowed) {
      XOP_ASSIGN_OR_RETURN(auto server, store_->find_account(po->server));
      allowed = server && server->owner && *server->owner == who;
    }
  }
  if (!allowed) return make_error(ErrorCode::kPermissionDenied, "not allowed to read purchase order " + po_id);
  if (!po) return make_error(ErrorCode::kNotFound, "no purchase order " + po_id);
  return std::move(*po);
}

Result<PoRow> ClearingHouse::purchase_order(const Caller& caller, const std::string& po_id, TimeMs now) {
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  return readable_po(caller.key, po_id);
}

Status ClearingHouse::close_po(const Caller& caller, const std::string& po_id, TimeMs now) {
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(begin_request_locked(txn, caller, now));
  XOP_ASSIGN_OR_RETURN(auto po, store_->find_po(po_id));
  if (!po) return make_error(ErrorCode::kNotFound, "no purchase order " + po_id);
  if (po->user != caller.key.account_id()) {
    return make_error(ErrorCode::kPermissionDenied, "only the purchase order's user may close it");
  }
  if (po->closed()) return make_error(ErrorCode::kConflict, "purchase order " + po_id + " is closed");
  if (po->close_requested_at > 0) {
    return make_error(ErrorCode::kConflict, "purchase order " + po_id + " is already closing");
  }
  // The hold is not released now: the server may have metered usage it has not delivered yet.
  // The PO is closing (exhausted, so its server stops the session) and expiry.h releases the
  // rest once the server's checkpoint passes this time plus the grace.
  PoState st = to_po_state(*po);
  st.close_requested_at = now;
  XOP_RETURN_IF_ERROR(store_->update_po(st));
  return txn.commit();
}

Result<Extended> ClearingHouse::extend_po(const Caller& caller, const ExtendPo& req, TimeMs now) {
  if (req.amount <= 0) return invalid("amount_micros: must be positive");
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(begin_request_locked(txn, caller, now));
  XOP_ASSIGN_OR_RETURN(auto po, store_->find_po(req.po_id));
  if (!po) return make_error(ErrorCode::kNotFound, "no purchase order " + req.po_id);
  if (po->user != caller.key.account_id()) {
    return make_error(ErrorCode::kPermissionDenied, "only the purchase order's user may extend it");
  }
  if (po->closed()) return make_error(ErrorCode::kConflict, "purchase order " + req.po_id + " is closed");
  if (po->close_requested_at > 0) {
    return make_error(ErrorCode::kConflict, "purchase order " + req.po_id + " is closing");
  }
  PoState st = to_po_state(*po);
  if (__builtin_add_overflow(st.max_amount, req.amount, &st.max_amount)) {
    return invalid("amount_micros: the purchase order's max_amount would overflow");
  }
  XOP_ASSIGN_OR_RETURN(const int64_t available, store_->balance(user_ledger_account(po->user)));
  if (req.amount > available) {
    return make_error(ErrorCode::kPaymentRequired, "extending by " + std::to_string(req.amount) +
                                                       " micros needs more than the available balance of " +
                                                       std::to_string(available) + " micros");
  }
  Extended out;
  LedgerTransaction tx;
  tx.kind = TxKind::kExtend;
  tx.po_id = po->po_id;
  tx.memo = "extension of purchase order " + po->po_id;
  tx.entries = transfer(user_ledger_account(po->user), hold_ledger_account(po->po_id), req.amount);
  XOP_ASSIGN_OR_RETURN(out.transaction, store_->post(std::move(tx), now));
  if (st.unpaid > 0) {
    XOP_ASSIGN_OR_RETURN(auto server, store_->find_account(po->server));
    if (!server || !server->owner) {
      return make_error(ErrorCode::kInternal, "purchase order " + po->po_id + ": its server has no owner");
    }
    XOP_ASSIGN_OR_RETURN(auto claims, store_->capped_records(po->po_id));
    for (const auto& pay : plan_arrears(claims, req.amount)) {
      LedgerTransaction arrears;
      arrears.kind = TxKind::kSettlement;
      arrears.po_id = po->po_id;
      arrears.memo = "session " + po->session + " seq " + std::to_string(pay.seq) + " (arrears)";
      arrears.entries = transfer(hold_ledger_account(po->po_id), user_ledger_account(*server->owner), pay.paid);
      XOP_RETURN_IF_ERROR(store_->post(std::move(arrears), now));
      XOP_RETURN_IF_ERROR(store_->add_record_charge(po->po_id, pay.seq, pay.paid));
      st.charged += pay.paid;  // bounded by max_amount, which did not overflow
      st.unpaid -= pay.paid;
      out.arrears_paid += pay.paid;
    }
  }
  XOP_RETURN_IF_ERROR(store_->update_po(st));
  XOP_ASSIGN_OR_RETURN(out.balance, store_->balance(user_ledger_account(po->user)));
  XOP_ASSIGN_OR_RETURN(auto after, store_->find_po(po->po_id));
  if (!after) return make_error(ErrorCode::kInternal, "purchase order " + po->po_id + " vanished");
  XOP_RETURN_IF_ERROR(txn.commit());
  out.po = std::move(*after);
  XOP_LOGN_INFO("corp", "purchase order {} extended by {} micros ({} paid arrears)", po->po_id, req.amount,
                out.arrears_paid);
  return out;
}

Result<UsageSettlement> ClearingHouse::settle_usage(const Caller& caller, const SignedDoc& signed_batch, TimeMs now) {
  XOP_ASSIGN_OR_RETURN(auto batch, verify_usage_batch(signed_batch));
  if (!(signed_batch.signer == caller.key)) {
    return make_error(ErrorCode::kPermissionDenied, "usage batch is not signed by the requesting server");
  }
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  XOP_ASSIGN_OR_RETURN(auto server, registered_caller(caller.key));
  if (server.kind != AccountKind::kServer) return make_error(ErrorCode::kPermissionDenied, "only servers report usage");

  SqliteTxn txn(store_->db());
  XOP_RETURN_IF_ERROR(begin_request_locked(txn, caller, now));
  std::map<std::string, PoState> states;
  std::map<std::string, std::string> owners;
  for (const auto& rec : batch.records) {
    if (states.contains(rec.po_id)) continue;
    XOP_ASSIGN_OR_RETURN(auto po, store_->find_po(rec.po_id));
    if (!po) continue;  // the planner reports it
    if (!owners.contains(po->server)) {
      XOP_ASSIGN_OR_RETURN(auto sa, store_->find_account(po->server));
      owners[po->server] = sa && sa->owner ? *sa->owner : std::string();
    }
    XOP_ASSIGN_OR_RETURN(auto rates_j, parse_json(po->rates_json));
    PoState st = to_po_state(*po);
    XOP_ASSIGN_OR_RETURN(st.rates, rates_from_json(rates_j, "stored.rates"));
    XOP_ASSIGN_OR_RETURN(st.remaining, store_->balance(hold_ledger_account(po->po_id)));
    st.owner = owners[po->server];
    if (po->last_seq > 0) {
      XOP_ASSIGN_OR_RETURN(auto last, store_->find_record(po->po_id, po->last_seq));
      if (last) st.last_period_end = last->period_end;
    }
    states.emplace(st.po_id, std::move(st));
  }
  std::optional<Error> lookup_error;
  auto lookup = [&](const std::string& po_id, int64_t seq) -> std::optional<UsageRecord> {
    auto r = store_->find_record(po_id, seq);
    if (!r) {
      lookup_error = r.error();
      return std::nullopt;
    }
    return *r;
  };
  const UsageClaimLimits limits{now, opts_.usage_clock_skew_ms};
  auto plan = plan_settlement(server.id, batch.records, std::move(states), lookup, limits);
  if (lookup_error) return tl::make_unexpected(*lookup_error);
  if (!plan) return tl::make_unexpected(plan.error());
  for (auto& tx : plan->transactions) XOP_RETURN_IF_ERROR(store_->post(std::move(tx), now));
  size_t refused = 0;
  for (const auto& o : plan->outcomes) {
    if (o.refused) {
      // Not stored, charged nothing: the server learns why from the answer, and drops it.
      if (refused++ == 0) {
        XOP_LOGN_WARN("corp", "usage batch from server {}: refused {} (first of the batch's refusals)", server.id,
                      o.refused->message);
      }
      continue;
    }
    if (!o.duplicate) XOP_RETURN_IF_ERROR(store_->insert_record(o.record, o.charged, now));
  }
  if (refused > 1) {
    XOP_LOGN_WARN("corp", "usage batch from server {}: {} of {} records refused", server.id, refused,
                  plan->outcomes.size());
  }
  // A batch below the maximum size holds the server's whole backlog: a checkpoint (expiry.h).
  if (batch.records.size() < kMaxRecordsPerBatch) {
    TimeMs through = batch.sent_at;
    for (const auto& r : batch.records) through = std::max(through, r.period_end);
    XOP_RETURN_IF_ERROR(store_->note_reported_through(server.id, std::min(through, now)));
  }
  for (const auto& st : plan->purchase_orders) XOP_RETURN_IF_ERROR(store_->update_po(st));
  XOP_RETURN_IF_ERROR(txn.commit());
  return UsageSettlement{std::move(plan->outcomes), std::move(plan->purchase_orders)};
}

Result<Earnings> ClearingHouse::earnings(const Caller& caller, const std::string& id, TimeMs now) {
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  XOP_ASSIGN_OR_RETURN(auto a, store_->find_account(id));
  const std::string who = caller.key.account_id();
  const bool allowed = is_admin(caller.key) || (a && (a->id == who || (a->owner && *a->owner == who)));
  if (!allowed) return make_error(ErrorCode::kPermissionDenied, "not allowed to read the earnings of " + id);
  if (!a) return make_error(ErrorCode::kNotFound, "no account " + id);
  Earnings out;
  out.account = a->id;
  out.day_start = utc_day_start(now);
  if (a->kind == AccountKind::kServer) {
    out.owner = a->owner.value_or("");
    if (!out.owner.empty()) {
      XOP_ASSIGN_OR_RETURN(out.servers, store_->server_earnings(out.owner, out.day_start, a->id));
    }
  } else {
    out.owner = a->id;
    XOP_ASSIGN_OR_RETURN(out.servers, store_->server_earnings(a->id, out.day_start));
  }
  for (const auto& s : out.servers) {
    if (__builtin_add_overflow(out.total, s.total, &out.total) ||
        __builtin_add_overflow(out.today, s.since, &out.today)) {
      return make_error(ErrorCode::kInternal, "earnings overflow");
    }
  }
  return out;
}

Result<std::vector<PoRow>> ClearingHouse::purchase_orders_of(const Caller& caller, const std::string& id,
                                                             std::optional<PoStatus> state, TimeMs now) {
  if (caller.key.account_id() != id) {
    return make_error(ErrorCode::kPermissionDenied, "an account's purchase orders are private to it");
  }
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  XOP_ASSIGN_OR_RETURN(auto a, store_->find_account(id));
  if (!a) return make_error(ErrorCode::kNotFound, "no account " + id);
  XOP_ASSIGN_OR_RETURN(auto pos, store_->pos_of(id));
  std::vector<PoRow> out;
  for (auto& po : pos) {
    if (po.user == id && (!state || po.status == *state)) out.push_back(std::move(po));
  }
  return out;
}

Result<Statement> ClearingHouse::statement(const Caller& caller, const std::string& id, TimeMs now) {
  if (caller.key.account_id() != id) {
    return make_error(ErrorCode::kPermissionDenied, "a statement is private to its account");
  }
  std::lock_guard lock(mu_);
  XOP_RETURN_IF_ERROR(release_locked(now));
  XOP_ASSIGN_OR_RETURN(auto a, store_->find_account(id));
  if (!a) return make_error(ErrorCode::kNotFound, "no account " + id);
  Statement out;
  out.account = id;
  XOP_ASSIGN_OR_RETURN(out.balance, store_->balance(user_ledger_account(id)));
  XOP_ASSIGN_OR_RETURN(out.held, store_->held_by(id));
  XOP_ASSIGN_OR_RETURN(auto pos, store_->pos_of(id));
  for (auto& po : pos) {
    XOP_ASSIGN_OR_RETURN(auto recs, store_->records_of(po.po_id));
    out.purchase_orders.push_back(PoStatement{std::move(po), std::move(recs)});
  }
  XOP_ASSIGN_OR_RETURN(out.transactions, store_->transactions_of(user_ledger_account(id)));
  XOP_ASSIGN_OR_RETURN(bool owner, store_->owns_servers(id));
  if (owner) {
    XOP_ASSIGN_OR_RETURN(int64_t earnings, store_->earnings_of(id));
    out.earnings = earnings;
  }
  return out;
}

Result<LedgerCheck> ClearingHouse::check_ledger(TimeMs now) {
  std::lock_guard<std::mutex> lock(check_mu_);
  if (opts_.ledger_check_hook) opts_.ledger_check_hook();
  // One read transaction: a consistent snapshot (WAL), taken without blocking writers.
  XOP_RETURN_IF_ERROR(check_store_->db().exec("BEGIN"));
  auto c = check_store_->check();
  // A read-only transaction: ending it cannot lose a write, but a failure to end it must not pass
  // silently (the connection would stay inside it).
  auto ended = check_store_->db().exec(c ? "COMMIT" : "ROLLBACK");
  if (!ended) return tl::make_unexpected(ended.error());
  if (c) c->checked_at = now;
  return c;
}

Result<LedgerCheck> ClearingHouse::recent_ledger_check(TimeMs now) {
  auto fresh = [&]() -> std::optional<LedgerCheck> {
    std::lock_guard lock(cache_mu_);
    if (cached_ && now - cached_->checked_at < opts_.ledger_check_interval_ms) return cached_;
    return std::nullopt;
  };
  if (auto c = fresh()) return *c;
  std::unique_lock refresh(refresh_mu_, std::try_to_lock);
  if (!refresh.owns_lock()) {
    {
      std::lock_guard lock(cache_mu_);
      if (cached_) return *cached_;
    }
    refresh.lock();
    if (auto c = fresh()) return *c;
  }
  XOP_ASSIGN_OR_RETURN(auto c, check_ledger(now));
  std::lock_guard lock(cache_mu_);
  cached_ = c;
  return c;
}

}  // namespace xop
