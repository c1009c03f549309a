// Usage-record batches against a real `xop corp` process: a batch sent twice is charged once, a
// batch with one altered amount or a bad signature is refused whole and charges nothing.
#include <gtest/gtest.h>

#include "integration/process_platform.h"
#include "proto/charge.h"
#include "proto/purchase_order.h"
#include "proto/usage_record.h"
#include "support/builders.h"

namespace xop::testing {
namespace {

class UsageBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_ = std::make_unique<ProcessPlatform>(ProcessPlatformOptions{.servers = 0, .runtime = "mock"});
    const std::string err = platform_->start();
    ASSERT_TRUE(err.empty()) << err;
    user_ = platform_->new_user("batch-user", 10);
    // A server identity of the test's own, registered like any server.
    auto corp = ApiClient::connect(platform_->corp_url(), server_key_);
    ASSERT_TRUE(corp->call("POST", "/v1/accounts",
                           Json{{"kind", "server"},
                                {"name", "test-server"},
                                {"owner", platform_->owner().account_id()},
                                {"owner_consent", testing::owner_consent_json(platform_->owner(), server_key_)}})
                    .has_value());
    rates_.cpu_use_per_core_hour = 3'600'000;  // 1 micro-credit per CPU-millisecond
    rates_.memory_reserve_per_gib_hour = 360'000;
    const auto sheet = testing::signed_price_sheet(server_key_, 1, rates_);
    auto user_corp = ApiClient::connect(platform_->corp_url(), user_);
    auto po = user_corp->call(
        "POST", "/v1/purchase-orders",
        Json{{"server", server_key_.account_id()}, {"price_sheet", sheet.to_json()}, {"max_amount_micros", 1'000'000}});
    ASSERT_TRUE(po.has_value()) << po.error().message;
    po_id_ = (*po)["purchase_order"]["body"]["po_id"].get<std::string>();
    issued_at_ = (*po)["purchase_order"]["body"]["issued_at"].get<TimeMs>();
  }

  UsageRecord record(int64_t seq, int64_t cpu_ms) const {
    UsageRecord r;
    r.session = "s" + std::string(32, 'a');
    r.po_id = po_id_;
    r.seq = seq;
    // Chained one-second periods from the PO's issuance (the corp refuses earlier ones).
    r.period_start = issued_at_ + 1'000 * (seq - 1);
    r.period_end = r.period_start + 1'000;
    r.reserved.cpu_millis = 500;
    r.reserved.memory_bytes = 64 << 20;
    r.used.cpu_ns = cpu_ms * 1'000'000;
    r.amount = compute_charge(rates_, r.reserved, r.used, 1000)->total;
    return r;
  }

  Result<Json> send(const std::vector<UsageRecord>& recs, const KeyPair& signer) {
    UsageBatch b{server_key_.account_id(), 1, recs};
    auto doc = SignedDoc::sign(kUsageBatchType, to_json(b), signer);
    auto corp = ApiClient::connect(platform_->corp_url(), server_key_);
    return corp->call("POST", "/v1/usage", Json{{"batch", doc->to_json()}});
  }

  int64_t charged() const {
    auto corp = ApiClient::connect(platform_->corp_url(), user_);
    auto r = corp->call("GET", "/v1/purchase-orders/" + po_id_);
    return r ? r->value("charged_micros", int64_t{-1}) : -1;
  }

  void expect_balanced() const {
    // The admin key gets a fresh check (an anonymous caller may get one cached for a few seconds).
    auto corp = ApiClient::connect(platform_->corp_url(), platform_->admin());
    auto r = corp->call("GET", "/v1/ledger/check");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->value("balanced", false)) << r->dump();
  }

  std::unique_ptr<ProcessPlatform> platform_;
  KeyPair user_;
  KeyPair server_key_ = KeyPair::generate();
  Rates rates_;
  std::string po_id_;
  TimeMs issued_at_ = 0;
};

TEST_F(UsageBatchTest, BatchSentTwiceIsChargedOnce) {
  const std::vector<UsageRecord> recs = {record(1, 300), record(2, 200)};
  const int64_t expected = recs[0].amount.micros() + recs[1].amount.micros();
  ASSERT_GT(expected, 0);
  auto first = send(recs, server_key_);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(charged(), expected);
  auto second = send(recs, server_key_);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  for (const auto& r : second->value("results", Json::array())) EXPECT_EQ(r.value("status", ""), "duplicate");
  EXPECT_EQ(charged(), expected);
  expect_balanced();
}

// A record whose amount is not what the price sheet gives is refused alone: the honest record
// before it is charged, the altered one is not (and is named with its reason), the ledger balances.
TEST_F(UsageBatchTest, AlteredAmountIsRefusedAloneAndTheHonestRecordIsCharged) {
  auto recs = std::vector<UsageRecord>{record(1, 300), record(2, 200)};
  recs[1].amount = Money::micros(recs[1].amount.micros() + 1);
  auto r = send(recs, server_key_);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const Json results = r->value("results", Json::array());
  ASSERT_EQ(results.size(), 2u) << r->dump();
  EXPECT_EQ(results[0].value("status", ""), "charged");
  EXPECT_EQ(results[1].value("status", ""), "refused");
  EXPECT_EQ(results[1].value("code", ""), "invalid_argument") << r->dump();
  EXPECT_NE(results[1].value("reason", "").find("price sheet"), std::string::npos) << r->dump();
  EXPECT_EQ(charged(), recs[0].amount.micros());
  // Sent again, the same: the first is a duplicate, the second still refused, nothing more charged.
  auto again = send(recs, server_key_);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->value("results", Json::array())[0].value("status", ""), "duplicate");
  EXPECT_EQ(again->value("results", Json::array())[1].value("status", ""), "refused");
  EXPECT_EQ(charged(), recs[0].amount.micros());
  expect_balanced();
}

TEST_F(UsageBatchTest, BadSignatureRefusesWholeBatch) {
  const KeyPair impostor = KeyPair::generate();
  auto r = send({record(1, 300)}, impostor);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << r.error().message;
  EXPECT_EQ(charged(), 0);
  expect_balanced();
}

}  // namespace
}  // namespace xop::testing
