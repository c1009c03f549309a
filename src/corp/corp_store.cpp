#include "corp/corp_store.h"

#include <algorithm>
#include <map>

#include "crypto/keys.h"

namespace xop {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS accounts (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'server')),
  name TEXT NOT NULL,
  owner TEXT REFERENCES accounts(id),
  public_key TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_accounts (
  name TEXT PRIMARY KEY,
  balance INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  po_id TEXT,
  memo TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tx_id TEXT NOT NULL REFERENCES transactions(id),
  account TEXT NOT NULL,
  amount INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_account ON entries(account);
CREATE TABLE IF NOT EXISTS purchase_orders (
  po_id TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES accounts(id),
  server TEXT NOT NULL REFERENCES accounts(id),
  max_amount INTEGER NOT NULL,
  charged INTEGER NOT NULL,
  released INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  session TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  final_seen INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  rates TEXT NOT NULL,
  document TEXT NOT NULL,
  close_requested_at INTEGER NOT NULL DEFAULT 0,
  unpaid INTEGER NOT NULL DEFAULT 0,
  last_amount INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pos_by_user ON purchase_orders(user);
CREATE INDEX IF NOT EXISTS pos_by_server ON purchase_orders(server);
CREATE INDEX IF NOT EXISTS pos_by_state_expiry ON purchase_orders(state, expires_at);
CREATE TABLE IF NOT EXISTS usage_records (
  po_id TEXT NOT NULL REFERENCES purchase_orders(po_id),
  seq INTEGER NOT NULL,
  session TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  reserved TEXT NOT NULL,
  used TEXT NOT NULL,
  amount INTEGER NOT NULL,
  charged INTEGER NOT NULL,
  final INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (po_id, seq)
);
CREATE TABLE IF NOT EXISTS request_nonces (
  nonce TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS nonces_by_time ON request_nonces(received_at);
CREATE TABLE IF NOT EXISTS server_reports (
  server TEXT PRIMARY KEY REFERENCES accounts(id),
  reported_through INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  status INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
)sql";

constexpr const char* kPoColumns =
    "po_id, user, server, max_amount, charged, released, state, session, last_seq, final_seen, issued_at, "
    "expires_at, rates, document, close_requested_at, unpaid, last_amount";

Result<PoRow> read_po(const SqliteStmt& s) {
  PoRow p;
  p.po_id = s.str(0);
  p.user = s.str(1);
  p.server = s.str(2);
  p.max_amount = s.i64(3);
  p.charged = s.i64(4);
  p.released = s.i64(5);
  XOP_ASSIGN_OR_RETURN(p.status, parse_po_status(s.str(6), "stored purchase order state"));
  p.session = s.str(7);
  p.last_seq = s.i64(8);
  p.final_seen = s.i64(9) != 0;
  p.issued_at = s.i64(10);
  p.expires_at = s.i64(11);
  p.rates_json = s.str(12);
  p.document = s.str(13);
  p.close_requested_at = s.i64(14);
  p.unpaid = s.i64(15);
  p.last_amount = s.i64(16);
  if (p.status == PoStatus::kOpen && p.close_requested_at > 0) p.status = PoStatus::kClosing;
  return p;
}

// The store keeps "open" for an open or closing PO (closing is an open PO with a close request).
const char* stored_state(bool closed) { return to_string(closed ? PoStatus::kClosed : PoStatus::kOpen); }

Result<std::vector<PoRow>> collect_pos(SqliteStmt& s) {
  std::vector<PoRow> out;
  for (;;) {
    XOP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    XOP_ASSIGN_OR_RETURN(auto po, read_po(s));
    out.push_back(std::move(po));
  }
  return out;
}

Result<UsageRecord> read_record(const SqliteStmt& s) {
  // Columns: po_id, seq, session, period_start, period_end, reserved, used, amount, final
  UsageRecord r;
  r.po_id = s.str(0);
  r.seq = s.i64(1);
  r.session = s.str(2);
  r.period_start = s.i64(3);
  r.period_end = s.i64(4);
  XOP_ASSIGN_OR_RETURN(auto reserved, parse_json(s.str(5)));
  XOP_ASSIGN_OR_RETURN(auto used, parse_json(s.str(6)));
  XOP_ASSIGN_OR_RETURN(r.reserved, resources_from_json(reserved, "stored.reserved"));
  XOP_ASSIGN_OR_RETURN(r.used, usage_from_json(used, "stored.used"));
  r.amount = Money::micros(s.i64(7));
  r.final = s.i64(8) != 0;
  return r;
}

}  // namespace

Result<CorpStore> CorpStore::open(const std::string& path, SqliteDurability durability, IdSource* ids) {
  XOP_ASSIGN_OR_RETURN(auto db, SqliteDb::open(path, durability));
  XOP_RETURN_IF_ERROR(db.exec(kSchema));
  // Databases created before close requests were deferred lack the column.
  XOP_ASSIGN_OR_RETURN(auto cols, db.prepare("SELECT 1 FROM pragma_table_info('purchase_orders') "
                                             "WHERE name = 'close_requested_at'"));
  XOP_ASSIGN_OR_RETURN(bool has, cols.step());
  if (!has) {
    XOP_RETURN_IF_ERROR(
        db.exec("ALTER TABLE purchase_orders ADD COLUMN close_requested_at INTEGER NOT NULL DEFAULT 0"));
  }
  // Databases created before credit control (extensions, low funds) lack its two columns; they
  // are derived from the records already settled, in one transaction.
  XOP_ASSIGN_OR_RETURN(auto unpaid_col, db.prepare("SELECT 1 FROM pragma_table_info('purchase_orders') "
                                                   "WHERE name = 'unpaid'"));
  XOP_ASSIGN_OR_RETURN(bool has_unpaid, unpaid_col.step());
  if (!has_unpaid) {
    XOP_RETURN_IF_ERROR(db.exec(
        "BEGIN IMMEDIATE;"
        "ALTER TABLE purchase_orders ADD COLUMN unpaid INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE purchase_orders ADD COLUMN last_amount INTEGER NOT NULL DEFAULT 0;"
        "UPDATE purchase_orders SET "
        "unpaid = CASE WHEN state = 'open' THEN (SELECT COALESCE(SUM(r.amount - r.charged), 0) FROM usage_records r "
        "WHERE r.po_id = purchase_orders.po_id) ELSE 0 END, "
        "last_amount = COALESCE((SELECT r.amount FROM usage_records r WHERE r.po_id = purchase_orders.po_id "
        "AND r.seq = purchase_orders.last_seq), 0);"
        "COMMIT;"));
  }
  return CorpStore(std::move(db), ids);
}

Result<std::optional<AccountRow>> CorpStore::find_account(const std::string& id) {
  XOP_ASSIGN_OR_RETURN(auto s,
                       db_.prepare("SELECT id, kind, name, owner, public_key, created_at FROM accounts WHERE id = ?"));
  s.bind(1, id);
  XOP_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<AccountRow>();
  AccountRow a;
  a.id = s.str(0);
  XOP_ASSIGN_OR_RETURN(a.kind, parse_account_kind(s.str(1), "stored account kind"));
  a.name = s.str(2);
  if (!s.is_null(3)) a.owner = s.str(3);
  a.public_key = s.str(4);
  a.created_at = s.i64(5);
  return std::optional<AccountRow>(std::move(a));
}

Status CorpStore::insert_account(const AccountRow& a) {
  XOP_ASSIGN_OR_RETURN(
      auto s, db_.prepare("INSERT INTO accounts (id, kind, name, owner, public_key, created_at) VALUES (?,?,?,?,?,?)"));
  s.bind(1, a.id)
      .bind(2, to_string(a.kind))
      .bind(3, a.name)
      .bind(4, a.owner)
      .bind(5, a.public_key)
      .bind(6, a.created_at);
  return s.run();
}

Result<bool> CorpStore::owns_servers(const std::string& user_id) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT 1 FROM accounts WHERE owner = ? LIMIT 1"));
  s.bind(1, user_id);
  return s.step();
}

Result<std::string> CorpStore::post(LedgerTransaction tx, TimeMs now) {
  XOP_RETURN_IF_ERROR(validate_transaction(tx));
  std::map<std::string, int64_t> balances;
  for (const auto& e : tx.entries) {
    XOP_ASSIGN_OR_RETURN(balances[e.account], balance(e.account));
  }
  XOP_RETURN_IF_ERROR(apply_transaction(tx, balances));
  tx.id = ids_->next("tx");
  tx.at = now;
  XOP_ASSIGN_OR_RETURN(auto ins,
                       db_.prepare("INSERT INTO transactions (id, kind, po_id, memo, at) VALUES (?,?,?,?,?)"));
  ins.bind(1, tx.id).bind(2, to_string(tx.kind)).bind(5, tx.at).bind(4, tx.memo);
  if (tx.po_id.empty()) {
    ins.bind_null(3);
  } else {
    ins.bind(3, tx.po_id);
  }
  XOP_RETURN_IF_ERROR(ins.run());
  for (const auto& e : tx.entries) {
    XOP_ASSIGN_OR_RETURN(auto es, db_.prepare("INSERT INTO entries (tx_id, account, amount) VALUES (?,?,?)"));
    es.bind(1, tx.id).bind(2, e.account).bind(3, e.amount);
    XOP_RETURN_IF_ERROR(es.run());
    XOP_ASSIGN_OR_RETURN(auto bs, db_.prepare("INSERT INTO ledger_accounts (name, balance) VALUES (?, ?) "
                                              "ON CONFLICT(name) DO UPDATE SET balance = excluded.balance"));
    bs.bind(1, e.account).bind(2, balances.at(e.account));
    XOP_RETURN_IF_ERROR(bs.run());
  }
  return tx.id;
}

Result<int64_t> CorpStore::balance(const std::string& ledger_account) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT balance FROM ledger_accounts WHERE name = ?"));
  s.bind(1, ledger_account);
  XOP_ASSIGN_OR_RETURN(bool row, s.step());
  return row ? s.i64(0) : int64_t{0};
}

Result<LedgerCheck> CorpStore::check() {
  std::vector<std::string> ids;
  {
    XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT id FROM transactions ORDER BY seq"));
    XOP_ASSIGN_OR_RETURN(ids, collect_rows<std::string>(s, [](const SqliteStmt& r) { return r.str(0); }));
  }
  std::vector<StoredEntry> entries;
  {
    XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT tx_id, account, amount FROM entries ORDER BY seq"));
    XOP_ASSIGN_OR_RETURN(entries, collect_rows<StoredEntry>(s, [](const SqliteStmt& r) {
                           return StoredEntry{r.str(0), r.str(1), r.i64(2)};
                         }));
  }
  std::map<std::string, int64_t> balances;
  {
    XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT name, balance FROM ledger_accounts"));
    while (true) {
      XOP_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) break;
      balances[s.str(0)] = s.i64(1);
    }
  }
  LedgerCheck c = prove_ledger(ids, entries, balances);
  // Purchase orders must agree with their holds: hold = max - charged - released, and a closed
  // PO holds nothing.
  {
    XOP_ASSIGN_OR_RETURN(auto s, db_.prepare(std::string("SELECT ") + kPoColumns + " FROM purchase_orders"));
    while (true) {
      XOP_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) break;
      XOP_ASSIGN_OR_RETURN(const PoRow po, read_po(s));
      auto it = balances.find(hold_ledger_account(po.po_id));
      const int64_t hold = it == balances.end() ? 0 : it->second;
      if (po.charged < 0 || po.released < 0 || po.remaining() < 0 || hold != po.remaining()) {
        c.problems.push_back("purchase order " + po.po_id + ": hold " + std::to_string(hold) + " but max " +
                             std::to_string(po.max_amount) + " - charged " + std::to_string(po.charged) +
                             " - released " + std::to_string(po.released));
      }
      if (po.closed() && hold != 0) {
        c.problems.push_back("purchase order " + po.po_id + " is closed but still holds " + std::to_string(hold));
      }
    }
  }
  // Money in = money out + balances + holds, from the journal of deposits and payouts.
  MoneyFigures money;
  money.stored_balances = std::move(balances);
  for (auto [kind, out] :
       {std::pair{TxKind::kDeposit, &money.deposit_entries}, std::pair{TxKind::kPayout, &money.payout_entries}}) {
    XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT e.tx_id, e.account, e.amount FROM entries e "
                                             "JOIN transactions t ON t.id = e.tx_id WHERE t.kind = ? ORDER BY e.seq"));
    s.bind(1, to_string(kind));
    XOP_ASSIGN_OR_RETURN(*out, collect_rows<StoredEntry>(s, [](const SqliteStmt& r) {
      return StoredEntry{r.str(0), r.str(1), r.i64(2)};
    }));
  }
  prove_money_conservation(money, c);
  // What each PO's records were charged adds up to what the PO was charged (an extension that
  // pays arrears raises both), and an open PO's arrears are what its records still lack.
  {
    XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT p.po_id, p.charged, p.unpaid, p.state, "
                                             "COALESCE(SUM(r.charged), 0), COALESCE(SUM(r.amount - r.charged), 0) "
                                             "FROM purchase_orders p LEFT JOIN usage_records r ON r.po_id = p.po_id "
                                             "GROUP BY p.po_id"));
    while (true) {
      XOP_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) break;
      if (s.i64(1) != s.i64(4)) {
        c.problems.push_back("purchase order " + s.str(0) + ": charged " + std::to_string(s.i64(1)) +
                             " but its records were charged " + std::to_string(s.i64(4)));
      }
      if (s.str(3) == stored_state(false) && s.i64(2) != s.i64(5)) {
        c.problems.push_back("purchase order " + s.str(0) + ": arrears " + std::to_string(s.i64(2)) +
                             " but its records lack " + std::to_string(s.i64(5)));
      }
    }
  }
  c.balanced = c.problems.empty();
  return c;
}

Result<std::optional<StoredAnswer>> CorpStore::find_answer(const std::string& scope, const std::string& key) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT fingerprint, status, content_type, body FROM idempotency_keys "
                                           "WHERE scope = ? AND key = ?"));
  s.bind(1, scope).bind(2, key);
  XOP_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<StoredAnswer>();
  return std::optional<StoredAnswer>(StoredAnswer{s.str(0), static_cast<int>(s.i64(1)), s.str(2), s.str(3)});
}

Status CorpStore::insert_answer(const std::string& scope, const std::string& key, const StoredAnswer& a, TimeMs now) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("INSERT INTO idempotency_keys (scope, key, fingerprint, status, "
                                           "content_type, body, created_at) VALUES (?,?,?,?,?,?,?)"));
  s.bind(1, scope).bind(2, key).bind(3, a.fingerprint).bind(4, int64_t{a.status}).bind(5, a.content_type);
  s.bind(6, a.body).bind(7, now);
  return s.run();
}

Status CorpStore::insert_po(const PoRow& po) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare(std::string("INSERT INTO purchase_orders (") + kPoColumns +
                                           ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, po.po_id).bind(2, po.user).bind(3, po.server).bind(4, po.max_amount).bind(5, po.charged);
  s.bind(6, po.released).bind(7, stored_state(po.closed())).bind(8, po.session).bind(9, po.last_seq);
  s.bind(10, int64_t{po.final_seen ? 1 : 0}).bind(11, po.issued_at).bind(12, po.expires_at);
  s.bind(13, po.rates_json).bind(14, po.document).bind(15, po.close_requested_at).bind(16, po.unpaid);
  s.bind(17, po.last_amount);
  return s.run();
}

Result<std::optional<PoRow>> CorpStore::find_po(const std::string& po_id) {
  XOP_ASSIGN_OR_RETURN(auto s,
                       db_.prepare(std::string("SELECT ") + kPoColumns + " FROM purchase_orders WHERE po_id = ?"));
  s.bind(1, po_id);
  XOP_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<PoRow>();
  XOP_ASSIGN_OR_RETURN(auto po, read_po(s));
  return std::optional<PoRow>(std::move(po));
}

Status CorpStore::update_po(const PoState& st) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("UPDATE purchase_orders SET charged = ?, released = ?, state = ?, "
                                           "session = ?, last_seq = ?, final_seen = ?, close_requested_at = ?, "
                                           "max_amount = ?, unpaid = ?, last_amount = ? WHERE po_id = ?"));
  s.bind(1, st.charged).bind(2, st.released).bind(3, stored_state(st.closed)).bind(4, st.session);
  s.bind(5, st.last_seq).bind(6, int64_t{st.final_seen ? 1 : 0}).bind(7, st.close_requested_at);
  s.bind(8, st.max_amount).bind(9, st.unpaid).bind(10, st.last_amount).bind(11, st.po_id);
  return s.run();
}

Result<std::vector<PoRow>> CorpStore::pos_of(const std::string& account) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare(std::string("SELECT ") + kPoColumns +
                                           " FROM purchase_orders WHERE user = ?1 OR server = ?1 "
                                           "ORDER BY issued_at, po_id"));
  s.bind(1, account);
  return collect_pos(s);
}

Result<std::vector<PoRow>> CorpStore::releasable_pos_before(TimeMs cutoff) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare(std::string("SELECT ") + kPoColumns +
                                           " FROM purchase_orders WHERE state = ?2 AND ("
                                           "(expires_at < ?1 AND session = '' AND last_seq = 0) OR "
                                           "(close_requested_at > 0 AND close_requested_at < ?1)) "
                                           "ORDER BY expires_at, po_id"));
  s.bind(1, cutoff).bind(2, stored_state(false));
  return collect_pos(s);
}

Result<TimeMs> CorpStore::reported_through(const std::string& server) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT reported_through FROM server_reports WHERE server = ?"));
  s.bind(1, server);
  XOP_ASSIGN_OR_RETURN(bool row, s.step());
  return row ? s.i64(0) : TimeMs{0};
}

Status CorpStore::note_reported_through(const std::string& server, TimeMs through) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("INSERT INTO server_reports (server, reported_through) VALUES (?, ?) "
                                           "ON CONFLICT(server) DO UPDATE SET reported_through = "
                                           "MAX(reported_through, excluded.reported_through)"));
  s.bind(1, server).bind(2, through);
  return s.run();
}

Result<int64_t> CorpStore::held_by(const std::string& user_id) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT max_amount - charged - released FROM purchase_orders "
                                           "WHERE user = ? AND state = ?"));
  s.bind(1, user_id).bind(2, stored_state(false));
  int64_t total = 0;
  while (true) {
    XOP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    if (__builtin_add_overflow(total, s.i64(0), &total)) return make_error(ErrorCode::kInternal, "held overflows");
  }
  return total;
}

Result<std::optional<UsageRecord>> CorpStore::find_record(const std::string& po_id, int64_t seq) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT po_id, seq, session, period_start, period_end, reserved, used, "
                                           "amount, final FROM usage_records WHERE po_id = ? AND seq = ?"));
  s.bind(1, po_id).bind(2, seq);
  XOP_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<UsageRecord>();
  XOP_ASSIGN_OR_RETURN(auto rec, read_record(s));
  return std::optional<UsageRecord>(std::move(rec));
}

Status CorpStore::insert_record(const UsageRecord& r, int64_t charged, TimeMs now) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("INSERT INTO usage_records (po_id, seq, session, period_start, "
                                           "period_end, reserved, used, amount, charged, final, received_at) "
                                           "VALUES (?,?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, r.po_id).bind(2, r.seq).bind(3, r.session).bind(4, r.period_start).bind(5, r.period_end);
  s.bind(6, to_json(r.reserved).dump()).bind(7, to_json(r.used).dump()).bind(8, r.amount.micros());
  s.bind(9, charged).bind(10, int64_t{r.final ? 1 : 0}).bind(11, now);
  return s.run();
}

Result<std::vector<RecordRow>> CorpStore::records_of(const std::string& po_id) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT po_id, seq, session, period_start, period_end, reserved, used, "
                                           "amount, final, charged, received_at FROM usage_records "
                                           "WHERE po_id = ? ORDER BY seq"));
  s.bind(1, po_id);
  std::vector<RecordRow> out;
  while (true) {
    XOP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    XOP_ASSIGN_OR_RETURN(auto rec, read_record(s));
    out.push_back(RecordRow{std::move(rec), s.i64(9), s.i64(10)});
  }
  return out;
}

Result<std::vector<ArrearsClaim>> CorpStore::capped_records(const std::string& po_id) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT seq, amount - charged FROM usage_records "
                                           "WHERE po_id = ? AND charged < amount ORDER BY seq"));
  s.bind(1, po_id);
  std::vector<ArrearsClaim> out;
  for (;;) {
    XOP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(ArrearsClaim{s.i64(0), s.i64(1)});
  }
  return out;
}

Status CorpStore::add_record_charge(const std::string& po_id, int64_t seq, int64_t paid) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("UPDATE usage_records SET charged = charged + ?1 "
                                           "WHERE po_id = ?2 AND seq = ?3 AND charged + ?1 <= amount"));
  s.bind(1, paid).bind(2, po_id).bind(3, seq);
  XOP_RETURN_IF_ERROR(s.run());
  if (db_.changes() != 1) {
    return make_error(ErrorCode::kInternal,
                      "record " + po_id + "/" + std::to_string(seq) + " cannot take " + std::to_string(paid) + " more");
  }
  return ok_status();
}

Result<std::vector<AccountTxRow>> CorpStore::transactions_of(const std::string& ledger_account) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT t.id, t.kind, e.amount, t.at, t.memo FROM entries e "
                                           "JOIN transactions t ON t.id = e.tx_id WHERE e.account = ? "
                                           "ORDER BY e.seq"));
  s.bind(1, ledger_account);
  std::vector<AccountTxRow> out;
  for (;;) {
    XOP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    auto kind = parse_tx_kind(s.str(1));
    if (!kind) return make_error(ErrorCode::kInternal, "stored transaction " + s.str(0) + ": unknown kind");
    out.push_back(AccountTxRow{s.str(0), *kind, s.i64(2), s.i64(3), s.str(4)});
  }
  return out;
}

Status CorpStore::consume_nonce(const std::string& nonce, TimeMs now, TimeMs keep_after) {
  {
    XOP_ASSIGN_OR_RETURN(auto prune, db_.prepare("DELETE FROM request_nonces WHERE received_at < ?"));
    prune.bind(1, keep_after);
    XOP_RETURN_IF_ERROR(prune.run());
  }
  XOP_ASSIGN_OR_RETURN(auto seen, db_.prepare("SELECT 1 FROM request_nonces WHERE nonce = ?"));
  seen.bind(1, nonce);
  XOP_ASSIGN_OR_RETURN(bool replayed, seen.step());
  if (replayed) return make_error(ErrorCode::kUnauthenticated, "request replayed");
  XOP_ASSIGN_OR_RETURN(auto ins, db_.prepare("INSERT INTO request_nonces (nonce, received_at) VALUES (?, ?)"));
  ins.bind(1, nonce).bind(2, now);
  return ins.run();
}

Result<std::vector<ServerEarningsRow>> CorpStore::server_earnings(const std::string& owner_id, TimeMs since,
                                                                  const std::string& only_server) {
  std::vector<ServerEarningsRow> out;
  {
    XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT id, name FROM accounts WHERE owner = ? AND kind = ? "
                                             "AND (? = '' OR id = ?) ORDER BY name, id"));
    s.bind(1, owner_id).bind(2, to_string(AccountKind::kServer)).bind(3, only_server).bind(4, only_server);
    while (true) {
      XOP_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) break;
      out.push_back(ServerEarningsRow{s.str(0), s.str(1), 0, 0, 0});
    }
  }
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT p.server, e.amount, t.at FROM entries e "
                                           "JOIN transactions t ON t.id = e.tx_id "
                                           "JOIN purchase_orders p ON p.po_id = t.po_id "
                                           "WHERE e.account = ? AND t.kind = ? AND (? = '' OR p.server = ?)"));
  s.bind(1, user_ledger_account(owner_id))
      .bind(2, to_string(TxKind::kSettlement))
      .bind(3, only_server)
      .bind(4, only_server);
  while (true) {
    XOP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    const std::string server = s.str(0);
    auto it = std::find_if(out.begin(), out.end(), [&](const ServerEarningsRow& r) { return r.server == server; });
    if (it == out.end()) continue;  // a server no longer owned by this user
    const int64_t amount = s.i64(1);
    if (__builtin_add_overflow(it->total, amount, &it->total)) {
      return make_error(ErrorCode::kInternal, "earnings overflow");
    }
    if (s.i64(2) >= since && __builtin_add_overflow(it->since, amount, &it->since)) {
      return make_error(ErrorCode::kInternal, "earnings overflow");
    }
    ++it->settlements;
  }
  return out;
}

Result<int64_t> CorpStore::earnings_of(const std::string& user_id) {
  XOP_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT e.amount FROM entries e JOIN transactions t ON t.id = e.tx_id "
                                           "WHERE e.account = ? AND t.kind = ?"));
  s.bind(1, user_ledger_account(user_id)).bind(2, to_string(TxKind::kSettlement));
  int64_t total = 0;
  while (true) {
    XOP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    if (__builtin_add_overflow(total, s.i64(0), &total)) return make_error(ErrorCode::kInternal, "earnings overflow");
  }
  return total;
}

}  // namespace xop
