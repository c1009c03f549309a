#include "server/state_store.h"

#include <mutex>

#include <sqlite3.h>

namespace xop {
namespace {

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  [[nodiscard]] bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  std::string text(int c) {
    const auto* p = sqlite3_column_text(s_, c);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  int64_t i64(int c) { return sqlite3_column_int64(s_, c); }
  bool is_null(int c) { return sqlite3_column_type(s_, c) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, user TEXT NOT NULL, po_id TEXT NOT NULL UNIQUE, spec TEXT NOT NULL,
  purchase_order TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL, started_at INTEGER NOT NULL DEFAULT 0, stopped_at INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0, last_period_end INTEGER NOT NULL DEFAULT 0, exit_code INTEGER,
  totals TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS usage_records (
  session TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL, acked INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (session, seq));
CREATE INDEX IF NOT EXISTS usage_unacked ON usage_records (acked) WHERE acked = 0;
)sql";

class SqliteStateStore final : public StateStore {
 public:
  explicit SqliteStateStore(sqlite3* db) : db_(db) {}
  ~SqliteStateStore() override { sqlite3_close(db_); }
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  Status exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err != nullptr ? err : "unknown";
      sqlite3_free(err);
      return make_error(ErrorCode::kInternal, "state store: " + m);
    }
    return {};
  }
  Error db_error(const std::string& what) {
    return Error{ErrorCode::kInternal, "state store: " + what + ": " + sqlite3_errmsg(db_)};
  }

  Status insert_session(const SessionRow& s) override {
    std::lock_guard lock(mu_);
    Stmt st(db_,
            "INSERT INTO sessions (id,user,po_id,spec,purchase_order,state,reason,created_at,started_at,stopped_at,"
            "last_seq,last_period_end,exit_code,totals) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    bind_row(st, s);
    const int rc = st.step();
    if (rc == SQLITE_CONSTRAINT) return make_error(ErrorCode::kConflict, "purchase order already used");
    if (rc != SQLITE_DONE) return tl::make_unexpected(db_error("insert session"));
    return {};
  }

  Status update_session(const SessionRow& s) override {
    std::lock_guard lock(mu_);
    Stmt st(db_,
            "UPDATE sessions SET id=?1,user=?2,po_id=?3,spec=?4,purchase_order=?5,state=?6,reason=?7,created_at=?8,"
            "started_at=?9,stopped_at=?10,last_seq=?11,last_period_end=?12,exit_code=?13,totals=?14 WHERE id=?1");
    bind_row(st, s);
    if (st.step() != SQLITE_DONE) return tl::make_unexpected(db_error("update session"));
    return {};
  }

  Result<std::optional<SessionRow>> session(const std::string& id) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "SELECT * FROM sessions WHERE id=?");
    st.bind(1, id);
    const int rc = st.step();
    if (rc == SQLITE_DONE) return std::optional<SessionRow>();
    if (rc != SQLITE_ROW) return tl::make_unexpected(db_error("read session"));
    return std::optional<SessionRow>(read_row(st));
  }

  Result<std::vector<SessionRow>> sessions() override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "SELECT * FROM sessions ORDER BY created_at");
    std::vector<SessionRow> out;
    int rc = 0;
    while ((rc = st.step()) == SQLITE_ROW) out.push_back(read_row(st));
    if (rc != SQLITE_DONE) return tl::make_unexpected(db_error("list sessions"));
    return out;
  }

  Status append_record(const UsageRecord& r) override {
    std::lock_guard lock(mu_);
    XOP_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    Stmt ins(db_, "INSERT INTO usage_records (session, seq, record) VALUES (?,?,?)");
    ins.bind(1, r.session).bind(2, r.seq).bind(3, to_json(r).dump());
    Stmt upd(db_, "UPDATE sessions SET last_seq=?, last_period_end=? WHERE id=? AND last_seq=?");
    upd.bind(1, r.seq).bind(2, r.period_end).bind(3, r.session).bind(4, r.seq - 1);
    if (ins.step() != SQLITE_DONE || upd.step() != SQLITE_DONE || sqlite3_changes(db_) != 1) {
      auto e = db_error("append usage record");
      (void)exec("ROLLBACK");
      return tl::make_unexpected(e);
    }
    return exec("COMMIT");
  }

  Result<std::vector<UsageRecord>> unacked_records(size_t limit) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "SELECT record FROM usage_records WHERE acked=0 ORDER BY session, seq LIMIT ?");
    st.bind(1, static_cast<int64_t>(limit));
    return read_records(st);
  }

  Status ack_records(const std::vector<std::pair<std::string, int64_t>>& keys) override {
    std::lock_guard lock(mu_);
    XOP_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    for (const auto& [session, seq] : keys) {
      Stmt st(db_, "UPDATE usage_records SET acked=1 WHERE session=? AND seq=?");
      st.bind(1, session).bind(2, seq);
      if (st.step() != SQLITE_DONE) {
        auto e = db_error("ack usage record");
        (void)exec("ROLLBACK");
        return tl::make_unexpected(e);
      }
    }
    return exec("COMMIT");
  }

  Result<std::vector<UsageRecord>> records(const std::string& session) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "SELECT record FROM usage_records WHERE session=? ORDER BY seq");
    st.bind(1, session);
    return read_records(st);
  }

 private:
  static void bind_row(Stmt& st, const SessionRow& s) {
    st.bind(1, s.id).bind(2, s.user).bind(3, s.po_id).bind(4, s.spec.dump()).bind(5, s.purchase_order.dump());
    st.bind(6, s.state).bind(7, s.reason).bind(8, s.created_at).bind(9, s.started_at).bind(10, s.stopped_at);
    st.bind(11, s.last_seq).bind(12, s.last_period_end);
    if (s.exit_code) {
      st.bind(13, static_cast<int64_t>(*s.exit_code));
    } else {
      st.bind_null(13);
    }
    st.bind(14, s.totals.dump());
  }

  static SessionRow read_row(Stmt& st) {
    SessionRow s;
    s.id = st.text(0);
    s.user = st.text(1);
    s.po_id = st.text(2);
    s.spec = Json::parse(st.text(3), nullptr, false);
    s.purchase_order = Json::parse(st.text(4), nullptr, false);
    s.state = st.text(5);
    s.reason = st.text(6);
    s.created_at = st.i64(7);
    s.started_at = st.i64(8);
    s.stopped_at = st.i64(9);
    s.last_seq = st.i64(10);
    s.last_period_end = st.i64(11);
    if (!st.is_null(12)) s.exit_code = static_cast<int>(st.i64(12));
    s.totals = Json::parse(st.text(13), nullptr, false);
    return s;
  }

  Result<std::vector<UsageRecord>> read_records(Stmt& st) {
    std::vector<UsageRecord> out;
    int rc = 0;
    while ((rc = st.step()) == SQLITE_ROW) {
      auto j = parse_json(st.text(0));
      if (!j) return make_error(ErrorCode::kInternal, "state store: corrupt usage record");
      XOP_ASSIGN_OR_RETURN(auto r, usage_record_from_json(*j, "stored record"));
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return tl::make_unexpected(db_error("read usage records"));
    return out;
  }

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string m = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error(ErrorCode::kInternal, "cannot open state store " + path + ": " + m);
  }
  auto store = std::make_unique<SqliteStateStore>(db);
  sqlite3_busy_timeout(db, 5000);
  XOP_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  XOP_RETURN_IF_ERROR(store->exec(kSchema));
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace xop
