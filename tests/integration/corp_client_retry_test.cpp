// The typed CorpClient's idempotent retries (client/corp_client.h) against a real corp over real
// HTTP: a connection that loses the corp's first answer (the corp moved the money, the client
// never heard) is retried with the same Idempotency-Key, and the money moves once.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "client/corp_client.h"
#include "corp/corp_fixture.h"
#include "net/http_client.h"

namespace xop::testing {
namespace {

// Real HTTP to the endpoint; the answer to the first `drops` POSTs is thrown away after the
// corp handled them (the client sees kUnavailable, as for a connection reset). Records every
// POST's Idempotency-Key and whether its answer was a replay.
class LosingTransport : public Transport {
 public:
  LosingTransport(const Endpoint& ep, int drops) : http_(ep), drops_(drops) {}
  Result<HttpResponse> request(const std::string& method, const std::string& target, const std::string& body,
                               const std::map<std::string, std::string>& headers) override {
    auto r = http_.request(method, target, body, headers);
    if (method != "POST") return r;
    std::lock_guard lock(mu_);
    auto k = headers.find("Idempotency-Key");
    keys.push_back(k == headers.end() ? "" : k->second);
    replayed.push_back(r && r->headers.count("idempotent-replayed") > 0);
    if (r && drops_ > 0) {
      --drops_;
      return make_error(ErrorCode::kUnavailable, "connection reset after the request was handled (test)");
    }
    return r;
  }

  std::mutex mu_;
  std::vector<std::string> keys;
  std::vector<bool> replayed;

 private:
  HttpClient http_;
  int drops_;
};

class CorpClientRetry : public CorpFixture {
 protected:
  void SetUp() override {
    CorpFixture::SetUp();
    if (HasFatalFailure()) return;
    register_parties();
  }
  CorpClient client(const KeyPair& key, const std::shared_ptr<LosingTransport>& t) {
    return CorpClient(ApiClient(t, ep_, key, *clock_));
  }
};

TEST_F(CorpClientRetry, ALostDepositAnswerIsRetriedWithTheSameKeyAndCreditsOnce) {
  auto t = std::make_shared<LosingTransport>(ep_, 1);
  CorpClient corp = client(admin_, t);
  const int64_t before = balance(alice_.account_id());
  auto r = corp.deposit(DepositRequest{alice_.account_id(), 2'500, "lost answer"});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->balance, before + 2'500);
  EXPECT_EQ(balance(alice_.account_id()), before + 2'500);
  ASSERT_EQ(t->keys.size(), 2u);
  EXPECT_FALSE(t->keys[0].empty());
  EXPECT_EQ(t->keys[0], t->keys[1]);
  EXPECT_FALSE(t->replayed[0]);
  EXPECT_TRUE(t->replayed[1]);
  // The next logical call has a key of its own: it moves money again.
  auto r2 = corp.deposit(DepositRequest{alice_.account_id(), 2'500, "lost answer"});
  ASSERT_TRUE(r2) << r2.error().to_string();
  ASSERT_EQ(t->keys.size(), 3u);
  EXPECT_NE(t->keys[2], t->keys[0]);
  EXPECT_EQ(balance(alice_.account_id()), before + 5'000);
  expect_balanced();
}

TEST_F(CorpClientRetry, ALostPurchaseOrderAnswerHoldsOnceAndReturnsTheSameOrder) {
  auto t = std::make_shared<LosingTransport>(ep_, 2);
  CorpClient corp = client(alice_, t);
  auto po = corp.create_po(CreatePoRequest{srv_.account_id(), price_sheet(srv_), 9'000, std::nullopt});
  ASSERT_TRUE(po) << po.error().to_string();
  ASSERT_EQ(t->keys.size(), 3u);
  EXPECT_EQ(t->keys[0], t->keys[2]);
  EXPECT_EQ(held(alice_.account_id()), 9'000);
  auto pos = call(alice_, "GET", "/v1/accounts/" + alice_.account_id() + "/purchase-orders");
  ASSERT_TRUE(pos) << pos.error().to_string();
  EXPECT_EQ(pos->dump().find(po->body["po_id"].get<std::string>()) != std::string::npos, true) << pos->dump();
  expect_balanced();
}

TEST_F(CorpClientRetry, APayoutWhoseAnswersAreAllLostMovesMoneyOnceAndSaysUnavailable) {
  auto t = std::make_shared<LosingTransport>(ep_, 10);
  CorpClient corp = client(admin_, t);
  auto r = corp.payout(PayoutRequest{alice_.account_id(), 4'000, "bank transfer"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(t->keys.size(), 3u);  // RetryPolicy::attempts
  EXPECT_EQ(balance(alice_.account_id()), 96'000);
  auto c = corp_->check_ledger();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->balanced) << to_json(*c).dump();
  EXPECT_EQ(c->paid_out, 4'000);
}

TEST_F(CorpClientRetry, ARefusedCallIsNotRetried) {
  auto t = std::make_shared<LosingTransport>(ep_, 0);
  CorpClient corp = client(admin_, t);
  auto r = corp.payout(PayoutRequest{alice_.account_id(), 1'000'000, "too much"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPaymentRequired);
  EXPECT_EQ(t->keys.size(), 1u);
  expect_balanced();
}

}  // namespace
}  // namespace xop::testing
