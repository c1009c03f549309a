#include "server/state_store.h"

#include <gtest/gtest.h>

#include "storage/sqlite_db.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::TempDir;

std::unique_ptr<StateStore> open_store(const std::string& path) {
  auto s = StateStore::open(path);
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

SessionRow row(const std::string& id, const std::string& po, TimeMs created) {
  SessionRow r;
  r.id = id;
  r.user = "u-alice";
  r.po_id = po;
  r.spec = Json{{"name", "x"}};
  r.purchase_order = Json{{"type", "purchase_order"}};
  r.state = "starting";
  r.created_at = created;
  return r;
}

UsageRecord record(const std::string& session, int64_t seq, TimeMs start, TimeMs end) {
  UsageRecord r;
  r.session = session;
  r.po_id = "po" + std::string(32, 'a');
  r.seq = seq;
  r.period_start = start;
  r.period_end = end;
  r.reserved.cpu_millis = 100;
  r.used.cpu_ns = seq * 1000;
  r.amount = Money::micros(seq * 7);
  return r;
}

const std::string kS1 = "s" + std::string(32, '1');
const std::string kS2 = "s" + std::string(32, '2');

// A state.db written before exit_reason existed opens, keeps its rows and stores the new column.
TEST(StateStoreTest, AnOlderDatabaseGainsTheExitReasonColumn) {
  TempDir t;
  {
    auto db = SqliteDb::open(t.file("state.db"));
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, user TEXT NOT NULL, po_id TEXT NOT NULL UNIQUE, spec TEXT NOT "
        "NULL, purchase_order TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', created_at "
        "INTEGER NOT NULL, started_at INTEGER NOT NULL DEFAULT 0, stopped_at INTEGER NOT NULL DEFAULT 0, last_seq "
        "INTEGER NOT NULL DEFAULT 0, last_period_end INTEGER NOT NULL DEFAULT 0, exit_code INTEGER, totals TEXT NOT "
        "NULL DEFAULT '{}');"
        "INSERT INTO sessions (id,user,po_id,spec,purchase_order,state,created_at) VALUES "
        "('" +
        kS1 + "','u-alice','po-a','{}','{}','stopped',5);"));
  }
  auto st = open_store(t.file("state.db"));
  ASSERT_TRUE(st);
  auto got = st->session(kS1);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->exit_reason, "");
  SessionRow r = **got;
  r.exit_reason = "exited";
  ASSERT_TRUE(st->update_session(r));
  EXPECT_EQ((*st->session(kS1))->exit_reason, "exited");
  st.reset();
  EXPECT_TRUE(open_store(t.file("state.db")));  // opening twice does not add the column again
  // The network column came too (empty for old rows), and keeps what is stored.
  auto again = open_store(t.file("state.db"));
  ASSERT_TRUE(again);
  SessionRow n = **again->session(kS1);
  EXPECT_EQ(n.network, Json::object());
  n.network = Json{{"address", "10.88.0.2"}, {"netns", "xop-s1"}};
  ASSERT_TRUE(again->update_session(n));
  again.reset();
  EXPECT_EQ((*open_store(t.file("state.db"))->session(kS1))->network["address"], "10.88.0.2");
}

TEST(StateStoreTest, InsertUpdateGetList) {
  TempDir t;
  auto st = open_store(t.file("state.db"));
  ASSERT_TRUE(st);
  auto missing = st->session(kS1);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(st->insert_session(row(kS2, "po-b", 20)));
  ASSERT_TRUE(st->insert_session(row(kS1, "po-a", 10)));
  auto got = st->session(kS1);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->user, "u-alice");
  EXPECT_EQ((*got)->po_id, "po-a");
  EXPECT_EQ((*got)->state, "starting");
  EXPECT_EQ((*got)->spec, (Json{{"name", "x"}}));
  EXPECT_FALSE((*got)->exit_code.has_value());

  SessionRow r = **got;
  r.state = "stopped";
  r.reason = "done";
  r.started_at = 11;
  r.stopped_at = 99;
  r.exit_code = 3;
  r.exit_reason = "oom-killed";
  r.totals = Json{{"sample", {{"cpu_ns", 5}}}};
  ASSERT_TRUE(st->update_session(r));
  got = st->session(kS1);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->state, "stopped");
  EXPECT_EQ((*got)->reason, "done");
  EXPECT_EQ((*got)->started_at, 11);
  EXPECT_EQ((*got)->stopped_at, 99);
  EXPECT_EQ((*got)->exit_code, 3);
  EXPECT_EQ((*got)->exit_reason, "oom-killed");
  EXPECT_EQ((*got)->totals, r.totals);

  auto all = st->sessions();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, kS1);  // ordered by created_at
  EXPECT_EQ((*all)[1].id, kS2);
}

TEST(StateStoreTest, PurchaseOrderUsedTwiceIsConflict) {
  TempDir t;
  auto st = open_store(t.file("state.db"));
  ASSERT_TRUE(st->insert_session(row(kS1, "po-a", 1)));
  auto dup = st->insert_session(row(kS2, "po-a", 2));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  auto s2 = st->session(kS2);
  ASSERT_TRUE(s2);
  EXPECT_FALSE(s2->has_value());
  // Same id again is refused too.
  EXPECT_FALSE(st->insert_session(row(kS1, "po-z", 3)));
}

TEST(StateStoreTest, AppendRecordAdvancesLastSeqAndRefusesGaps) {
  TempDir t;
  auto st = open_store(t.file("state.db"));
  ASSERT_TRUE(st->insert_session(row(kS1, "po-a", 1)));
  ASSERT_TRUE(st->append_record(record(kS1, 1, 0, 1000)));
  auto s = st->session(kS1);
  EXPECT_EQ((*s)->last_seq, 1);
  EXPECT_EQ((*s)->last_period_end, 1000);

  // A gap (seq 3 after 1) and a repeat (seq 1 again) are refused and change nothing.
  EXPECT_FALSE(st->append_record(record(kS1, 3, 1000, 2000)));
  EXPECT_FALSE(st->append_record(record(kS1, 1, 1000, 2000)));
  s = st->session(kS1);
  EXPECT_EQ((*s)->last_seq, 1);
  EXPECT_EQ((*s)->last_period_end, 1000);
  auto recs = st->records(kS1);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 1u);

  // A record for a session that does not exist is refused (no row to advance).
  EXPECT_FALSE(st->append_record(record(kS2, 1, 0, 1)));
  EXPECT_TRUE(st->records(kS2)->empty());

  ASSERT_TRUE(st->append_record(record(kS1, 2, 1000, 2000)));
  s = st->session(kS1);
  EXPECT_EQ((*s)->last_seq, 2);
  EXPECT_EQ((*s)->last_period_end, 2000);
}

TEST(StateStoreTest, UnackedAckAndOrder) {
  TempDir t;
  auto st = open_store(t.file("state.db"));
  ASSERT_TRUE(st->insert_session(row(kS2, "po-b", 1)));
  ASSERT_TRUE(st->insert_session(row(kS1, "po-a", 2)));
  for (int64_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(st->append_record(record(kS2, i, (i - 1) * 10, i * 10)));
    ASSERT_TRUE(st->append_record(record(kS1, i, (i - 1) * 10, i * 10)));
  }
  auto un = st->unacked_records(100);
  ASSERT_TRUE(un);
  ASSERT_EQ(un->size(), 6u);
  // Ordered by session, then seq.
  EXPECT_EQ((*un)[0].session, kS1);
  EXPECT_EQ((*un)[0].seq, 1);
  EXPECT_EQ((*un)[2].seq, 3);
  EXPECT_EQ((*un)[3].session, kS2);
  EXPECT_EQ((*un)[0], record(kS1, 1, 0, 10));  // the record round-trips exactly

  auto limited = st->unacked_records(2);
  ASSERT_EQ(limited->size(), 2u);

  ASSERT_TRUE(st->ack_records({{kS1, 1}, {kS1, 2}, {kS2, 3}, {"s-unknown", 9}}));
  un = st->unacked_records(100);
  ASSERT_EQ(un->size(), 3u);
  EXPECT_EQ((*un)[0].session, kS1);
  EXPECT_EQ((*un)[0].seq, 3);
  EXPECT_EQ((*un)[1].session, kS2);
  EXPECT_EQ((*un)[1].seq, 1);
  EXPECT_EQ((*un)[2].seq, 2);

  // records() returns acked and unacked alike, in seq order.
  auto all = st->records(kS1);
  ASSERT_EQ(all->size(), 3u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].seq, static_cast<int64_t>(i + 1));
}

TEST(StateStoreTest, ReopenPersistsSessionsRecordsAndAcks) {
  TempDir t;
  {
    auto st = open_store(t.file("state.db"));
    ASSERT_TRUE(st->insert_session(row(kS1, "po-a", 1)));
    ASSERT_TRUE(st->append_record(record(kS1, 1, 0, 10)));
    ASSERT_TRUE(st->append_record(record(kS1, 2, 10, 20)));
    ASSERT_TRUE(st->ack_records({{kS1, 1}}));
  }
  auto st = open_store(t.file("state.db"));
  auto s = st->session(kS1);
  ASSERT_TRUE(s && s->has_value());
  EXPECT_EQ((*s)->last_seq, 2);
  auto un = st->unacked_records(10);
  ASSERT_EQ(un->size(), 1u);
  EXPECT_EQ((*un)[0].seq, 2);
  // The seq guard still holds after reopening.
  EXPECT_FALSE(st->append_record(record(kS1, 2, 20, 30)));
  EXPECT_TRUE(st->append_record(record(kS1, 3, 20, 30)));
}

TEST(StateStoreTest, OpenFailsOnUnwritablePathAndOnGarbageFile) {
  TempDir t;
  auto bad = StateStore::open(t.file("no/such/dir/state.db"));
  EXPECT_FALSE(bad);
  testing::write_file(t.file("junk.db"), std::string(8192, 'x'));
  auto junk = StateStore::open(t.file("junk.db"));
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace xop
