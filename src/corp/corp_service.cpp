#include "corp/corp_service.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "core/encoding.h"
#include "core/log.h"
#include "corp/corp_requests.h"
#include "corp/corp_store.h"
#include "corp/expiry.h"
#include "corp/settlement.h"
#include "crypto/digest.h"
#include "net/auth.h"
#include "proto/purchase_order.h"
#include "proto/usage_record.h"

namespace xop {
namespace {

constexpr const char* kVersion = "0.1.0";
constexpr size_t kSmallBody = size_t{64} * 1024;
constexpr size_t kUsageBody = size_t{4} * 1024 * 1024;

HttpResponse err(const Error& e) { return error_response(e); }

Json account_json(const AccountRow& a) {
  Json j{{"id", a.id}, {"kind", a.kind}, {"name", a.name}, {"public_key", a.public_key}, {"created_at", a.created_at}};
  if (a.owner) j["owner"] = *a.owner;
  return j;
}

// "open" | "closing" (the user asked to close it; its hold is released by expiry.h) | "closed".
std::string po_state(const PoRow& po) { return po.state == "open" && po.close_requested_at > 0 ? "closing" : po.state; }

Json po_status_json(const PoRow& po) {
  const int64_t remaining = po.remaining();
  const std::string state = po_state(po);
  return Json{{"po_id", po.po_id},     {"user", po.user},
              {"server", po.server},   {"max_amount", po.max_amount},
              {"charged", po.charged}, {"remaining", remaining},
              {"state", state},        {"exhausted", remaining == 0 || state != "open"}};
}

class CorpServiceImpl final : public CorpService {
 public:
  CorpServiceImpl(CorpOptions opts, KeyPair key, const Clock& clock, CorpStore store, CorpStore check_store)
      : opts_(std::move(opts)),
        key_(std::move(key)),
        clock_(clock),
        verifier_(clock, key_.account_id(), opts_.replay_window_ms),
        store_(std::move(store)),
        check_store_(std::move(check_store)) {
    auto r = std::make_shared<Router>();
    r->set_verifier(&verifier_);
    r->add(
        "GET", "/v1/info", [this](const HttpRequest& q, const PathParams& p) { return info(q, p); }, 0);
    r->add(
        "POST", "/v1/accounts",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::register_account); },
        kSmallBody, Access::kSigned);
    r->add(
        "GET", "/v1/accounts/{id}",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::get_account); }, 0,
        Access::kSigned);
    r->add(
        "GET", "/v1/servers/{id}",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::get_server); }, 0);
    r->add(
        "POST", "/v1/deposits",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::deposit); },
        kSmallBody, Access::kSigned);
    r->add(
        "POST", "/v1/purchase-orders",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::create_po); },
        kSmallBody, Access::kSigned);
    r->add(
        "GET", "/v1/purchase-orders/{po_id}",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::get_po); }, 0,
        Access::kSigned);
    r->add(
        "POST", "/v1/purchase-orders/{po_id}/close",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::close_po); },
        kSmallBody, Access::kSigned);
    r->add(
        "POST", "/v1/usage",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::usage); },
        kUsageBody, Access::kSigned);
    r->add(
        "GET", "/v1/statements/{account}",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::statement); }, 0,
        Access::kSigned);
    r->add(
        "GET", "/v1/ledger/check",
        [this](const HttpRequest& q, const PathParams& p) { return guarded(q, p, &CorpServiceImpl::ledger_check); }, 0,
        Access::kOptional);
    router_ = std::move(r);
  }

  [[nodiscard]] std::shared_ptr<const Router> router() const override { return router_; }
  [[nodiscard]] const PublicKey& public_key() const override { return key_.public_key(); }

  Result<LedgerCheck> check_ledger() override {
    std::lock_guard<std::mutex> lock(check_mu_);
    if (opts_.ledger_check_hook) opts_.ledger_check_hook();
    const TimeMs now = clock_.now_ms();
    // One read transaction: a consistent snapshot (WAL), taken without blocking writers.
    XOP_RETURN_IF_ERROR(check_store_.db().exec("BEGIN"));
    auto c = check_store_.check();
    (void)check_store_.db().exec(c ? "COMMIT" : "ROLLBACK");
    if (c) c->checked_at = now;
    return c;
  }

 private:
  using Method = Result<HttpResponse> (CorpServiceImpl::*)(const HttpRequest&, const PathParams&);

  HttpResponse guarded(const HttpRequest& q, const PathParams& p, Method m) {
    auto r = (this->*m)(q, p);
    if (!r) return err(r.error());
    return std::move(*r);
  }

  HttpResponse info(const HttpRequest&, const PathParams&) {
    return json_response(200, Json{{"service", "xop-corp"},
                                   {"version", kVersion},
                                   {"public_key", public_key().base64()},
                                   {"audience", verifier_.audience()}});
  }

  [[nodiscard]] bool is_admin(const PublicKey& k) const { return opts_.admin_key && *opts_.admin_key == k; }

  // The registered account that signed the request (call with mu_ held).
  Result<AccountRow> registered_caller(const PublicKey& k) {
    XOP_ASSIGN_OR_RETURN(auto a, store_.find_account(k.account_id()));
    if (!a || a->public_key != k.base64()) {
      return make_error(ErrorCode::kUnauthenticated, "the signing key is not a registered account");
    }
    return std::move(*a);
  }

  // Persisted replay protection for a mutating request (the verifier's cache is only in memory
  // and forgets everything on restart): the nonce is the SHA-256 of the request's decoded
  // signature (Ed25519 signatures are deterministic and libsodium refuses malleated ones, so a
  // replay carries the same bytes), stored in the same SQLite transaction as the request's effect.
  // A request the verifier accepted has a timestamp within the window of the receipt time, so it
  // can be replayed only until received_at + 2 * window: older nonces are pruned. Call with mu_
  // held and `txn` open.
  Status consume_request_nonce(const HttpRequest& q) {
    auto raw = base64_decode(q.signature().signature_b64);
    if (!raw) return make_error(ErrorCode::kUnauthenticated, "X-Xop-Signature is not base64");
    const TimeMs now = clock_.now_ms();
    TimeMs keep_after = 0;
    if (__builtin_sub_overflow(now, 2 * opts_.replay_window_ms, &keep_after)) keep_after = 0;
    return store_.consume_nonce(sha256_hex(*raw), now, keep_after);
  }

  // Releases the holds of purchase orders no usage will claim any more: unused ones past their
  // expiry and closing ones, once their server's checkpoint or the backstop allows (the rule and
  // its pure planner are in expiry.h). Runs at the start of every mutating request and of
  // account, PO and statement reads, in its own SQLite transaction, so a request that fails
  // afterwards does not undo it. Cheap when nothing is due: one probe of the purchase orders.
  // Call with mu_ held.
  Status sweep_expired() {
    const TimeMs now = clock_.now_ms();
    SqliteTxn txn(store_.db());
    XOP_RETURN_IF_ERROR(txn.begin());
    XOP_ASSIGN_OR_RETURN(auto rows, store_.releasable_pos_before(expiry_cutoff(now, opts_.unused_po_grace_ms)));
    if (rows.empty()) return {};  // nothing written; the transaction rolls back
    std::vector<PoExpiryView> views;
    std::map<std::string, const PoRow*> by_id;
    std::map<std::string, TimeMs> through;
    for (const auto& po : rows) {
      XOP_ASSIGN_OR_RETURN(int64_t hold, store_.balance(hold_ledger_account(po.po_id)));
      if (!through.contains(po.server)) {
        XOP_ASSIGN_OR_RETURN(through[po.server], store_.reported_through(po.server));
      }
      views.push_back(PoExpiryView{po.po_id, po.user, po.state == "open", po.session, po.last_seq, po.expires_at, hold,
                                   po.close_requested_at, through[po.server]});
      by_id[po.po_id] = &po;
    }
    ExpiryPlan plan = plan_expiry(views, now, opts_.unused_po_grace_ms, opts_.unreported_po_backstop_ms);
    if (plan.expired.empty()) return {};
    for (auto& tx : plan.transactions) XOP_RETURN_IF_ERROR(store_.post(std::move(tx), now));
    for (const auto& v : plan.expired) {
      const PoRow& po = *by_id.at(v.po_id);
      PoState st;
      st.po_id = po.po_id;
      st.charged = po.charged;
      st.released = po.released + v.hold;
      st.closed = true;
      st.session = po.session;
      st.last_seq = po.last_seq;
      st.final_seen = po.final_seen;
      st.close_requested_at = po.close_requested_at;
      XOP_RETURN_IF_ERROR(store_.update_po(st));
    }
    XOP_RETURN_IF_ERROR(txn.commit());
    XOP_LOG_INFO("corp: released the holds of {} purchase order(s) no usage can claim", plan.expired.size());
    return {};
  }

  Result<HttpResponse> register_account(const HttpRequest& q, const PathParams&) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
    XOP_ASSIGN_OR_RETURN(auto req, decode_register_account(body));
    std::lock_guard<std::mutex> lock(mu_);
    XOP_RETURN_IF_ERROR(sweep_expired());
    SqliteTxn txn(store_.db());
    XOP_RETURN_IF_ERROR(txn.begin());
    XOP_RETURN_IF_ERROR(consume_request_nonce(q));
    AccountRow a{key.account_id(), req.kind, req.name, req.owner, key.base64(), clock_.now_ms()};
    XOP_ASSIGN_OR_RETURN(auto existing, store_.find_account(a.id));
    if (existing) return make_error(ErrorCode::kConflict, "account " + a.id + " is already registered");
    if (req.owner) {
      XOP_ASSIGN_OR_RETURN(auto owner, store_.find_account(*req.owner));
      if (!owner) return make_error(ErrorCode::kNotFound, "owner " + *req.owner + " is not a registered account");
      if (owner->kind != "user") return invalid("owner " + *req.owner + " is not a user account");
    }
    XOP_RETURN_IF_ERROR(store_.insert_account(a));
    XOP_RETURN_IF_ERROR(txn.commit());
    return json_response(201, Json{{"account", account_json(a)}});
  }

  Result<HttpResponse> get_account(const HttpRequest& q, const PathParams& p) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    const std::string& id = p.at("id");
    std::lock_guard<std::mutex> lock(mu_);
    XOP_RETURN_IF_ERROR(sweep_expired());
    XOP_ASSIGN_OR_RETURN(auto a, store_.find_account(id));
    const std::string caller = key.account_id();
    const bool allowed = is_admin(key) || (a && (a->id == caller || (a->owner && *a->owner == caller)));
    if (!allowed) return make_error(ErrorCode::kPermissionDenied, "not allowed to read account " + id);
    if (!a) return make_error(ErrorCode::kNotFound, "no account " + id);
    XOP_ASSIGN_OR_RETURN(int64_t balance, store_.balance(user_ledger_account(a->id)));
    XOP_ASSIGN_OR_RETURN(int64_t held, store_.held_by(a->id));
    return json_response(200, Json{{"account", account_json(*a)}, {"balance", balance}, {"held", held}});
  }

  // Public and read-only, for XIS: is `id` a registered server account, with which key and owner?
  // Users are 404 like unknown ids, so nothing about users can be learnt here.
  Result<HttpResponse> get_server(const HttpRequest&, const PathParams& p) {
    const std::string& id = p.at("id");
    if (!is_account_id(id)) return invalid("not an account id: " + id.substr(0, 64));
    std::lock_guard<std::mutex> lock(mu_);
    XOP_ASSIGN_OR_RETURN(auto a, store_.find_account(id));
    if (!a || a->kind != "server") return make_error(ErrorCode::kNotFound, "no server account " + id);
    Json s{{"id", a->id}, {"name", a->name}, {"public_key", a->public_key}};
    if (a->owner) s["owner"] = *a->owner;
    return json_response(200, Json{{"server", std::move(s)}});
  }

  Result<HttpResponse> deposit(const HttpRequest& q, const PathParams&) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    if (!is_admin(key)) return make_error(ErrorCode::kPermissionDenied, "only the admin key may deposit");
    XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
    XOP_ASSIGN_OR_RETURN(auto req, decode_deposit(body));
    std::lock_guard<std::mutex> lock(mu_);
    XOP_RETURN_IF_ERROR(sweep_expired());
    SqliteTxn txn(store_.db());
    XOP_RETURN_IF_ERROR(txn.begin());
    XOP_RETURN_IF_ERROR(consume_request_nonce(q));
    XOP_ASSIGN_OR_RETURN(auto a, store_.find_account(req.account));
    if (!a) return make_error(ErrorCode::kNotFound, "no account " + req.account);
    LedgerTransaction tx;
    tx.kind = "deposit";
    tx.memo = req.memo;
    tx.entries = transfer(kExternalDeposits, user_ledger_account(a->id), req.amount);
    XOP_ASSIGN_OR_RETURN(auto tx_id, store_.post(std::move(tx), clock_.now_ms()));
    XOP_ASSIGN_OR_RETURN(int64_t balance, store_.balance(user_ledger_account(a->id)));
    XOP_RETURN_IF_ERROR(txn.commit());
    return json_response(200, Json{{"transaction", tx_id}, {"balance", balance}});
  }

  Result<HttpResponse> create_po(const HttpRequest& q, const PathParams&) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
    XOP_ASSIGN_OR_RETURN(auto req, decode_create_po(body));
    XOP_ASSIGN_OR_RETURN(auto sheet, verify_price_sheet(req.price_sheet));
    std::lock_guard<std::mutex> lock(mu_);
    XOP_RETURN_IF_ERROR(sweep_expired());
    XOP_ASSIGN_OR_RETURN(auto user, registered_caller(key));
    if (user.kind != "user") return make_error(ErrorCode::kPermissionDenied, "only user accounts may buy");
    XOP_ASSIGN_OR_RETURN(auto server, store_.find_account(req.server));
    if (!server || server->kind != "server") return make_error(ErrorCode::kNotFound, "no server " + req.server);
    if (sheet.server != server->id || req.price_sheet.signer.base64() != server->public_key) {
      return invalid("price_sheet: not signed by server " + req.server);
    }
    const TimeMs now = clock_.now_ms();
    const int64_t ttl = std::min(req.ttl_ms.value_or(opts_.default_po_ttl_ms), opts_.max_po_ttl_ms);
    PurchaseOrder po;
    po.po_id = random_id("po");
    po.user = user.id;
    po.server = server->id;
    po.price_sheet = req.price_sheet;
    po.max_amount = Money::micros(req.max_amount);
    po.issued_at = now;
    if (__builtin_add_overflow(now, ttl, &po.expires_at)) return invalid("ttl_ms: out of range");
    XOP_ASSIGN_OR_RETURN(auto doc, SignedDoc::sign(kPurchaseOrderType, to_json(po), key_));
    const Json wire = doc.to_json();

    SqliteTxn txn(store_.db());
    XOP_RETURN_IF_ERROR(txn.begin());
    XOP_RETURN_IF_ERROR(consume_request_nonce(q));
    PoRow row;
    row.po_id = po.po_id;
    row.user = po.user;
    row.server = po.server;
    row.max_amount = req.max_amount;
    row.state = "open";
    row.issued_at = po.issued_at;
    row.expires_at = po.expires_at;
    row.rates_json = to_json(sheet.rates).dump();
    row.document = wire.dump();
    XOP_RETURN_IF_ERROR(store_.insert_po(row));
    LedgerTransaction tx;
    tx.kind = "hold";
    tx.po_id = po.po_id;
    tx.memo = "hold for purchase order " + po.po_id;
    tx.entries = transfer(user_ledger_account(user.id), hold_ledger_account(po.po_id), req.max_amount);
    XOP_RETURN_IF_ERROR(store_.post(std::move(tx), now));
    XOP_RETURN_IF_ERROR(txn.commit());
    return json_response(201, Json{{"purchase_order", wire}});
  }

  // The PO, if `key` may read it (its user, its server, the server's owner, the admin).
  Result<PoRow> readable_po(const PublicKey& key, const std::string& po_id) {
    XOP_ASSIGN_OR_RETURN(auto po, store_.find_po(po_id));
    const std::string caller = key.account_id();
    bool allowed = is_admin(key);
    if (po) {
      allowed = allowed || po->user == caller || po->server == caller;
      if (!allowed) {
        XOP_ASSIGN_OR_RETURN(auto server, store_.find_account(po->server));
        allowed = server && server->owner && *server->owner == caller;
      }
    }
    if (!allowed) return make_error(ErrorCode::kPermissionDenied, "not allowed to read purchase order " + po_id);
    if (!po) return make_error(ErrorCode::kNotFound, "no purchase order " + po_id);
    return std::move(*po);
  }

  Result<HttpResponse> get_po(const HttpRequest& q, const PathParams& p) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    std::lock_guard<std::mutex> lock(mu_);
    XOP_RETURN_IF_ERROR(sweep_expired());
    XOP_ASSIGN_OR_RETURN(auto po, readable_po(key, p.at("po_id")));
    return json_response(200, po_status_json(po));
  }

  Result<HttpResponse> close_po(const HttpRequest& q, const PathParams& p) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    if (!q.body.empty()) {
      XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
      if (!body.is_object() || !body.empty()) return invalid("close takes no fields");
    }
    const std::string& po_id = p.at("po_id");
    std::lock_guard<std::mutex> lock(mu_);
    XOP_RETURN_IF_ERROR(sweep_expired());
    SqliteTxn txn(store_.db());
    XOP_RETURN_IF_ERROR(txn.begin());
    XOP_RETURN_IF_ERROR(consume_request_nonce(q));
    XOP_ASSIGN_OR_RETURN(auto po, store_.find_po(po_id));
    if (!po) return make_error(ErrorCode::kNotFound, "no purchase order " + po_id);
    if (po->user != key.account_id()) {
      return make_error(ErrorCode::kPermissionDenied, "only the purchase order's user may close it");
    }
    if (po->state == "closed") return make_error(ErrorCode::kConflict, "purchase order " + po_id + " is closed");
    if (po->close_requested_at > 0) {
      return make_error(ErrorCode::kConflict, "purchase order " + po_id + " is already closing");
    }
    // The hold is not released now: the server may have metered usage it has not delivered yet.
    // The PO is "closing" (exhausted, so its server stops the session) and expiry.h releases the
    // rest once the server's checkpoint passes this time plus the grace.
    PoState st;
    st.po_id = po_id;
    st.charged = po->charged;
    st.released = po->released;
    st.session = po->session;
    st.last_seq = po->last_seq;
    st.final_seen = po->final_seen;
    st.close_requested_at = clock_.now_ms();
    XOP_RETURN_IF_ERROR(store_.update_po(st));
    XOP_RETURN_IF_ERROR(txn.commit());
    return json_response(200, Json{{"released", 0}, {"state", "closing"}});
  }

  Result<HttpResponse> usage(const HttpRequest& q, const PathParams&) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    XOP_ASSIGN_OR_RETURN(auto body, json_body(q));
    XOP_ASSIGN_OR_RETURN(auto req, decode_usage(body));
    XOP_ASSIGN_OR_RETURN(auto batch, verify_usage_batch(req.batch));
    if (!(req.batch.signer == key)) {
      return make_error(ErrorCode::kPermissionDenied, "usage batch is not signed by the requesting server");
    }
    std::lock_guard<std::mutex> lock(mu_);
    XOP_RETURN_IF_ERROR(sweep_expired());
    XOP_ASSIGN_OR_RETURN(auto server, registered_caller(key));
    if (server.kind != "server") return make_error(ErrorCode::kPermissionDenied, "only servers report usage");

    SqliteTxn txn(store_.db());
    XOP_RETURN_IF_ERROR(txn.begin());
    XOP_RETURN_IF_ERROR(consume_request_nonce(q));
    std::map<std::string, PoState> states;
    std::map<std::string, std::string> owners;
    for (const auto& rec : batch.records) {
      if (states.contains(rec.po_id)) continue;
      XOP_ASSIGN_OR_RETURN(auto po, store_.find_po(rec.po_id));
      if (!po) continue;  // the planner reports it
      if (!owners.contains(po->server)) {
        XOP_ASSIGN_OR_RETURN(auto sa, store_.find_account(po->server));
        owners[po->server] = sa && sa->owner ? *sa->owner : std::string();
      }
      XOP_ASSIGN_OR_RETURN(auto rates_j, parse_json(po->rates_json));
      XOP_ASSIGN_OR_RETURN(auto rates, rates_from_json(rates_j, "stored.rates"));
      XOP_ASSIGN_OR_RETURN(int64_t hold, store_.balance(hold_ledger_account(po->po_id)));
      PoState st;
      st.po_id = po->po_id;
      st.user = po->user;
      st.server = po->server;
      st.owner = owners[po->server];
      st.rates = rates;
      st.max_amount = po->max_amount;
      st.charged = po->charged;
      st.released = po->released;
      st.remaining = hold;
      st.closed = po->state == "closed";
      st.final_seen = po->final_seen;
      st.session = po->session;
      st.last_seq = po->last_seq;
      st.issued_at = po->issued_at;
      st.expires_at = po->expires_at;
      st.close_requested_at = po->close_requested_at;
      if (po->last_seq > 0) {
        XOP_ASSIGN_OR_RETURN(auto last, store_.find_record(po->po_id, po->last_seq));
        if (last) st.last_period_end = last->period_end;
      }
      states.emplace(st.po_id, std::move(st));
    }
    std::optional<Error> lookup_error;
    auto lookup = [&](const std::string& po_id, int64_t seq) -> std::optional<UsageRecord> {
      auto r = store_.find_record(po_id, seq);
      if (!r) {
        lookup_error = r.error();
        return std::nullopt;
      }
      return *r;
    };
    const UsageClaimLimits limits{clock_.now_ms(), opts_.usage_clock_skew_ms};
    auto plan = plan_settlement(server.id, batch.records, std::move(states), lookup, limits);
    if (lookup_error) return tl::make_unexpected(*lookup_error);
    if (!plan) return tl::make_unexpected(plan.error());
    const TimeMs now = clock_.now_ms();
    for (auto& tx : plan->transactions) XOP_RETURN_IF_ERROR(store_.post(std::move(tx), now));
    Json results = Json::array();
    for (const auto& o : plan->outcomes) {
      if (!o.duplicate) XOP_RETURN_IF_ERROR(store_.insert_record(o.record, o.charged, now));
      results.push_back(Json{{"session", o.record.session},
                             {"po_id", o.record.po_id},
                             {"seq", o.record.seq},
                             {"status", o.duplicate ? "duplicate" : "charged"},
                             {"charged", o.charged}});
    }
    // A batch below the maximum size holds the server's whole backlog: a checkpoint (expiry.h).
    if (batch.records.size() < kMaxRecordsPerBatch) {
      TimeMs through = batch.sent_at;
      for (const auto& r : batch.records) through = std::max(through, r.period_end);
      XOP_RETURN_IF_ERROR(store_.note_reported_through(server.id, std::min(through, now)));
    }
    Json pos = Json::array();
    for (const auto& st : plan->purchase_orders) {
      XOP_RETURN_IF_ERROR(store_.update_po(st));
      pos.push_back(
          Json{{"po_id", st.po_id}, {"remaining", st.remaining}, {"exhausted", st.exhausted()}, {"closed", st.closed}});
    }
    XOP_RETURN_IF_ERROR(txn.commit());
    return json_response(200, Json{{"results", std::move(results)}, {"purchase_orders", std::move(pos)}});
  }

  Result<HttpResponse> statement(const HttpRequest& q, const PathParams& p) {
    XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
    const std::string& id = p.at("account");
    if (key.account_id() != id)
      return make_error(ErrorCode::kPermissionDenied, "a statement is private to its account");
    std::lock_guard<std::mutex> lock(mu_);
    XOP_RETURN_IF_ERROR(sweep_expired());
    XOP_ASSIGN_OR_RETURN(auto a, store_.find_account(id));
    if (!a) return make_error(ErrorCode::kNotFound, "no account " + id);
    XOP_ASSIGN_OR_RETURN(int64_t balance, store_.balance(user_ledger_account(id)));
    XOP_ASSIGN_OR_RETURN(int64_t held, store_.held_by(id));
    XOP_ASSIGN_OR_RETURN(auto pos, store_.pos_of(id));
    Json po_list = Json::array();
    for (const auto& po : pos) {
      XOP_ASSIGN_OR_RETURN(auto recs, store_.records_of(po.po_id));
      Json rj = Json::array();
      for (const auto& r : recs) {
        rj.push_back(Json{{"session", r.record.session},
                          {"seq", r.record.seq},
                          {"period_start", r.record.period_start},
                          {"period_end", r.record.period_end},
                          {"reserved", to_json(r.record.reserved)},
                          {"used", to_json(r.record.used)},
                          {"amount", r.record.amount.micros()},
                          {"charged", r.charged},
                          {"final", r.record.final}});
      }
      po_list.push_back(Json{{"po_id", po.po_id},
                             {"server", po.server},
                             {"max_amount", po.max_amount},
                             {"charged", po.charged},
                             {"remaining", po.remaining()},
                             {"state", po_state(po)},
                             {"records", std::move(rj)}});
    }
    XOP_ASSIGN_OR_RETURN(auto txs, store_.transactions_of(user_ledger_account(id)));
    Json tj = Json::array();
    for (const auto& t : txs) {
      tj.push_back(Json{{"id", t.id}, {"kind", t.kind}, {"amount", t.amount}, {"at", t.at}, {"memo", t.memo}});
    }
    Json out{{"account", id},
             {"balance", balance},
             {"held", held},
             {"purchase_orders", std::move(po_list)},
             {"transactions", std::move(tj)}};
    XOP_ASSIGN_OR_RETURN(bool owner, store_.owns_servers(id));
    if (owner) {
      XOP_ASSIGN_OR_RETURN(int64_t earnings, store_.earnings_of(id));
      out["earnings"] = earnings;
    }
    return json_response(200, out);
  }

  // The check for callers other than the admin: the last full check if it is younger than
  // ledger_check_interval_ms, else a new one. While one caller recomputes it, the others get the
  // previous answer (only the very first callers wait), so a flood runs at most one full check
  // per interval.
  Result<LedgerCheck> cached_check() {
    auto fresh = [&]() -> std::optional<LedgerCheck> {
      std::lock_guard lock(cache_mu_);
      if (cached_ && clock_.now_ms() - cached_->checked_at < opts_.ledger_check_interval_ms) return cached_;
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
    XOP_ASSIGN_OR_RETURN(auto c, check_ledger());
    std::lock_guard lock(cache_mu_);
    cached_ = c;
    return c;
  }

  // Anyone may ask whether the ledger balances. The admin key's signature gets a fresh check
  // with the problem details (which name accounts and balances); everyone else gets a cached
  // answer (cached_check) with the problems only counted.
  Result<HttpResponse> ledger_check(const HttpRequest& q, const PathParams&) {
    bool admin = false;
    if (!q.header(kHeaderKey).empty()) {
      XOP_ASSIGN_OR_RETURN(auto key, authenticate(verifier_, q));
      admin = is_admin(key);
    }
    XOP_ASSIGN_OR_RETURN(auto c, admin ? check_ledger() : cached_check());
    if (!admin && !c.problems.empty()) {
      const size_t n = c.problems.size();
      c.problems = {std::to_string(n) + " problem(s); details are shown to the admin key only"};
    }
    return json_response(200, to_json(c));
  }

  CorpOptions opts_;
  KeyPair key_;
  const Clock& clock_;
  RequestVerifier verifier_;
  std::mutex mu_;
  CorpStore store_;
  std::mutex check_mu_;    // guards check_store_
  CorpStore check_store_;  // a second connection, used only for ledger checks
  std::mutex refresh_mu_;  // held by the caller recomputing the cached check
  std::mutex cache_mu_;    // guards cached_
  std::optional<LedgerCheck> cached_;
  std::shared_ptr<const Router> router_;
};

}  // namespace

Result<std::unique_ptr<CorpService>> CorpService::open(CorpOptions opts, KeyPair corp_key, const Clock& clock) {
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
  XOP_ASSIGN_OR_RETURN(auto store, CorpStore::open(opts.db_path));
  XOP_ASSIGN_OR_RETURN(auto check_store, CorpStore::open(opts.db_path));
  return std::unique_ptr<CorpService>(std::make_unique<CorpServiceImpl>(std::move(opts), std::move(corp_key), clock,
                                                                        std::move(store), std::move(check_store)));
}

Json to_json(const LedgerCheck& c) {
  return Json{{"balanced", c.balanced}, {"checked_at", c.checked_at}, {"transactions", c.transactions},
              {"entries", c.entries},   {"total", c.total},           {"problems", c.problems}};
}

}  // namespace xop
