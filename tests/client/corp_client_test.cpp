// CorpClient over a RouterTransport to a stand-in corp whose answers the test chooses: well-formed
// answers decode into their structs; wrong types, missing or unknown fields, non-JSON and oversized
// answers are clear kUnavailable errors (never exceptions); refusals keep the corp's own Error.
#include "client/corp_client.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "net/router_transport.h"
#include "proto/po_list.h"

namespace xop {
namespace {

class CorpClientTest : public ::testing::Test {
 protected:
  // Routes every corp path to `answer`, whatever the method.
  CorpClient client() {
    auto r = std::make_shared<Router>();
    auto h = [this](const HttpRequest& q, const PathParams&) {
      last_target = q.target;
      if (q.method == "POST") keys.push_back(q.header("idempotency-key"));
      if (raw) return HttpResponse{raw_status, "application/json", *raw, "", {}};
      if (refusal) return error_response(*refusal, "refused");
      return json_response(200, answer);
    };
    for (const char* p :
         {"/v1/info", "/v1/accounts/{id}", "/v1/servers/{id}", "/v1/purchase-orders/{id}", "/v1/statements/{id}",
          "/v1/ledger/check", "/v1/accounts/{id}/earnings", "/v1/accounts/{id}/purchase-orders"}) {
      r->add("GET", p, h);
    }
    for (const char* p : {"/v1/accounts", "/v1/deposits", "/v1/payouts", "/v1/purchase-orders",
                          "/v1/purchase-orders/{id}/close", "/v1/purchase-orders/{id}/extend", "/v1/usage"}) {
      r->add("POST", p, h, size_t{32} << 20);
    }
    return CorpClient(ApiClient(std::make_shared<RouterTransport>(r), Endpoint{"corp.test", 1}, std::nullopt));
  }

  Json answer = Json::object();
  std::optional<ErrorCode> refusal;
  std::optional<std::string> raw;
  int raw_status = 200;
  std::string last_target;
  std::vector<std::string> keys;  // the Idempotency-Key of every POST, "" when it had none
};

Json good_usage() {
  return Json{{"results",
               Json::array({Json{
                   {"session", "s1"}, {"po_id", "po1"}, {"seq", 3}, {"status", "charged"}, {"charged_micros", 10}}})},
              {"purchase_orders",
               Json::array({Json{{"po_id", "po1"}, {"remaining_micros", 0}, {"exhausted", true}, {"closed", false}}})}};
}

TEST_F(CorpClientTest, UsageAnswerDecodes) {
  answer = good_usage();
  auto c = client();
  auto r = c.report_usage(SignedDoc{});
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->results.size(), 1u);
  EXPECT_EQ(r->results[0].seq, 3);
  EXPECT_TRUE(r->results[0].acknowledged());
  ASSERT_EQ(r->purchase_orders.size(), 1u);
  EXPECT_TRUE(r->purchase_orders[0].exhausted);
  // An older corp's answer (no closing, low_funds, unpaid_micros): they read as false / 0, and
  // the codec writes them back.
  EXPECT_FALSE(r->purchase_orders[0].closing);
  EXPECT_FALSE(r->purchase_orders[0].low_funds);
  Json full = good_usage();
  full["purchase_orders"][0]["closing"] = false;
  full["purchase_orders"][0]["low_funds"] = false;
  full["purchase_orders"][0]["unpaid_micros"] = 0;
  EXPECT_EQ(to_json(*r), full);
  answer = full;
  answer["purchase_orders"][0]["low_funds"] = true;
  answer["purchase_orders"][0]["unpaid_micros"] = 7;
  auto r2 = c.report_usage(SignedDoc{});
  ASSERT_TRUE(r2) << r2.error().to_string();
  EXPECT_TRUE(r2->purchase_orders[0].low_funds);
  EXPECT_EQ(r2->purchase_orders[0].unpaid, 7);
  EXPECT_EQ(to_json(*r2), answer);  // the codec round-trips
}

TEST_F(CorpClientTest, ExtendPoSendsTheAmountAndDecodesTheAnswer) {
  auto c = client();
  const PoStatusView po{"po1", "u", "s", 30, 25, 5, "open", false, true, 0};
  answer = to_json(ExtendPoAnswer{po, 10, 70, "tx1"});
  auto r = c.extend_po("po1", 20);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(last_target, "/v1/purchase-orders/po1/extend");
  EXPECT_EQ(r->arrears_paid, 10);
  EXPECT_EQ(r->balance, 70);
  EXPECT_TRUE(r->purchase_order.low_funds);
  refusal = ErrorCode::kPaymentRequired;
  auto poor = c.extend_po("po1", 20);
  ASSERT_FALSE(poor);
  EXPECT_EQ(poor.error().code, ErrorCode::kPaymentRequired);
  refusal.reset();
  last_target.clear();
  auto bad = c.extend_po("../usage", 20);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(last_target.empty());
}

TEST_F(CorpClientTest, MalformedUsageAnswersAreErrors) {
  auto c = client();
  std::vector<Json> bad;
  Json j = good_usage();
  j["results"][0]["seq"] = "3";  // wrong type
  bad.push_back(j);
  j = good_usage();
  j["results"][0].erase("session");  // missing
  bad.push_back(j);
  j = good_usage();
  j["purchase_orders"][0]["surprise"] = 1;  // unknown
  bad.push_back(j);
  j = good_usage();
  j.erase("purchase_orders");
  bad.push_back(j);
  bad.push_back(Json::array());
  for (const auto& b : bad) {
    answer = b;
    auto r = c.report_usage(SignedDoc{});
    ASSERT_FALSE(r) << b.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(r.error().message.find("POST /v1/usage"), std::string::npos) << r.error().message;
  }
  raw = "not json";
  auto r = c.report_usage(SignedDoc{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  raw = std::string(CorpClient::kMaxUsageAnswerBytes + 1, ' ');
  r = c.report_usage(SignedDoc{});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exceeds"), std::string::npos) << r.error().message;
}

TEST_F(CorpClientTest, MoneyMovingCallsCarryAFreshKeyAndRetryOnlyWhatDidNotHappen) {
  auto c = client();
  answer = to_json(DepositAnswer{"tx1", 5});
  ASSERT_TRUE(c.deposit(DepositRequest{"a1", 5, ""}));
  ASSERT_TRUE(c.deposit(DepositRequest{"a1", 5, ""}));
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].size(), 2 + 2 + 32u) << keys[0];  // "ik<32 hex>", quoted
  EXPECT_EQ(keys[1], "\"" + c.last_idempotency_key() + "\"");
  EXPECT_NE(keys[0], keys[1]);
  // Registration moves no money: no key.
  answer = to_json(AccountAnswer{AccountView{"a1", "user", "n", "k", 5, std::nullopt}, std::nullopt, std::nullopt});
  keys.clear();
  ASSERT_TRUE(c.register_account(RegisterAccountRequest{AccountKind::kUser, "u", std::nullopt}));
  EXPECT_EQ(keys, std::vector<std::string>{""});
  // A 5xx (nothing happened) is sent again with the same key, up to three times in all.
  keys.clear();
  refusal = ErrorCode::kUnavailable;
  auto r = c.payout(PayoutRequest{"a1", 5, "m"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0], keys[1]);
  EXPECT_EQ(keys[1], keys[2]);
  // In flight at the corp: waited for and sent again.
  keys.clear();
  refusal = ErrorCode::kIdempotencyKeyInFlight;
  c.set_retry_policy(CorpClient::RetryPolicy{2, std::chrono::milliseconds(1)});
  r = c.payout(PayoutRequest{"a1", 5, "m"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIdempotencyKeyInFlight);
  EXPECT_EQ(keys.size(), 2u);
  // A refusal or a malformed answer is final: the corp answered.
  for (auto code : {ErrorCode::kPaymentRequired, ErrorCode::kConflict, ErrorCode::kIdempotencyKeyReused}) {
    keys.clear();
    refusal = code;
    r = c.payout(PayoutRequest{"a1", 5, "m"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(keys.size(), 1u);
  }
  refusal.reset();
  keys.clear();
  raw = "not json";
  EXPECT_FALSE(c.close_po("po1"));
  EXPECT_EQ(keys.size(), 1u);
}

TEST_F(CorpClientTest, RefusalsKeepTheCorpsError) {
  refusal = ErrorCode::kConflict;
  auto c = client();
  auto r = c.register_account(RegisterAccountRequest{AccountKind::kUser, "u", std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
}

TEST_F(CorpClientTest, EveryCallRefusesAWrongShapedAnswer) {
  auto c = client();
  answer = Json{{"unexpected", true}};
  EXPECT_FALSE(c.info());
  EXPECT_FALSE(c.register_account(RegisterAccountRequest{AccountKind::kUser, "u", std::nullopt}));
  EXPECT_FALSE(c.account("a1"));
  EXPECT_FALSE(c.server("a1"));
  EXPECT_FALSE(c.deposit(DepositRequest{"a1", 5, ""}));
  EXPECT_FALSE(c.create_po(CreatePoRequest{}));
  EXPECT_FALSE(c.purchase_order("po1"));
  EXPECT_FALSE(c.close_po("po1"));
  EXPECT_FALSE(c.extend_po("po1", 5));
  EXPECT_FALSE(c.statement("a1"));
  EXPECT_FALSE(c.ledger_check());
  EXPECT_FALSE(c.earnings("a1"));
  EXPECT_FALSE(c.purchase_orders("a1", std::nullopt));
  // Ids that are not one path segment are refused before anything is sent.
  last_target.clear();
  auto bad = c.account("../ledger/check");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(last_target.empty());
}

TEST_F(CorpClientTest, WellFormedAnswersDecode) {
  auto c = client();
  const auto key = KeyPair::generate();
  answer = to_json(CorpInfo{"xop-corp", "0.1.0", key.public_key().base64(), "aud"});
  auto info = c.info();
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->audience, "aud");
  answer["public_key"] = "not-a-key";
  EXPECT_FALSE(c.info());

  answer = to_json(AccountAnswer{AccountView{"a1", "user", "n", "k", 5, std::nullopt}, 100, 7});
  auto acc = c.account("a1");
  ASSERT_TRUE(acc) << acc.error().to_string();
  EXPECT_EQ(acc->balance, 100);
  EXPECT_EQ(last_target, "/v1/accounts/a1");

  answer = to_json(DepositAnswer{"t1", 42});
  auto dep = c.deposit(DepositRequest{"a1", 42, "m"});
  ASSERT_TRUE(dep) << dep.error().to_string();
  EXPECT_EQ(dep->balance, 42);

  answer = to_json(PoStatusView{"po1", "u", "s", 10, 3, 7, "open", false});
  auto po = c.purchase_order("po1");
  ASSERT_TRUE(po) << po.error().to_string();
  EXPECT_EQ(po->remaining, 7);

  answer = to_json(ClosePoAnswer{0, "closing"});
  auto closed = c.close_po("po1");
  ASSERT_TRUE(closed) << closed.error().to_string();
  EXPECT_EQ(closed->state, "closing");

  StatementView st;
  st.account = "a1";
  st.balance = 5;
  st.purchase_orders.push_back(StatementPoView{"po1", "s", 10, 3, 7, "open", {}});
  st.purchase_orders[0].records.push_back(StatementRecordView{"s1", 1, 0, 1000, {}, {}, 3, 3, false});
  st.transactions.push_back(StatementTxView{"t1", "deposit", 5, 1, ""});
  answer = to_json(st);
  auto got = c.statement("a1");
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(to_json(*got), answer);
  answer["purchase_orders"][0]["records"][0]["final"] = "no";
  auto bad = c.statement("a1");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("statement.purchase_orders[0].records[0].final"), std::string::npos)
      << bad.error().message;

  answer = to_json(LedgerCheckView{true, 1, 2, 3, 0, {}, {}, {}, {}, {}});
  auto lc = c.ledger_check();
  ASSERT_TRUE(lc) << lc.error().to_string();
  EXPECT_TRUE(lc->balanced);
}

TEST_F(CorpClientTest, EarningsAndPurchaseOrdersDecode) {
  auto c = client();
  answer = to_json(EarningsView{"a1", "a1", 0, 5, 2, {ServerEarningsView{"s1", "alpha", 5, 2, 1}}});
  auto e = c.earnings("a1");
  ASSERT_TRUE(e) << e.error().to_string();
  EXPECT_EQ(last_target, "/v1/accounts/a1/earnings");
  EXPECT_EQ(e->servers.at(0).name, "alpha");
  answer["servers"][0]["total_micros"] = "5";
  auto bad = c.earnings("a1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(bad.error().message.find("GET /v1/accounts/a1/earnings"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("earnings.servers[0].total"), std::string::npos) << bad.error().message;
  raw = std::string(CorpClient::kMaxEarningsBytes + 1, ' ');
  bad = c.earnings("a1");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("exceeds"), std::string::npos) << bad.error().message;
  raw.reset();
  EXPECT_FALSE(c.earnings("a1/../x"));

  answer = po_list_answer_json({PoStatusView{"po1", "a1", "s1", 10, 3, 7, "open", false}});
  auto pos = c.purchase_orders("a1", PoStatus::kClosing);
  ASSERT_TRUE(pos) << pos.error().to_string();
  EXPECT_EQ(last_target, "/v1/accounts/a1/purchase-orders?state=closing");
  ASSERT_EQ(pos->size(), 1u);
  EXPECT_EQ(pos->at(0).server, "s1");
  ASSERT_TRUE(c.purchase_orders("a1", std::nullopt));
  EXPECT_EQ(last_target, "/v1/accounts/a1/purchase-orders");
  answer["purchase_orders"][0]["state"] = "lost";
  auto badpos = c.purchase_orders("a1", std::nullopt);
  ASSERT_FALSE(badpos);
  EXPECT_NE(badpos.error().message.find("po_list.purchase_orders[0].state"), std::string::npos)
      << badpos.error().message;
}

// What XIS asks a corp it does not trust: the status carries meaning (404: not a server), and the
// answer is capped at kMaxRegistryAnswer bytes and decoded by proto/peer_answers.h.
TEST_F(CorpClientTest, ServerRegistrationReadsAHostileCorpUnderItsCap) {
  auto c = client();
  const auto server = KeyPair::generate();
  const std::string id = server.account_id();
  answer = Json{{"server", {{"id", id}, {"public_key", server.public_key().base64()}, {"name", "s"}}}};
  auto reg = c.server_registration(id);
  ASSERT_TRUE(reg) << reg.error().to_string();
  ASSERT_TRUE(reg->has_value());
  EXPECT_EQ((*reg)->public_key, server.public_key().base64());
  EXPECT_EQ(last_target, "/v1/servers/" + id);

  refusal = ErrorCode::kNotFound;
  reg = c.server_registration(id);
  ASSERT_TRUE(reg) << reg.error().to_string();
  EXPECT_FALSE(reg->has_value());
  refusal.reset();

  // Another server's registration, an oversized answer, a 500, garbage: kUnavailable.
  answer["server"]["id"] = KeyPair::generate().account_id();
  for (int pass = 0; pass < 4; ++pass) {
    if (pass == 1) raw = std::string(kMaxRegistryAnswer + 1, ' ');
    if (pass == 2) raw_status = 500;
    if (pass == 3) {
      raw_status = 200;
      raw = std::string(100, '[');
    }
    auto r = c.server_registration(id);
    ASSERT_FALSE(r) << pass;
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << pass;
  }
  EXPECT_FALSE(c.server_registration("../x"));
}

}  // namespace
}  // namespace xop
