// SqliteDb: prepared statements are cached per SQL text, and a cached statement comes back as a
// fresh one (reset, bindings cleared), even when it was abandoned mid-query.
#include "storage/sqlite_db.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace xop {
namespace {

using testing::TempDir;

int64_t count_rows(SqliteDb& db) {
  auto st = db.prepare("SELECT COUNT(*) FROM t");
  EXPECT_TRUE(st);
  EXPECT_TRUE(*st->step());
  return st->i64(0);
}

TEST(SqliteDbTest, ACachedStatementComesBackResetWithItsBindingsCleared) {
  TempDir t;
  auto db = SqliteDb::open(t.file("a.db"));
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER);"));
  {
    auto ins = db->prepare("INSERT INTO t (v) VALUES (?)");
    ASSERT_TRUE(ins);
    ASSERT_TRUE(ins->bind(1, int64_t{5}).run());
  }
  {
    auto ins = db->prepare("INSERT INTO t (v) VALUES (?)");  // the cached one
    ASSERT_TRUE(ins);
    ASSERT_TRUE(ins->run());
  }
  {
    auto nulls = db->prepare("SELECT COUNT(*) FROM t WHERE v IS NULL");
    ASSERT_TRUE(nulls && *nulls->step());
    EXPECT_EQ(nulls->i64(0), 1) << "the second insert had no binding left from the first";
  }

  // A query abandoned after its first row: reused, it runs again from the start and sees rows
  // written since (it did not keep its old read open).
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(db->exec("INSERT INTO t (v) VALUES (7)"));
  {
    auto sel = db->prepare("SELECT v FROM t ORDER BY rowid");
    ASSERT_TRUE(sel && *sel->step());
    EXPECT_EQ(sel->i64(0), 5);
  }
  ASSERT_TRUE(db->exec("INSERT INTO t (v) VALUES (8)"));
  auto other = SqliteDb::open(t.file("a.db"));
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->exec("INSERT INTO t (v) VALUES (9)")) << "no read or write left open on the first connection";
  EXPECT_EQ(count_rows(*db), 7);
  auto sel = db->prepare("SELECT v FROM t ORDER BY rowid");
  ASSERT_TRUE(sel && *sel->step());
  EXPECT_EQ(sel->i64(0), 5) << "from the first row again";
}

TEST(SqliteDbTest, NestedUsesOfOneTextGetTheirOwnStatements) {
  TempDir t;
  auto db = SqliteDb::open(t.file("a.db"));
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);"));
  auto outer = db->prepare("SELECT v FROM t ORDER BY v");
  ASSERT_TRUE(outer);
  int64_t pairs = 0;
  while (*outer->step()) {
    auto inner = db->prepare("SELECT v FROM t ORDER BY v");
    ASSERT_TRUE(inner);
    while (*inner->step()) ++pairs;
  }
  EXPECT_EQ(pairs, 4);
}

TEST(SqliteDbTest, ErrorsStayErrorsAndAStatementMayOutliveItsDatabase) {
  TempDir t;
  std::optional<SqliteStmt> survivor;
  {
    auto db = SqliteDb::open(t.file("a.db"));
    ASSERT_TRUE(db);
    EXPECT_FALSE(db->prepare("SELEKT 1"));
    EXPECT_FALSE(db->exec("SELEKT 1"));
    EXPECT_FALSE(db->prepare("   "));
    ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER PRIMARY KEY);"));
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)"));
    auto dup = db->exec("INSERT INTO t VALUES (1)");
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (2)")) << "the failed statement came back usable";
    auto st = db->prepare("SELECT v FROM t");
    ASSERT_TRUE(st);
    survivor.emplace(std::move(*st));
  }
  survivor.reset();  // finalized after its connection closed: no crash, no leak under ASan
}

int64_t synchronous_of(SqliteDb& db) {
  auto st = db.prepare("PRAGMA synchronous");
  EXPECT_TRUE(st && *st->step());
  return st ? st->i64(0) : -1;
}

// Stores sync every commit unless asked not to (only the simulated platform asks).
TEST(SqliteDbTest, CommitsAreSyncedUnlessOpenedUnsynced) {
  TempDir t;
  auto plain = SqliteDb::open(t.file("a.db"));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(synchronous_of(*plain), 2) << "FULL";
  auto synced = SqliteDb::open(t.file("b.db"), SqliteDurability::kSynced);
  ASSERT_TRUE(synced);
  EXPECT_EQ(synchronous_of(*synced), 2) << "FULL";
  auto unsynced = SqliteDb::open(t.file("c.db"), SqliteDurability::kUnsynced);
  ASSERT_TRUE(unsynced);
  EXPECT_EQ(synchronous_of(*unsynced), 0) << "OFF";
  auto mode = unsynced->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && *mode->step());
  EXPECT_EQ(mode->str(0), "wal");
}

}  // namespace
}  // namespace xop
