#include "storage/sqlite_db.h"

#include <sqlite3.h>

#include "core/ignore_error.h"

namespace xop {
namespace {

tl::unexpected<Error> db_error(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  const ErrorCode code = primary == SQLITE_CONSTRAINT ? ErrorCode::kConflict : ErrorCode::kInternal;
  std::string msg = std::string("sqlite ") + std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr) msg += std::string(" (") + sqlite3_errmsg(db) + ")";
  return make_error(code, msg);
}

// Statements kept per SQL text beyond this are finalized.
constexpr size_t kCachedPerText = 4;

// One statement with no parameters and nothing after it but a semicolon and space.
bool single_statement(std::string_view sql) {
  const size_t semi = sql.find(';');
  if (semi == std::string_view::npos) return true;
  return sql.find_first_not_of(" \t\r\n", semi + 1) == std::string_view::npos &&
         sql.find('?') == std::string_view::npos;
}

}  // namespace

struct SqliteStmtCache {
  std::map<std::string, std::vector<sqlite3_stmt*>, std::less<>> free;
  ~SqliteStmtCache() {
    for (auto& [sql, sts] : free) {
      for (auto* st : sts) sqlite3_finalize(st);
    }
  }
};

SqliteStmt::SqliteStmt(SqliteStmt&& o) noexcept
    : db_(o.db_), st_(o.st_), cache_(std::move(o.cache_)), sql_(std::move(o.sql_)), bind_rc_(o.bind_rc_) {
  o.st_ = nullptr;
}

SqliteStmt::~SqliteStmt() {
  if (st_ == nullptr) return;
  auto cache = cache_.lock();
  if (cache) {
    sqlite3_reset(st_);  // ends a read it held open; its error was step()'s to report
    sqlite3_clear_bindings(st_);
    auto& list = cache->free[sql_];
    if (list.size() < kCachedPerText) {
      list.push_back(st_);
      return;
    }
  }
  sqlite3_finalize(st_);
}

SqliteStmt& SqliteStmt::bind(int i, int64_t v) {
  const int rc = sqlite3_bind_int64(st_, i, v);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

SqliteStmt& SqliteStmt::bind(int i, std::string_view v) {
  const int rc = sqlite3_bind_text64(st_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

SqliteStmt& SqliteStmt::bind_null(int i) {
  const int rc = sqlite3_bind_null(st_, i);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

SqliteStmt& SqliteStmt::bind(int i, const std::optional<std::string>& v) {
  return v ? bind(i, std::string_view(*v)) : bind_null(i);
}

Result<bool> SqliteStmt::step() {
  if (bind_rc_ != 0) return db_error(db_, bind_rc_, "bind");
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_error(db_, rc, "step");
}

Status SqliteStmt::run() {
  while (true) {
    XOP_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return {};
  }
}

int64_t SqliteStmt::i64(int col) const { return sqlite3_column_int64(st_, col); }

std::string SqliteStmt::str(int col) const {
  const auto* p = sqlite3_column_text(st_, col);
  const int n = sqlite3_column_bytes(st_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

bool SqliteStmt::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

Result<SqliteDb> SqliteDb::open(const std::string& path) { return open(path, ""); }

Result<SqliteDb> SqliteDb::open(const std::string& path, const std::string& vfs) {
  return open(path, SqliteDurability::kSynced, vfs);
}

Result<SqliteDb> SqliteDb::open(const std::string& path, SqliteDurability durability, const std::string& vfs) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    auto err = db_error(raw, rc, "open " + path);
    sqlite3_close(raw);
    return err;
  }
  SqliteDb db(raw);
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  XOP_RETURN_IF_ERROR(db.exec(durability == SqliteDurability::kSynced
                                  ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                                  : "PRAGMA synchronous=OFF; PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"));
  return db;
}

SqliteDb::SqliteDb(sqlite3* db) : db_(db), cache_(std::make_shared<SqliteStmtCache>()) {}

SqliteDb::SqliteDb(SqliteDb&& o) noexcept : db_(o.db_), cache_(std::move(o.cache_)) { o.db_ = nullptr; }

SqliteDb::~SqliteDb() {
  cache_.reset();  // finalizes the cached statements (live ones finalize when they end)
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status SqliteDb::exec(std::string_view sql) {
  if (single_statement(sql)) {
    XOP_ASSIGN_OR_RETURN(auto st, prepare(sql));
    return st.run();
  }
  char* err = nullptr;
  const std::string s(sql);
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return make_error((rc & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::kConflict : ErrorCode::kInternal,
                      "sqlite exec: " + msg);
  }
  return {};
}

Result<SqliteStmt> SqliteDb::prepare(std::string_view sql) {
  if (auto it = cache_->free.find(sql); it != cache_->free.end() && !it->second.empty()) {
    sqlite3_stmt* st = it->second.back();
    it->second.pop_back();
    return SqliteStmt(db_, st, cache_, std::string(sql));
  }
  sqlite3_stmt* st = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr);
  if (rc != SQLITE_OK) return db_error(db_, rc, "prepare");
  if (st == nullptr) return make_error(ErrorCode::kInternal, "sqlite prepare: no statement in the text");
  return SqliteStmt(db_, st, cache_, std::string(sql));
}

SqliteTxn::~SqliteTxn() {
  if (!open_) return;
  if (nested_) {
    ignore_error(db_.exec("ROLLBACK TO xop_nested; RELEASE xop_nested"),
                 "rolling back an abandoned savepoint; the outer transaction rolls back on error anyway");
    return;
  }
  ignore_error(db_.exec("ROLLBACK"), "rolling back an abandoned transaction; SQLite rolls back on error anyway");
}

Status SqliteTxn::begin() {
  nested_ = sqlite3_get_autocommit(db_.handle()) == 0;
  XOP_RETURN_IF_ERROR(db_.exec(nested_ ? "SAVEPOINT xop_nested" : "BEGIN IMMEDIATE"));
  open_ = true;
  return {};
}

Status SqliteTxn::commit() {
  XOP_RETURN_IF_ERROR(db_.exec(nested_ ? "RELEASE xop_nested" : "COMMIT"));
  open_ = false;
  return {};
}

int64_t SqliteDb::changes() const { return sqlite3_changes(db_); }

}  // namespace xop
