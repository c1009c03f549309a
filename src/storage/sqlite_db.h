// A thin RAII layer over the raw sqlite3 API: one connection, prepared statements with typed
// binds and reads, and IMMEDIATE transactions that roll back unless committed. Every failure is
// a Result (kInternal, or kConflict for constraint violations). Not thread-safe: each owner
// serialises access with a mutex of its own (the corp store, the server state store), and a
// statement is used and destroyed under that mutex.
// Prepared statements are cached per SQL text: a statement going out of scope is reset (ending
// any read it held open), its bindings cleared, and kept for the next prepare() of the same text
// (a few per text; more are finalized). Statements may outlive their SqliteDb (then finalized).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace xop {

class SqliteDb;
struct SqliteStmtCache;

// How a commit reaches the disk. kSynced, the default and what every daemon uses: WAL with
// synchronous=FULL, a committed transaction survives a power loss. kUnsynced: synchronous=OFF, no
// fsync, a commit survives a crash of the process but not of the machine (and a machine crash may
// corrupt the file). Only the in-process simulated platform (sim/platform.h) opens stores so, in
// its scratch directory: it models the daemons' logic, not their disks.
enum class SqliteDurability { kSynced, kUnsynced };

class SqliteStmt {
 public:
  SqliteStmt(SqliteStmt&& o) noexcept;
  SqliteStmt& operator=(SqliteStmt&&) = delete;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt();

  // Binds are 1-based, as in SQLite.
  SqliteStmt& bind(int i, int64_t v);
  SqliteStmt& bind(int i, std::string_view v);
  SqliteStmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  SqliteStmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  SqliteStmt& bind_null(int i);
  SqliteStmt& bind(int i, const std::optional<std::string>& v);

  // Advances: true when a row is available, false when done.
  Result<bool> step();
  // Runs to completion (for statements that return no rows).
  Status run();

  // Column reads are 0-based.
  [[nodiscard]] int64_t i64(int col) const;
  [[nodiscard]] std::string str(int col) const;
  [[nodiscard]] bool is_null(int col) const;

 private:
  friend class SqliteDb;
  SqliteStmt(sqlite3* db, sqlite3_stmt* st, std::weak_ptr<SqliteStmtCache> cache, std::string sql)
      : db_(db), st_(st), cache_(std::move(cache)), sql_(std::move(sql)) {}
  sqlite3* db_;
  sqlite3_stmt* st_;
  std::weak_ptr<SqliteStmtCache> cache_;
  std::string sql_;
  int bind_rc_ = 0;  // first bind failure, reported by step()
};

class SqliteDb {
 public:
  // Opens (creating if missing) with WAL, synchronous=FULL, foreign keys on, busy timeout.
  static Result<SqliteDb> open(const std::string& path);
  // The same on the registered SQLite VFS named `vfs` (empty: the default one), e.g. the
  // fault-injecting one of the store contract tests (tests/support/fault_vfs.h).
  static Result<SqliteDb> open(const std::string& path, const std::string& vfs);
  // The same with the durability chosen (synchronous=OFF for kUnsynced).
  static Result<SqliteDb> open(const std::string& path, SqliteDurability durability, const std::string& vfs = "");
  SqliteDb(SqliteDb&& o) noexcept;
  SqliteDb& operator=(SqliteDb&&) = delete;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  // Runs one or more statements without parameters (one statement goes through the cache).
  Status exec(std::string_view sql);
  Result<SqliteStmt> prepare(std::string_view sql);
  // Rows changed by the most recent INSERT, UPDATE or DELETE.
  [[nodiscard]] int64_t changes() const;
  [[nodiscard]] sqlite3* handle() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db);
  sqlite3* db_;
  std::shared_ptr<SqliteStmtCache> cache_;
};

// Steps `stmt` through every row and turns each into a T with `read(stmt)`.
template <typename T, typename Read>
Result<std::vector<T>> collect_rows(SqliteStmt& stmt, Read read) {
  std::vector<T> out;
  for (;;) {
    XOP_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(read(stmt));
  }
  return out;
}

// BEGIN IMMEDIATE on begin(); ROLLBACK on destruction unless commit()ed. Inside a transaction
// already open on the connection (an outer SqliteTxn), it is a savepoint instead: commit()
// releases it into the outer transaction, which still decides whether anything is kept, and
// destruction without commit() rolls back only what was done since begin().
class SqliteTxn {
 public:
  explicit SqliteTxn(SqliteDb& db) : db_(db) {}
  SqliteTxn(const SqliteTxn&) = delete;
  SqliteTxn& operator=(const SqliteTxn&) = delete;
  ~SqliteTxn();
  Status begin();
  Status commit();

 private:
  SqliteDb& db_;
  bool open_ = false;
  bool nested_ = false;
};

}  // namespace xop
