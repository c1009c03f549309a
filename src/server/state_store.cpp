#include "server/state_store.h"

#include <mutex>

#include "storage/sqlite_db.h"

namespace xop {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, user TEXT NOT NULL, po_id TEXT NOT NULL UNIQUE, spec TEXT NOT NULL,
  purchase_order TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL, started_at INTEGER NOT NULL DEFAULT 0, stopped_at INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0, last_period_end INTEGER NOT NULL DEFAULT 0, exit_code INTEGER,
  totals TEXT NOT NULL DEFAULT '{}', exit_reason TEXT NOT NULL DEFAULT '',
  frozen_until INTEGER NOT NULL DEFAULT 0, network TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS usage_records (
  session TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL, acked INTEGER NOT NULL DEFAULT 0,
  refusal TEXT NOT NULL DEFAULT '', PRIMARY KEY (session, seq));
CREATE INDEX IF NOT EXISTS usage_unacked ON usage_records (acked) WHERE acked = 0;
)sql";

constexpr const char* kColumns =
    "id,user,po_id,spec,purchase_order,state,reason,created_at,started_at,stopped_at,last_seq,last_period_end,"
    "exit_code,totals,exit_reason,frozen_until,network";

void bind_row(SqliteStmt& st, const SessionRow& s) {
  st.bind(1, s.id).bind(2, s.user).bind(3, s.po_id).bind(4, s.spec.dump()).bind(5, s.purchase_order.dump());
  st.bind(6, s.state).bind(7, s.reason).bind(8, s.created_at).bind(9, s.started_at).bind(10, s.stopped_at);
  st.bind(11, s.last_seq).bind(12, s.last_period_end);
  if (s.exit_code) {
    st.bind(13, static_cast<int64_t>(*s.exit_code));
  } else {
    st.bind_null(13);
  }
  st.bind(14, s.totals.dump());
  st.bind(15, s.exit_reason);
  st.bind(16, s.frozen_until);
  st.bind(17, s.network.dump());
}

SessionRow read_row(const SqliteStmt& st) {
  SessionRow s;
  s.id = st.str(0);
  s.user = st.str(1);
  s.po_id = st.str(2);
  s.spec = Json::parse(st.str(3), nullptr, false);
  s.purchase_order = Json::parse(st.str(4), nullptr, false);
  s.state = st.str(5);
  s.reason = st.str(6);
  s.created_at = st.i64(7);
  s.started_at = st.i64(8);
  s.stopped_at = st.i64(9);
  s.last_seq = st.i64(10);
  s.last_period_end = st.i64(11);
  if (!st.is_null(12)) s.exit_code = static_cast<int>(st.i64(12));
  s.totals = Json::parse(st.str(13), nullptr, false);
  s.exit_reason = st.str(14);
  s.frozen_until = st.i64(15);
  s.network = Json::parse(st.str(16), nullptr, false);
  if (!s.network.is_object()) s.network = Json::object();
  return s;
}

// The usage record stored as JSON text.
Result<UsageRecord> decode_stored_record(const std::string& text) {
  auto j = parse_json(text);
  if (!j) return make_error(ErrorCode::kInternal, "state store: corrupt usage record");
  return usage_record_from_json(*j, "stored record");
}

Result<std::vector<UsageRecord>> read_records(SqliteStmt& st) {
  std::vector<UsageRecord> out;
  for (;;) {
    XOP_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    XOP_ASSIGN_OR_RETURN(auto r, decode_stored_record(st.str(0)));
    out.push_back(std::move(r));
  }
  return out;
}

class SqliteStateStore final : public StateStore {
 public:
  explicit SqliteStateStore(SqliteDb db) : db_(std::move(db)) {}

  Status init() {
    XOP_RETURN_IF_ERROR(db_.exec(kSchema));
    // Databases from before exit_reason existed get the column (SQLite has no ADD COLUMN IF NOT EXISTS).
    XOP_RETURN_IF_ERROR(add_column("exit_reason", "TEXT NOT NULL DEFAULT ''"));
    // ...before credit control froze sessions, frozen_until; and before network existed.
    XOP_RETURN_IF_ERROR(add_column("frozen_until", "INTEGER NOT NULL DEFAULT 0"));
    XOP_RETURN_IF_ERROR(add_column("network", "TEXT NOT NULL DEFAULT '{}'"));
    // ...and before the corp refused single records (usage_records.acked = 2: set aside).
    XOP_RETURN_IF_ERROR(add_column("refusal", "TEXT NOT NULL DEFAULT ''", "usage_records"));
    return ok_status();
  }

  Status add_column(const std::string& name, const std::string& decl, const std::string& table = "sessions") {
    XOP_ASSIGN_OR_RETURN(auto cols, db_.prepare("SELECT COUNT(*) FROM pragma_table_info(?) WHERE name=?"));
    cols.bind(1, table).bind(2, name);
    XOP_ASSIGN_OR_RETURN(bool row, cols.step());
    if (row && cols.i64(0) == 0) {
      XOP_RETURN_IF_ERROR(db_.exec("ALTER TABLE " + table + " ADD COLUMN " + name + " " + decl));
    }
    return ok_status();
  }

  Status insert_session(const SessionRow& s) override {
    std::lock_guard lock(mu_);
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("INSERT INTO sessions (") + kColumns +
                                              ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    bind_row(st, s);
    auto r = st.run();
    if (!r && r.error().code == ErrorCode::kConflict) {
      return make_error(ErrorCode::kConflict, "purchase order already used");
    }
    return r;
  }

  Status update_session(const SessionRow& s) override {
    std::lock_guard lock(mu_);
    XOP_ASSIGN_OR_RETURN(auto st,
                         db_.prepare("UPDATE sessions SET id=?1,user=?2,po_id=?3,spec=?4,purchase_order=?5,state=?6,"
                                     "reason=?7,created_at=?8,started_at=?9,stopped_at=?10,last_seq=?11,"
                                     "last_period_end=?12,exit_code=?13,totals=?14,exit_reason=?15,frozen_until=?16,"
                                     "network=?17 WHERE id=?1"));
    bind_row(st, s);
    return st.run();
  }

  Result<std::optional<SessionRow>> session(const std::string& id) override {
    std::lock_guard lock(mu_);
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare(std::string("SELECT ") + kColumns + " FROM sessions WHERE id=?"));
    st.bind(1, id);
    XOP_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return std::optional<SessionRow>();
    return std::optional<SessionRow>(read_row(st));
  }

  Result<std::vector<SessionRow>> sessions() override {
    std::lock_guard lock(mu_);
    XOP_ASSIGN_OR_RETURN(auto st,
                         db_.prepare(std::string("SELECT ") + kColumns + " FROM sessions ORDER BY created_at"));
    return collect_rows<SessionRow>(st, read_row);
  }

  Status append_record(const UsageRecord& r) override {
    std::lock_guard lock(mu_);
    SqliteTxn txn(db_);
    XOP_RETURN_IF_ERROR(txn.begin());
    XOP_ASSIGN_OR_RETURN(auto ins, db_.prepare("INSERT INTO usage_records (session, seq, record) VALUES (?,?,?)"));
    ins.bind(1, r.session).bind(2, r.seq).bind(3, to_json(r).dump());
    XOP_RETURN_IF_ERROR(ins.run());
    // Records chain without gaps: the session's last_seq must be exactly seq - 1.
    XOP_ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE sessions SET last_seq=?, last_period_end=? "
                                               "WHERE id=? AND last_seq=?"));
    upd.bind(1, r.seq).bind(2, r.period_end).bind(3, r.session).bind(4, r.seq - 1);
    XOP_RETURN_IF_ERROR(upd.run());
    if (db_.changes() != 1) {
      return make_error(ErrorCode::kConflict,
                        "usage record " + std::to_string(r.seq) + " does not follow the session's last");
    }
    return txn.commit();
  }

  Result<std::vector<UsageRecord>> unacked_records(size_t limit) override {
    std::lock_guard lock(mu_);
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT record FROM usage_records WHERE acked=0 ORDER BY session, seq "
                                              "LIMIT ?"));
    st.bind(1, static_cast<int64_t>(limit));
    return read_records(st);
  }

  Status ack_records(const std::vector<std::pair<std::string, int64_t>>& keys) override {
    std::lock_guard lock(mu_);
    SqliteTxn txn(db_);
    XOP_RETURN_IF_ERROR(txn.begin());
    for (const auto& [session, seq] : keys) {
      XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE usage_records SET acked=1 WHERE session=? AND seq=?"));
      st.bind(1, session).bind(2, seq);
      XOP_RETURN_IF_ERROR(st.run());
    }
    return txn.commit();
  }

  Status refuse_records(const std::vector<Refusal>& refused) override {
    std::lock_guard lock(mu_);
    SqliteTxn txn(db_);
    XOP_RETURN_IF_ERROR(txn.begin());
    for (const auto& r : refused) {
      XOP_ASSIGN_OR_RETURN(auto st,
                           db_.prepare("UPDATE usage_records SET acked=2, refusal=? WHERE session=? AND seq=? AND "
                                       "acked=0"));
      st.bind(1, r.reason.empty() ? std::string("refused") : r.reason).bind(2, r.session).bind(3, r.seq);
      XOP_RETURN_IF_ERROR(st.run());
    }
    return txn.commit();
  }

  Result<std::vector<std::pair<UsageRecord, std::string>>> refused_records(size_t limit) override {
    std::lock_guard lock(mu_);
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT record, refusal FROM usage_records WHERE acked=2 ORDER BY "
                                              "session, seq LIMIT ?"));
    st.bind(1, static_cast<int64_t>(limit));
    std::vector<std::pair<UsageRecord, std::string>> out;
    for (;;) {
      XOP_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      XOP_ASSIGN_OR_RETURN(auto r, decode_stored_record(st.str(0)));
      out.emplace_back(std::move(r), st.str(1));
    }
    return out;
  }

  Result<std::vector<UsageRecord>> records(const std::string& session) override {
    std::lock_guard lock(mu_);
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT record FROM usage_records WHERE session=? ORDER BY seq"));
    st.bind(1, session);
    return read_records(st);
  }

 private:
  std::mutex mu_;
  SqliteDb db_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& path, SqliteDurability durability) {
  XOP_ASSIGN_OR_RETURN(auto db, SqliteDb::open(path, durability));
  auto store = std::make_unique<SqliteStateStore>(std::move(db));
  XOP_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace xop
