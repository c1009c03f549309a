#include "server/charging_agent.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "net/http_server.h"
#include "support/fault_vfs.h"
#include "support/log_capture.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::FaultVfs;
using testing::LogCapture;
using testing::TempDir;

// A small stand-in for XenoCorp's POST /v1/usage: verifies the signed batch and answers
// according to `mode`, remembering every (session, seq) it charged.
struct FakeCorp {
  enum class Mode { kAck, kRefuse, kAckFirstOnly, kAckNone, kAckAsRejected, kAckForeign, kRefuseSeq2 };
  std::mutex mu;
  Mode mode = Mode::kAck;
  std::string expected_server;
  std::set<std::pair<std::string, int64_t>> charged;
  std::vector<size_t> batch_sizes;
  std::set<std::string> exhausted;  // POs to report exhausted
  int duplicates = 0;

  std::shared_ptr<Router> router() {
    auto r = std::make_shared<Router>();
    r->add(
        "POST", "/v1/usage",
        [this](const HttpRequest& req, const PathParams&) {
          auto body = json_body(req);
          if (!body || !body->contains("batch")) return error_response(ErrorCode::kInvalidArgument, "no batch");
          auto doc = SignedDoc::from_json((*body)["batch"], kUsageBatchType);
          if (!doc) return error_response(doc.error());
          auto batch = verify_usage_batch(*doc);
          if (!batch) return error_response(batch.error());
          std::lock_guard lock(mu);
          if (batch->server != expected_server) return error_response(ErrorCode::kPermissionDenied, "wrong server");
          batch_sizes.push_back(batch->records.size());
          if (mode == Mode::kRefuse) return error_response(ErrorCode::kInvalidArgument, "amount does not match");
          Json results = Json::array();
          Json pos = Json::array();
          std::set<std::string> seen_pos;
          for (const auto& rec : batch->records) {
            if (mode == Mode::kAckNone) break;
            const bool dup = !charged.insert({rec.session, rec.seq}).second;
            if (dup) ++duplicates;
            std::string status = dup ? "duplicate" : "charged";
            if (mode == Mode::kAckAsRejected) status = "rejected";
            const bool refuse = mode == Mode::kRefuseSeq2 && rec.seq == 2;
            if (refuse) {
              status = "refused";
              charged.erase({rec.session, rec.seq});
            }
            const std::string session = mode == Mode::kAckForeign ? rec.session + "x" : rec.session;
            Json result{{"session", session},
                        {"po_id", rec.po_id},
                        {"seq", rec.seq},
                        {"status", status},
                        {"charged_micros", 0}};
            if (refuse) {
              result["reason"] = "seq 2: claims 10 but the price sheet gives 9";
              result["code"] = "invalid_argument";
            }
            results.push_back(std::move(result));
            if (seen_pos.insert(rec.po_id).second) {
              pos.push_back(Json{{"po_id", rec.po_id},
                                 {"remaining_micros", 0},
                                 {"exhausted", exhausted.contains(rec.po_id)},
                                 {"closed", false}});
            }
            if (mode == Mode::kAckFirstOnly) break;
          }
          return json_response(200, Json{{"results", results}, {"purchase_orders", pos}});
        },
        8 << 20);
    return r;
  }
};

class ChargingAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = StateStore::open(dir_.file("state.db"));
    ASSERT_TRUE(st) << st.error().message;
    store_ = std::move(*st);
    corp_.expected_server = key_.account_id();
    http_ = std::make_unique<HttpServer>(HttpServerOptions{}, corp_.router());
    ASSERT_TRUE(http_->start());
    auto c = ApiClient::connect(http_->url(), key_, clock_);
    ASSERT_TRUE(c) << c.error().message;
    client_ = std::make_unique<CorpClient>(std::move(*c));
    client_->api().set_audience("stand-in-corp");  // the stand-in has no GET /v1/info
    agent_ = std::make_unique<ChargingAgent>(key_.account_id(), key_, *client_, *store_, clock_);
  }
  void TearDown() override {
    if (http_) http_->stop();
  }

  // A session with records 1..n in the WAL.
  std::string add_session(int n, const std::string& po_id) {
    SessionRow row;
    row.id = random_id("s");
    row.user = KeyPair::generate().account_id();
    row.po_id = po_id;
    row.spec = Json::object();
    row.purchase_order = Json::object();
    row.state = "running";
    row.created_at = clock_.now_ms();
    EXPECT_TRUE(store_->insert_session(row));
    for (int i = 1; i <= n; ++i) append(row.id, po_id, i);
    return row.id;
  }
  void append(const std::string& session, const std::string& po_id, int64_t seq) {
    UsageRecord r;
    r.session = session;
    r.po_id = po_id;
    r.seq = seq;
    r.period_start = (seq - 1) * 1000;
    r.period_end = seq * 1000;
    r.reserved.cpu_millis = 100;
    r.reserved.memory_bytes = 64 << 20;
    r.amount = Money::micros(10);
    EXPECT_TRUE(store_->append_record(r));
  }
  size_t unacked() { return store_->unacked_records(100000)->size(); }

  TempDir dir_;
  SimulatedClock clock_{1'700'000'000'000};
  KeyPair key_ = KeyPair::generate();
  FakeCorp corp_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<CorpClient> client_;
  std::unique_ptr<ChargingAgent> agent_;
};

TEST_F(ChargingAgentTest, NothingPendingSendsNothing) {
  auto r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->sent, 0u);
  EXPECT_TRUE(corp_.batch_sizes.empty());
}

// With nothing to deliver the agent sends an empty batch at most once per heartbeat interval: the
// checkpoint that lets the corp release holds this server has nothing to claim on (corp/expiry.h).
TEST_F(ChargingAgentTest, IdleAgentSendsAHeartbeatOncePerInterval) {
  clock_.advance_ms(ChargingAgent::kDefaultHeartbeatMs - 1);
  ASSERT_TRUE(agent_->flush());
  EXPECT_TRUE(corp_.batch_sizes.empty());
  clock_.advance_ms(1);
  ASSERT_TRUE(agent_->flush());
  EXPECT_EQ(corp_.batch_sizes, (std::vector<size_t>{0}));
  ASSERT_TRUE(agent_->flush());  // not again within the interval
  EXPECT_EQ(corp_.batch_sizes, (std::vector<size_t>{0}));
  // A delivered backlog is a checkpoint too: no heartbeat right after it.
  add_session(2, random_id("po"));
  clock_.advance_ms(ChargingAgent::kDefaultHeartbeatMs);
  ASSERT_TRUE(agent_->flush());
  ASSERT_TRUE(agent_->flush());
  EXPECT_EQ(corp_.batch_sizes, (std::vector<size_t>{0, 2}));
}

TEST_F(ChargingAgentTest, AcknowledgedRecordsLeaveTheWal) {
  const std::string po = random_id("po");
  const std::string s = add_session(3, po);
  auto r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->sent, 3u);
  EXPECT_EQ(r->acknowledged, 3u);
  EXPECT_TRUE(r->exhausted_pos.empty());
  EXPECT_EQ(unacked(), 0u);
  EXPECT_EQ(corp_.charged.size(), 3u);
  EXPECT_TRUE(corp_.charged.contains({s, 2}));
  // A second flush sends nothing more.
  ASSERT_TRUE(agent_->flush());
  EXPECT_EQ(corp_.batch_sizes.size(), 1u);
  // New records are sent on the next flush, only them.
  append(s, po, 4);
  r = agent_->flush();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->sent, 1u);
  EXPECT_EQ(corp_.duplicates, 0);
}

TEST_F(ChargingAgentTest, DuplicatesAreAcknowledgedToo) {
  const std::string po = random_id("po");
  const std::string s = add_session(2, po);
  // The corp already has seq 1 (e.g. our ack was lost before a crash).
  corp_.charged.insert({s, 1});
  auto r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->acknowledged, 2u);
  EXPECT_EQ(corp_.duplicates, 1);
  EXPECT_EQ(unacked(), 0u);
}

TEST_F(ChargingAgentTest, RefusedBatchStaysInTheWalAndIsResent) {
  const std::string po = random_id("po");
  add_session(2, po);
  corp_.mode = FakeCorp::Mode::kRefuse;
  auto r = agent_->flush();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("amount does not match"), std::string::npos);
  EXPECT_EQ(unacked(), 2u);
  corp_.mode = FakeCorp::Mode::kAck;
  r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->acknowledged, 2u);
  EXPECT_EQ(unacked(), 0u);
  EXPECT_EQ(corp_.batch_sizes, (std::vector<size_t>{2, 2}));
}

TEST_F(ChargingAgentTest, CorpUnreachableKeepsRecords) {
  add_session(1, random_id("po"));
  http_->stop();
  auto r = agent_->flush();
  ASSERT_FALSE(r);
  EXPECT_EQ(unacked(), 1u);
}

TEST_F(ChargingAgentTest, PartialAcksAreRetriedInTheSameFlush) {
  add_session(3, random_id("po"));
  corp_.mode = FakeCorp::Mode::kAckFirstOnly;
  auto r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->acknowledged, 3u);
  EXPECT_EQ(unacked(), 0u);
  EXPECT_EQ(corp_.batch_sizes, (std::vector<size_t>{3, 2, 1}));
}

TEST_F(ChargingAgentTest, NoAcknowledgementIsAnError) {
  add_session(2, random_id("po"));
  corp_.mode = FakeCorp::Mode::kAckNone;
  auto r = agent_->flush();
  ASSERT_FALSE(r);
  EXPECT_EQ(unacked(), 2u);
  EXPECT_EQ(corp_.batch_sizes.size(), 1u);  // it does not spin
}

TEST_F(ChargingAgentTest, OnlyChargedOrDuplicateRecordsOfTheBatchAreAcknowledged) {
  add_session(2, random_id("po"));
  corp_.mode = FakeCorp::Mode::kAckAsRejected;
  EXPECT_FALSE(agent_->flush());
  EXPECT_EQ(unacked(), 2u);
  // Acks naming records that were not in the batch do not mark anything either.
  corp_.mode = FakeCorp::Mode::kAckForeign;
  EXPECT_FALSE(agent_->flush());
  EXPECT_EQ(unacked(), 2u);
}

// A record the corp refuses is set aside with its reason and never sent again; the records around
// it are acknowledged, so one bad record does not block the usage log.
TEST_F(ChargingAgentTest, ARefusedRecordIsSetAsideAndTheRestGoOn) {
  LogCapture logs("server");
  const std::string po = random_id("po");
  const std::string session = add_session(3, po);
  corp_.mode = FakeCorp::Mode::kRefuseSeq2;
  auto r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->acknowledged, 2u);
  EXPECT_EQ(r->refused, 1u);
  EXPECT_EQ(unacked(), 0u);
  auto aside = store_->refused_records(10);
  ASSERT_TRUE(aside) << aside.error().message;
  ASSERT_EQ(aside->size(), 1u);
  EXPECT_EQ((*aside)[0].first.session, session);
  EXPECT_EQ((*aside)[0].first.seq, 2);
  EXPECT_NE((*aside)[0].second.find("price sheet"), std::string::npos) << (*aside)[0].second;
  EXPECT_EQ(logs.count("error", "refused usage record 2"), 1);
  // Nothing is sent again: the next records of the session go on.
  append(session, po, 4);
  corp_.mode = FakeCorp::Mode::kAck;
  r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->acknowledged, 1u);
  EXPECT_EQ(corp_.batch_sizes, (std::vector<size_t>{3, 1}));
  EXPECT_EQ(corp_.charged.count({session, 2}), 0u);
  // A repeated refusal of an already set-aside record changes nothing.
  EXPECT_TRUE(store_->refuse_records({StateStore::Refusal{session, 2, "again"}}));
  EXPECT_EQ(store_->refused_records(10)->at(0).second, (*aside)[0].second);
}

TEST_F(ChargingAgentTest, ExhaustedPurchaseOrdersAreReportedOnce) {
  const std::string po1 = random_id("po");
  const std::string po2 = random_id("po");
  add_session(2, po1);
  add_session(1, po2);
  corp_.exhausted.insert(po2);
  auto r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exhausted_pos, std::vector<std::string>{po2});
}

TEST_F(ChargingAgentTest, LargeBacklogGoesInBoundedBatches) {
  add_session(static_cast<int>(kMaxRecordsPerBatch) + 5, random_id("po"));
  auto r = agent_->flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->acknowledged, kMaxRecordsPerBatch + 5);
  EXPECT_EQ(corp_.batch_sizes, (std::vector<size_t>{kMaxRecordsPerBatch, 5}));
  EXPECT_EQ(unacked(), 0u);
}

// The corp charged the records but the server's store cannot mark them acknowledged (an
// injected write fault): the flush fails, saying so at error; the records stay in the WAL and
// the next flush resends them; the corp answers "duplicate", so each is charged once.
TEST_F(ChargingAgentTest, AcknowledgementsTheStoreCannotWriteAreResentAndNotChargedTwice) {
  FaultVfs vfs(dir_.file("faulty"));
  std::filesystem::create_directories(dir_.file("faulty"));
  auto opened = StateStore::open(dir_.file("faulty/state.db"));
  ASSERT_TRUE(opened) << opened.error().message;
  auto store = std::move(*opened);
  ChargingAgent agent(key_.account_id(), key_, *client_, *store, clock_);
  SessionRow row;
  row.id = random_id("s");
  row.user = KeyPair::generate().account_id();
  row.po_id = random_id("po");
  row.spec = Json::object();
  row.purchase_order = Json::object();
  row.state = "running";
  ASSERT_TRUE(store->insert_session(row));
  for (int64_t seq = 1; seq <= 2; ++seq) {
    UsageRecord r;
    r.session = row.id;
    r.po_id = row.po_id;
    r.seq = seq;
    r.period_start = (seq - 1) * 1000;
    r.period_end = seq * 1000;
    r.amount = Money::micros(10);
    ASSERT_TRUE(store->append_record(r));
  }
  LogCapture log("server");
  vfs.arm_write_failure(0, SQLITE_IOERR_WRITE);
  auto r = agent.flush();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("acknowledged"), std::string::npos) << r.error().message;
  EXPECT_EQ(log.count("error", "acknowledged"), 1);
  EXPECT_EQ(corp_.charged.size(), 2u);
  EXPECT_GT(vfs.faults(), 0);
  vfs.reset();
  EXPECT_EQ(store->unacked_records(100)->size(), 2u) << "still in the WAL";
  r = agent.flush();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->acknowledged, 2u);
  EXPECT_EQ(corp_.duplicates, 2) << "resent, not charged again";
  EXPECT_EQ(corp_.charged.size(), 2u);
  EXPECT_TRUE(store->unacked_records(100)->empty());
}

}  // namespace
}  // namespace xop
