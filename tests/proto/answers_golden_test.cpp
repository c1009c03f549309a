// Pins the wire form of every unsigned request and answer document of the three APIs: each
// encoder's output equals a JSON literal written from the API documents (docs/api/*.yaml), so a
// codec refactor that renames, adds or drops a field, or changes when an optional one is written,
// fails here. Then each literal decodes back to what was encoded.
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "fixtures.h"
#include "proto/charge.h"
#include "proto/corp_answers.h"
#include "proto/corp_requests.h"
#include "proto/search.h"
#include "proto/server_answers.h"
#include "proto/xis_answers.h"

namespace xop {
namespace {

KeyPair key_from_byte(char b) { return *KeyPair::from_seed_base64(base64_encode(std::string(32, b))); }

const std::string kAcct = "a" + std::string(40, '1');
const std::string kPo = "po" + std::string(32, '1');
const std::string kSession = "s" + std::string(32, 'b');

TEST(AnswersGoldenTest, CorpAnswers) {
  const auto corp = key_from_byte('c');
  const CorpInfo info{"xop-corp", "1.0", corp.public_key().base64(), "aud"};
  EXPECT_EQ(to_json(info), (Json{{"service", "xop-corp"},
                                 {"version", "1.0"},
                                 {"public_key", corp.public_key().base64()},
                                 {"audience", "aud"}}));
  ASSERT_TRUE(decode_corp_info(to_json(info)));

  AccountAnswer a{AccountView{kAcct, "server", "n", "pk", 5, std::string("own")}, 100, 20};
  const Json account{{"id", kAcct},        {"kind", "server"}, {"name", "n"},
                     {"public_key", "pk"}, {"created_at", 5},  {"owner", "own"}};
  EXPECT_EQ(to_json(a), (Json{{"account", account}, {"balance_micros", 100}, {"held_micros", 20}}));
  a.account.owner.reset();
  a.balance.reset();
  a.held.reset();
  Json no_owner = account;
  no_owner.erase("owner");
  EXPECT_EQ(to_json(a), (Json{{"account", no_owner}}));
  auto ad = decode_account_answer(to_json(a));
  ASSERT_TRUE(ad) << ad.error().message;
  EXPECT_FALSE(ad->balance);
  EXPECT_FALSE(ad->account.owner);

  const ServerAccountView sv{kAcct, "srv", "pk", std::string("own")};
  EXPECT_EQ(to_json(sv), (Json{{"server", {{"id", kAcct}, {"name", "srv"}, {"public_key", "pk"}, {"owner", "own"}}}}));
  auto svd = decode_server_account_answer(to_json(sv));
  ASSERT_TRUE(svd);
  EXPECT_EQ(svd->owner, "own");

  EXPECT_EQ(to_json(DepositAnswer{"tx1", 7}), (Json{{"transaction", "tx1"}, {"balance_micros", 7}}));
  ASSERT_TRUE(decode_deposit_answer(to_json(DepositAnswer{"tx1", 7})));

  const PoStatusView ps{kPo, kAcct, kAcct, 10, 3, 7, "open", true, true, 5};
  Json ps_json{{"po_id", kPo},        {"user", kAcct},         {"server", kAcct}, {"max_amount_micros", 10},
               {"charged_micros", 3}, {"remaining_micros", 7}, {"state", "open"}, {"exhausted", true},
               {"low_funds", true},   {"unpaid_micros", 5}};
  EXPECT_EQ(to_json(ps), ps_json);
  ASSERT_TRUE(decode_po_status(to_json(ps)));
  {
    // An older corp's answer has no credit-control fields: they read as false / 0.
    Json older = ps_json;
    older.erase("low_funds");
    older.erase("unpaid_micros");
    auto d = decode_po_status(older);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_FALSE(d->low_funds);
    EXPECT_EQ(d->unpaid, 0);
    Json negative = ps_json;
    negative["unpaid_micros"] = -1;
    EXPECT_FALSE(decode_po_status(negative));
  }
  const ExtendPoAnswer ext{ps, 2, 90, "tx9"};
  EXPECT_EQ(
      to_json(ext),
      (Json{{"purchase_order", ps_json}, {"arrears_paid_micros", 2}, {"balance_micros", 90}, {"transaction", "tx9"}}));
  auto extd = decode_extend_po_answer(to_json(ext));
  ASSERT_TRUE(extd) << extd.error().message;
  EXPECT_EQ(extd->purchase_order.unpaid, 5);
  EXPECT_FALSE(decode_extend_po_answer(
      Json{{"purchase_order", ps_json}, {"arrears_paid_micros", -2}, {"balance_micros", 90}, {"transaction", "tx9"}}));
  EXPECT_EQ(to_json(ClosePoAnswer{4, "closed"}), (Json{{"released_micros", 4}, {"state", "closed"}}));
  ASSERT_TRUE(decode_close_po_answer(to_json(ClosePoAnswer{4, "closed"})));

  const UsageAnswer ua{{UsageOutcomeView{kSession, kPo, 2, "charged", 9}},
                       {PoBalanceView{kPo, 1, false, true, false, true, 3}}};
  EXPECT_EQ(
      to_json(ua),
      (Json{{"results",
             Json::array({Json{
                 {"session", kSession}, {"po_id", kPo}, {"seq", 2}, {"status", "charged"}, {"charged_micros", 9}}})},
            {"purchase_orders", Json::array({Json{{"po_id", kPo},
                                                  {"remaining_micros", 1},
                                                  {"exhausted", false},
                                                  {"closed", true},
                                                  {"closing", false},
                                                  {"low_funds", true},
                                                  {"unpaid_micros", 3}}})}}));
  ASSERT_TRUE(decode_usage_answer(to_json(ua)));
  {
    auto older = decode_usage_answer(
        Json{{"results", Json::array()},
             {"purchase_orders",
              Json::array({Json{{"po_id", kPo}, {"remaining_micros", 0}, {"exhausted", true}, {"closed", false}}})}});
    ASSERT_TRUE(older) << older.error().message;
    EXPECT_FALSE(older->purchase_orders[0].closing);
    EXPECT_FALSE(older->purchase_orders[0].low_funds);
  }

  StatementRecordView rec{kSession, 1, 10, 20, Resources{1, 2, 3, 4}, Usage{5, 6, 7, 8}, 11, 12, true};
  StatementPoView spo{kPo, kAcct, 100, 12, 88, "open", {rec}};
  StatementView st{kAcct, 50, 100, 30, {spo}, {StatementTxView{"t1", "deposit", 50, 9, "memo"}}};
  const Json rec_json{{"session", kSession},
                      {"seq", 1},
                      {"period_start", 10},
                      {"period_end", 20},
                      {"reserved", to_json(Resources{1, 2, 3, 4})},
                      {"used", to_json(Usage{5, 6, 7, 8})},
                      {"amount_micros", 11},
                      {"charged_micros", 12},
                      {"final", true}};
  const Json po_json{
      {"po_id", kPo},           {"server", kAcct}, {"max_amount_micros", 100},          {"charged_micros", 12},
      {"remaining_micros", 88}, {"state", "open"}, {"records", Json::array({rec_json})}};
  const Json tx_json{{"id", "t1"}, {"kind", "deposit"}, {"amount_micros", 50}, {"at", 9}, {"memo", "memo"}};
  Json st_json{{"account", kAcct},
               {"balance_micros", 50},
               {"held_micros", 100},
               {"earnings_micros", 30},
               {"purchase_orders", Json::array({po_json})},
               {"transactions", Json::array({tx_json})}};
  EXPECT_EQ(to_json(st), st_json);
  auto std_ = decode_statement(st_json);
  ASSERT_TRUE(std_) << std_.error().message;
  EXPECT_EQ(std_->purchase_orders.at(0).records.at(0).used, (Usage{5, 6, 7, 8}));
  st.earnings.reset();
  st_json.erase("earnings_micros");
  EXPECT_EQ(to_json(st), st_json);

  LedgerCheckView lc{true, 3, 4, 5, 0, {}, {}, {}, {}, {"p"}};
  EXPECT_EQ(to_json(lc), (Json{{"balanced", true},
                               {"checked_at", 3},
                               {"transactions", 4},
                               {"entries", 5},
                               {"total_micros", 0},
                               {"problems", {"p"}}}));
  ASSERT_TRUE(decode_ledger_check(to_json(lc)));
  // The admin's answer adds the money figures.
  lc.deposited = 100;
  lc.paid_out = 10;
  lc.available = 60;
  lc.held = 30;
  const Json figures{{"balanced", true},  {"checked_at", 3},         {"transactions", 4},     {"entries", 5},
                     {"total_micros", 0}, {"deposited_micros", 100}, {"paid_out_micros", 10}, {"available_micros", 60},
                     {"held_micros", 30}, {"problems", {"p"}}};
  EXPECT_EQ(to_json(lc), figures);
  auto back = decode_ledger_check(figures);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->paid_out, 10);
  EXPECT_EQ(back->held, 30);
  // Payouts on the wire.
  const PayoutRequest pr{"a" + std::string(40, '1'), 5, "bank"};
  EXPECT_EQ(to_json(pr), (Json{{"account_id", pr.account}, {"amount_micros", 5}, {"memo", "bank"}}));
  EXPECT_EQ(to_json(PayoutAnswer{"tx1", 7}), (Json{{"transaction", "tx1"}, {"balance_micros", 7}}));
}

TEST(AnswersGoldenTest, CorpRequests) {
  EXPECT_EQ(to_json(RegisterAccountRequest{AccountKind::kServer, "n", kAcct}),
            (Json{{"kind", "server"}, {"name", "n"}, {"owner", kAcct}}));
  EXPECT_EQ(to_json(RegisterAccountRequest{AccountKind::kUser, "n", std::nullopt}),
            (Json{{"kind", "user"}, {"name", "n"}}));
  EXPECT_EQ(to_json(DepositRequest{kAcct, 5, ""}), (Json{{"account", kAcct}, {"amount_micros", 5}}));
  EXPECT_EQ(to_json(DepositRequest{kAcct, 5, "m"}), (Json{{"account", kAcct}, {"amount_micros", 5}, {"memo", "m"}}));
  const auto server = key_from_byte('s');
  const auto sheet = testing::signed_price_sheet(server);
  EXPECT_EQ(to_json(CreatePoRequest{server.account_id(), sheet, 9, std::nullopt}),
            (Json{{"server", server.account_id()}, {"price_sheet", sheet.to_json()}, {"max_amount_micros", 9}}));
  EXPECT_EQ(to_json(CreatePoRequest{server.account_id(), sheet, 9, 60}), (Json{{"server", server.account_id()},
                                                                               {"price_sheet", sheet.to_json()},
                                                                               {"max_amount_micros", 9},
                                                                               {"ttl_ms", 60}}));
  auto po = decode_create_po(to_json(CreatePoRequest{server.account_id(), sheet, 9, 60}));
  ASSERT_TRUE(po) << po.error().message;
  EXPECT_EQ(po->ttl_ms, 60);
  EXPECT_EQ(to_json(UsageRequest{sheet}), (Json{{"batch", sheet.to_json()}}));
}

TEST(AnswersGoldenTest, ServerAnswers) {
  SessionInfo s;
  s.id = kSession;
  s.user = kAcct;
  s.po_id = kPo;
  s.state = "running";
  s.reason = "r";
  s.created_at = 1;
  s.started_at = 2;
  s.stopped_at = 3;
  s.spec = Json{{"name", "x"}};
  s.records = 4;
  s.usage = Usage{5, 6, 7, 8};
  s.memory_bytes = 9;
  s.claimed = 10;
  s.exit_reason = "e";
  s.low_funds = true;
  s.frozen_until = 11;
  Json j{{"id", kSession},
         {"user", kAcct},
         {"po_id", kPo},
         {"state", "running"},
         {"reason", "r"},
         {"created_at", 1},
         {"started_at", 2},
         {"stopped_at", 3},
         {"spec", s.spec},
         {"records", 4},
         {"usage", to_json(s.usage)},
         {"memory_bytes", 9},
         {"claimed_micros", 10},
         {"exit_code", nullptr},
         {"exit_reason", "e"},
         {"low_funds", true},
         {"frozen_until", 11}};
  EXPECT_EQ(to_json(s), j);
  EXPECT_EQ(session_answer_json(s), (Json{{"session", j}}));
  s.exit_code = 3;
  j["exit_code"] = 3;
  EXPECT_EQ(to_json(s), j);
  auto d = decode_session_answer(session_answer_json(s));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->exit_code, 3);
  EXPECT_TRUE(d->low_funds);
  EXPECT_EQ(d->frozen_until, 11);
  auto list = decode_sessions_answer(Json{{"sessions", Json::array({j, j})}});
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  // An older server's session has no credit-control fields: false / 0.
  Json older = j;
  older.erase("low_funds");
  older.erase("frozen_until");
  auto od = decode_session_info(older);
  ASSERT_TRUE(od) << od.error().message;
  EXPECT_FALSE(od->low_funds);
  EXPECT_EQ(od->frozen_until, 0);
  older["frozen_until"] = -1;
  EXPECT_FALSE(decode_session_info(older));
  EXPECT_EQ(logs_answer_json("hi"), (Json{{"logs", "hi"}}));
  EXPECT_EQ(decode_logs_answer(logs_answer_json("hi")).value_or(""), "hi");
  EXPECT_EQ(to_json(BlobStored{"sha256:x", 5}), (Json{{"digest", "sha256:x"}, {"size", 5}}));
  ASSERT_TRUE(decode_blob_stored(to_json(BlobStored{"sha256:x", 5})));
}

TEST(AnswersGoldenTest, XisAnswersAndCharge) {
  EXPECT_EQ(to_json(XisInfo{"xop-xis", "1", "aud", 3}),
            (Json{{"service", "xop-xis"}, {"version", "1"}, {"audience", "aud"}, {"adverts", 3}}));
  ASSERT_TRUE(decode_xis_info(to_json(XisInfo{"xop-xis", "1", "aud", 3})));
  EXPECT_EQ(to_json(AdvertAccepted{true, 9}), (Json{{"accepted", true}, {"expires_at", 9}}));
  ASSERT_TRUE(decode_advert_accepted(to_json(AdvertAccepted{true, 9})));
  const auto server = key_from_byte('s');
  const auto advert = *SignedDoc::sign(kAdvertType, to_json(testing::sample_advert(server)), server);
  EXPECT_EQ(adverts_answer_json({advert}), (Json{{"adverts", Json::array({advert.to_json()})}}));
  ASSERT_TRUE(decode_adverts_answer(adverts_answer_json({advert})));

  SearchResult r;
  Candidate c;
  c.advert_doc = advert;
  c.advert = testing::sample_advert(server);
  c.distance_km = 1.5;
  c.price_per_hour = Money::micros(42);
  r.candidates.push_back(c);
  r.rejected.push_back(Rejection{"srv", "n", "busy"});
  const Json rj{
      {"candidates",
       Json::array({Json{{"advert", advert.to_json()}, {"distance_km", 1.5}, {"price_per_hour_micros", 42}}})},
      {"rejected", Json::array({Json{{"server", "srv"}, {"name", "n"}, {"reason", "busy"}}})}};
  EXPECT_EQ(to_json(r), rj);
  auto rd = search_result_from_json(rj);
  ASSERT_TRUE(rd) << rd.error().message;
  EXPECT_EQ(rd->candidates.at(0).advert.name, "cam-1");

  ChargeBreakdown b{1, 2, 3, 4, 5, 6, 7, 8, Money::micros(36)};
  EXPECT_EQ(to_json(b), (Json{{"cpu_reserve_micros", 1},
                              {"memory_reserve_micros", 2},
                              {"disk_reserve_micros", 3},
                              {"net_reserve_micros", 4},
                              {"cpu_use_micros", 5},
                              {"memory_use_micros", 6},
                              {"disk_io_micros", 7},
                              {"net_io_micros", 8},
                              {"total_micros", 36}}));
}

}  // namespace
}  // namespace xop
