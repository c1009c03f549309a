// End-to-end tests of XenoCorp over real HTTP on loopback with a real SQLite file.
#include <sqlite3.h>

#include "corp/corp_store.h"
#include "corp_fixture.h"
#include "proto/purchase_order.h"

namespace xop::testing {
namespace {

using CorpApi = CorpFixture;

TEST_F(CorpApi, InfoIsUnsignedAndNamesTheCorpKey) {
  auto r = call(std::nullopt, "GET", "/v1/info");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["service"], "xop-corp");
  EXPECT_EQ((*r)["version"], "0.1.0");
  EXPECT_EQ((*r)["public_key"], corp_key_.public_key().base64());
}

TEST_F(CorpApi, RegisterDepositBalance) {
  KeyPair alice = KeyPair::generate();
  auto r = call(alice, "POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "alice"}});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["account"]["id"], alice.account_id());
  EXPECT_EQ((*r)["account"]["kind"], "user");
  EXPECT_EQ((*r)["account"]["public_key"], alice.public_key().base64());
  EXPECT_FALSE((*r)["account"].contains("owner"));

  auto again = call(alice, "POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "alice"}});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);

  auto d = call(admin_, "POST", "/v1/deposits",
                Json{{"account", alice.account_id()}, {"amount_micros", 5000}, {"memo", "hi"}});
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ((*d)["balance_micros"], 5000);
  EXPECT_EQ((*d)["transaction"].get<std::string>().substr(0, 2), "tx");
  deposit(alice, 1000);

  auto mine = call(alice, "GET", "/v1/accounts/" + alice.account_id());
  ASSERT_TRUE(mine) << mine.error().to_string();
  EXPECT_EQ((*mine)["balance_micros"], 6000);
  EXPECT_EQ((*mine)["held_micros"], 0);
  expect_balanced();
}

TEST_F(CorpApi, OnlyAdminDepositsAndOthersCannotReadAccounts) {
  KeyPair alice = register_user("alice");
  KeyPair bob = register_user("bob");
  auto d = call(alice, "POST", "/v1/deposits", Json{{"account", alice.account_id()}, {"amount_micros", 5}});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kPermissionDenied);
  auto unknown =
      call(admin_, "POST", "/v1/deposits", Json{{"account", KeyPair::generate().account_id()}, {"amount_micros", 5}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto peek = call(bob, "GET", "/v1/accounts/" + alice.account_id());
  ASSERT_FALSE(peek);
  EXPECT_EQ(peek.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(balance(alice.account_id()), 0);
  expect_balanced();
}

TEST_F(CorpApi, ServerRegistrationNeedsAnExistingUserOwner) {
  KeyPair owner = register_user("owner");
  KeyPair s = KeyPair::generate();
  auto no_owner = call(s, "POST", "/v1/accounts", Json{{"kind", "server"}, {"name", "s"}});
  ASSERT_FALSE(no_owner);
  EXPECT_EQ(no_owner.error().code, ErrorCode::kInvalidArgument);
  auto unknown = call(s, "POST", "/v1/accounts",
                      Json{{"kind", "server"}, {"name", "s"}, {"owner", KeyPair::generate().account_id()}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  KeyPair srv = register_server(owner);
  KeyPair s2 = KeyPair::generate();
  auto server_owner =
      call(s2, "POST", "/v1/accounts", Json{{"kind", "server"}, {"name", "s"}, {"owner", srv.account_id()}});
  ASSERT_FALSE(server_owner);
  EXPECT_EQ(server_owner.error().code, ErrorCode::kInvalidArgument);
  // The owner may read its server's account.
  auto r = call(owner, "GET", "/v1/accounts/" + srv.account_id());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["account"]["owner"], owner.account_id());
}

TEST_F(CorpApi, AServerNamesItsOwnerOnlyWithTheOwnersSignedConsent) {
  KeyPair owner = register_user("owner");
  KeyPair mallory = register_user("mallory");
  KeyPair s = KeyPair::generate();
  auto reg = [&](const KeyPair& server, const Json& consent) {
    Json body{{"kind", "server"}, {"name", "s"}, {"owner", owner.account_id()}};
    if (!consent.is_null()) body["owner_consent"] = consent;
    return call(server, "POST", "/v1/accounts", body);
  };
  auto expect_refused = [&](const Result<Json>& r, ErrorCode code, const std::string& says) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, code) << r.error().to_string();
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  };
  // Without consent: refused, and the message says how to get one.
  expect_refused(reg(s, nullptr), ErrorCode::kPermissionDenied, "xop server consent " + s.account_id());
  // Consent signed by someone else than the owner, for another server, or naming another owner.
  expect_refused(reg(s, owner_consent_json(mallory, s)), ErrorCode::kPermissionDenied, "not signed by the owner");
  KeyPair other = KeyPair::generate();
  expect_refused(reg(s, owner_consent_json(owner, other)), ErrorCode::kPermissionDenied, "for another server");
  // A consent whose signature does not cover its body (the server id swapped in afterwards).
  Json tampered = owner_consent_json(owner, other);
  tampered["body"]["server"] = s.account_id();
  expect_refused(reg(s, tampered), ErrorCode::kInvalidArgument, "owner_consent");
  // Hostile shapes: not an object, the wrong document type, a user account carrying one.
  expect_refused(reg(s, Json("yes")), ErrorCode::kInvalidArgument, "owner_consent");
  Json wrong_type = owner_consent_json(owner, s);
  wrong_type["type"] = "price_sheet";
  expect_refused(reg(s, wrong_type), ErrorCode::kInvalidArgument, "owner_consent");
  KeyPair u = KeyPair::generate();
  expect_refused(call(u, "POST", "/v1/accounts",
                      Json{{"kind", "user"}, {"name", "u"}, {"owner_consent", owner_consent_json(owner, u)}}),
                 ErrorCode::kInvalidArgument, "owner_consent");
  // Nothing was registered by the refusals; the owner's own consent registers the server.
  auto ok = reg(s, owner_consent_json(owner, s));
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ((*ok)["account"]["owner"], owner.account_id());
}

TEST_F(CorpApi, PurchaseOrderHoldsFundsAndIsSignedByTheCorp) {
  KeyPair alice = register_user();
  KeyPair owner = register_user("owner");
  KeyPair srv = register_server(owner);
  deposit(alice, 10'000);
  auto r = create_po_raw(alice, srv, 4'000);
  ASSERT_TRUE(r) << r.error().to_string();
  auto doc = SignedDoc::from_json((*r)["purchase_order"], kPurchaseOrderType);
  ASSERT_TRUE(doc) << doc.error().to_string();
  auto po = verify_purchase_order(*doc, corp_key_.public_key());
  ASSERT_TRUE(po) << po.error().to_string();
  EXPECT_EQ(po->user, alice.account_id());
  EXPECT_EQ(po->server, srv.account_id());
  EXPECT_EQ(po->max_amount.micros(), 4'000);
  EXPECT_EQ(po->expires_at - po->issued_at, 3'600'000);
  EXPECT_TRUE(is_po_id(po->po_id));
  EXPECT_EQ(balance(alice.account_id()), 6'000);
  EXPECT_EQ(held(alice.account_id()), 4'000);

  auto st = call(srv, "GET", "/v1/purchase-orders/" + po->po_id);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ((*st)["remaining_micros"], 4'000);
  EXPECT_EQ((*st)["state"], "open");
  EXPECT_EQ((*st)["exhausted"], false);
  EXPECT_TRUE(call(owner, "GET", "/v1/purchase-orders/" + po->po_id));
  auto other = call(register_user("eve"), "GET", "/v1/purchase-orders/" + po->po_id);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kPermissionDenied);
  expect_balanced();
}

TEST_F(CorpApi, PurchaseOrderTtlIsCapped) {
  KeyPair alice = register_user();
  KeyPair srv = register_server(register_user("owner"));
  deposit(alice, 100);
  auto r = call(alice, "POST", "/v1/purchase-orders",
                Json{{"server", srv.account_id()},
                     {"price_sheet", price_sheet(srv).to_json()},
                     {"max_amount_micros", 10},
                     {"ttl_ms", INT64_MAX / 2}});
  ASSERT_TRUE(r) << r.error().to_string();
  const auto& body = (*r)["purchase_order"]["body"];
  EXPECT_EQ(body["expires_at"].get<int64_t>() - body["issued_at"].get<int64_t>(), 7LL * 24 * 3'600'000);
}

TEST_F(CorpApi, InsufficientFundsIs402AndChangesNothing) {
  KeyPair alice = register_user();
  KeyPair srv = register_server(register_user("owner"));
  deposit(alice, 999);
  auto r = create_po_raw(alice, srv, 1'000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kPaymentRequired);
  EXPECT_EQ(balance(alice.account_id()), 999);
  EXPECT_EQ(held(alice.account_id()), 0);
  auto stmt = call(alice, "GET", "/v1/statements/" + alice.account_id());
  ASSERT_TRUE(stmt);
  EXPECT_TRUE((*stmt)["purchase_orders"].empty());
  expect_balanced();
}

TEST_F(CorpApi, PurchaseOrderRefusesForeignPriceSheetsAndUnknownServers) {
  KeyPair alice = register_user();
  KeyPair owner = register_user("owner");
  KeyPair srv = register_server(owner);
  KeyPair srv2 = register_server(owner, "srv2");
  deposit(alice, 1'000);
  // srv2's sheet offered for srv.
  auto r =
      call(alice, "POST", "/v1/purchase-orders",
           Json{{"server", srv.account_id()}, {"price_sheet", price_sheet(srv2).to_json()}, {"max_amount_micros", 10}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  // A sheet whose signature does not verify.
  Json forged = price_sheet(srv).to_json();
  forged["body"]["rates"]["cpu_reserve_per_core_hour_micros"] = 1;
  auto f = call(alice, "POST", "/v1/purchase-orders",
                Json{{"server", srv.account_id()}, {"price_sheet", forged}, {"max_amount_micros", 10}});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kInvalidArgument);
  // An unregistered server.
  KeyPair ghost = KeyPair::generate();
  auto g = call(
      alice, "POST", "/v1/purchase-orders",
      Json{{"server", ghost.account_id()}, {"price_sheet", price_sheet(ghost).to_json()}, {"max_amount_micros", 10}});
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::kNotFound);
  // A server cannot buy.
  auto s = create_po_raw(srv, srv2, 1);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(balance(alice.account_id()), 1'000);
  expect_balanced();
}

class Settled : public CorpFixture {
 protected:
  void SetUp() override {
    CorpFixture::SetUp();
    if (HasFatalFailure()) return;
    register_parties();
    po_ = create_po(alice_, srv_, 10'000);
  }
  std::string po_;
  std::string s_ = session_id('a');
};

TEST_F(Settled, HappyPathChargesHoldAndCreditsOwner) {
  auto r1 = record(po_, s_, 1, 1000, 1000);
  auto r2 = record(po_, s_, 2, 1000, 1000);
  ASSERT_GT(r1.amount.micros(), 0);
  auto r = send_usage(srv_, {r1, r2});
  ASSERT_TRUE(r) << r.error().to_string();
  const int64_t total = r1.amount.micros() + r2.amount.micros();
  ASSERT_EQ((*r)["results"].size(), 2u);
  EXPECT_EQ((*r)["results"][0]["status"], "charged");
  EXPECT_EQ((*r)["results"][0]["charged_micros"], r1.amount.micros());
  EXPECT_EQ((*r)["results"][1]["seq"], 2);
  EXPECT_EQ((*r)["purchase_orders"][0]["po_id"], po_);
  EXPECT_EQ((*r)["purchase_orders"][0]["remaining_micros"], 10'000 - total);
  EXPECT_EQ((*r)["purchase_orders"][0]["exhausted"], false);
  EXPECT_EQ((*r)["purchase_orders"][0]["closed"], false);
  EXPECT_EQ(balance(owner_.account_id()), total);
  EXPECT_EQ(balance(srv_.account_id()), 0);
  EXPECT_EQ(balance(alice_.account_id()), 90'000);
  EXPECT_EQ(held(alice_.account_id()), 10'000 - total);
  expect_balanced();
}

// Issue 14, attack 5: a batch claiming more CPU than the reservation allows drained a whole hold
// at once. Now the batch is refused whole and the hold is untouched; so are records dated before
// the PO and records in the future.
TEST_F(Settled, ImpossibleUsageClaimsAreRefusedAndTheHoldIsUntouched) {
  auto good = record(po_, s_, 1, 1000, 1000);
  auto greedy = record(po_, s_, 1, 1000, 1000);
  greedy.used.cpu_ns = 64LL * 1000 * 1'000'000'000;  // 64 cores for 1 s on a 1-core reservation
  greedy.amount = compute_charge(test_rates(), greedy.reserved, greedy.used, 1000)->total;
  ASSERT_GE(greedy.amount.micros(), 10'000);  // would drain the whole hold
  auto r = send_usage(srv_, {greedy});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("ns of CPU"), std::string::npos) << r.error().message;

  auto before_po = record(po_, s_, 1, 1000, 1000);
  before_po.period_start -= 3'600'000;  // an hour before the PO was issued
  auto early = send_usage(srv_, {before_po});
  ASSERT_FALSE(early);
  EXPECT_NE(early.error().message.find("before purchase order"), std::string::npos) << early.error().message;

  auto future = record(po_, s_, 1, 1000, 1000);
  future.period_end = clock_->now_ms() + 3'600'000;
  future.amount =
      compute_charge(test_rates(), future.reserved, future.used, future.period_end - future.period_start)->total;
  auto ahead = refused_as_error(call(srv_, "POST", "/v1/usage", batch(srv_, {future})));  // sent now
  ASSERT_FALSE(ahead);
  EXPECT_NE(ahead.error().message.find("in the future"), std::string::npos) << ahead.error().message;

  auto st = call(alice_, "GET", "/v1/purchase-orders/" + po_);
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ((*st)["charged_micros"], 0);
  EXPECT_EQ((*st)["remaining_micros"], 10'000);
  EXPECT_EQ(balance(owner_.account_id()), 0);
  expect_balanced();
  // The honest record alone still settles.
  ASSERT_TRUE(send_usage(srv_, {good}));
  EXPECT_EQ(balance(owner_.account_id()), good.amount.micros());
}

TEST_F(Settled, BatchSentTwiceIsChargedOnce) {
  auto recs = std::vector<UsageRecord>{record(po_, s_, 1, 1000, 1000), record(po_, s_, 2, 2000, 1000)};
  Json body = batch(srv_, recs);
  ASSERT_TRUE(call(srv_, "POST", "/v1/usage", body));
  const int64_t earned = balance(owner_.account_id());
  auto again = call(srv_, "POST", "/v1/usage", body);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ((*again)["results"][0]["status"], "duplicate");
  EXPECT_EQ((*again)["results"][1]["status"], "duplicate");
  EXPECT_EQ((*again)["results"][1]["charged_micros"], 0);
  EXPECT_EQ(balance(owner_.account_id()), earned);
  // A batch mixing a duplicate and a new record charges only the new one.
  auto r3 = record(po_, s_, 3, 1000, 1000);
  auto mixed = send_usage(srv_, {recs[1], r3});
  ASSERT_TRUE(mixed) << mixed.error().to_string();
  EXPECT_EQ((*mixed)["results"][0]["status"], "duplicate");
  EXPECT_EQ((*mixed)["results"][1]["status"], "charged");
  EXPECT_EQ(balance(owner_.account_id()), earned + r3.amount.micros());
  // A "duplicate" that differs from what was settled is refused.
  auto altered = recs[0];
  altered.used.cpu_ns += 1;
  auto d = send_usage(srv_, {altered});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kConflict);
  expect_balanced();
}

// A record refused in a batch is refused alone: the honest one beside it is charged, the altered
// one is named with its reason, not stored, and nothing is charged for it.
TEST_F(Settled, AlteredAmountIsRefusedAloneAndChargesNothing) {
  auto good = record(po_, s_, 1, 1000, 1000);
  auto bad = record(po_, s_, 2, 1000, 1000);
  bad.amount = Money::micros(bad.amount.micros() + 1);
  const int64_t a0 = balance(alice_.account_id()), o0 = balance(owner_.account_id()), h0 = held(alice_.account_id());
  auto r = send_usage_answer(srv_, {good, bad});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["results"][0]["status"], "charged");
  EXPECT_EQ((*r)["results"][1]["status"], "refused");
  EXPECT_EQ((*r)["results"][1]["code"], "invalid_argument");
  EXPECT_EQ((*r)["results"][1]["charged_micros"], 0);
  const std::string why = (*r)["results"][1].value("reason", "");
  EXPECT_NE(why.find(s_), std::string::npos) << why;
  EXPECT_NE(why.find("seq 2"), std::string::npos) << why;
  EXPECT_FALSE((*r)["results"][0].contains("reason")) << "only refusals carry a reason";
  EXPECT_EQ(balance(alice_.account_id()), a0);
  EXPECT_EQ(balance(owner_.account_id()), o0 + good.amount.micros());
  EXPECT_EQ(held(alice_.account_id()), h0 - good.amount.micros());
  // Nothing was stored for seq 2: the honest record 2 is new and charged.
  auto ok = send_usage(srv_, {record(po_, s_, 2, 1000, 1000)});
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ((*ok)["results"][0]["status"], "charged");
  expect_balanced();
}

TEST_F(Settled, BadBatchSignatureOrWrongSignerRefused) {
  auto rec = record(po_, s_, 1, 1000, 1000);
  Json body = batch(srv_, {rec});
  body["batch"]["body"]["records"][0]["amount_micros"] = 0;  // signature no longer covers the body
  auto r = call(srv_, "POST", "/v1/usage", body);
  ASSERT_FALSE(r);
  EXPECT_GE(r.error().http_status(), 400);
  EXPECT_LT(r.error().http_status(), 500);

  // Batch signed by another registered server, sent by srv_.
  KeyPair other = register_server(owner_, "other");
  auto w = call(srv_, "POST", "/v1/usage", batch(other, {rec}));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, ErrorCode::kPermissionDenied);
  // Batch naming srv_ but signed by another key.
  auto n = call(srv_, "POST", "/v1/usage", batch(other, {rec}, srv_.account_id()));
  ASSERT_FALSE(n);
  // The other server sends its own batch for srv_'s PO.
  auto f = send_usage(other, {rec});
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kPermissionDenied);
  // A user key cannot report usage.
  auto u = send_usage(alice_, {rec});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(balance(owner_.account_id()), 0);
  EXPECT_EQ(held(alice_.account_id()), 10'000);
  expect_balanced();
}

TEST_F(Settled, SeqGapSessionSwitchAndUnknownPoRefused) {
  auto gap = send_usage(srv_, {record(po_, s_, 2, 1000, 1000)});
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(send_usage(srv_, {record(po_, s_, 1, 1000, 1000)}));
  auto gap2 = send_usage(srv_, {record(po_, s_, 3, 1000, 1000)});
  ASSERT_FALSE(gap2);
  EXPECT_EQ(gap2.error().code, ErrorCode::kConflict);
  auto other_session = send_usage(srv_, {record(po_, session_id('b'), 2, 1000, 1000)});
  ASSERT_FALSE(other_session);
  EXPECT_EQ(other_session.error().code, ErrorCode::kConflict);
  auto unknown = send_usage(srv_, {record("po" + std::string(32, '0'), s_, 1, 1000, 1000)});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  expect_balanced();
}

TEST_F(Settled, ChargeCappedAtRemainingAndExhaustionReported) {
  // Two records of 1000 millicores for 5 s cost more than the 10000 hold.
  auto big = record(po_, s_, 1, 1000, 5000);
  auto big2 = record(po_, s_, 2, 1000, 5000);
  ASSERT_GT(big.amount.micros() + big2.amount.micros(), 10'000);
  auto r = send_usage(srv_, {big, big2});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)["results"][0]["charged_micros"], big.amount.micros());
  EXPECT_EQ((*r)["results"][1]["charged_micros"], 10'000 - big.amount.micros());
  EXPECT_EQ((*r)["purchase_orders"][0]["remaining_micros"], 0);
  EXPECT_EQ((*r)["purchase_orders"][0]["exhausted"], true);
  EXPECT_EQ((*r)["purchase_orders"][0]["closed"], false);
  EXPECT_EQ(balance(owner_.account_id()), 10'000);
  EXPECT_EQ(held(alice_.account_id()), 0);
  auto more = send_usage(srv_, {record(po_, s_, 3, 1000, 5000)});
  ASSERT_TRUE(more) << more.error().to_string();
  EXPECT_EQ((*more)["results"][0]["charged_micros"], 0);
  EXPECT_EQ((*more)["purchase_orders"][0]["exhausted"], true);
  auto st = call(alice_, "GET", "/v1/purchase-orders/" + po_);
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)["charged_micros"], 10'000);
  EXPECT_EQ((*st)["exhausted"], true);
  expect_balanced();
}

TEST_F(Settled, FinalRecordReleasesTheRest) {
  auto r1 = record(po_, s_, 1, 1000, 1000);
  auto r2 = record(po_, s_, 2, 1000, 1000, /*final=*/true);
  auto r = send_usage(srv_, {r1, r2});
  ASSERT_TRUE(r) << r.error().to_string();
  const int64_t total = r1.amount.micros() + r2.amount.micros();
  EXPECT_EQ((*r)["purchase_orders"][0]["closed"], true);
  EXPECT_EQ((*r)["purchase_orders"][0]["exhausted"], true);
  EXPECT_EQ((*r)["purchase_orders"][0]["remaining_micros"], 0);
  EXPECT_EQ(balance(alice_.account_id()), 100'000 - total);
  EXPECT_EQ(held(alice_.account_id()), 0);
  EXPECT_EQ(balance(owner_.account_id()), total);
  auto after = send_usage(srv_, {record(po_, s_, 3, 1000, 1000)});
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::kConflict);
  auto close = call(alice_, "POST", "/v1/purchase-orders/" + po_ + "/close");
  ASSERT_FALSE(close);
  EXPECT_EQ(close.error().code, ErrorCode::kConflict);
  expect_balanced();
}

// Issue 14, attack 6 (the user's side): closing a PO released its whole hold at once, so a user
// could close it just before the server reported usage it had already done, and the server was
// never paid. Now the PO is "closing" (exhausted, so the server stops) and keeps its hold until the
// server's checkpoint passes the close time + the grace (expiry.h).
TEST_F(Settled, UserCloseWaitsForTheServersUsageBeforeReleasing) {
  auto r1 = record(po_, s_, 1, 1000, 1000);
  ASSERT_TRUE(send_usage(srv_, {r1}));
  auto bad = call(srv_, "POST", "/v1/purchase-orders/" + po_ + "/close");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kPermissionDenied);
  auto c = call(alice_, "POST", "/v1/purchase-orders/" + po_ + "/close");
  ASSERT_TRUE(c) << c.error().to_string();
  const TimeMs closed_at = clock_->now_ms();
  EXPECT_EQ((*c)["released_micros"], 0);
  EXPECT_EQ((*c)["state"], "closing");
  auto again = call(alice_, "POST", "/v1/purchase-orders/" + po_ + "/close");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto st = call(alice_, "GET", "/v1/purchase-orders/" + po_);
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)["state"], "closing");
  EXPECT_EQ((*st)["exhausted"], true);
  EXPECT_EQ(held(alice_.account_id()), 10'000 - r1.amount.micros());

  // The usage the server did before it learnt of the close arrives later and is paid.
  auto r2 = record(po_, s_, 2, 1000, 1000);
  auto late = send_usage(srv_, {r2});
  ASSERT_TRUE(late) << late.error().to_string();
  EXPECT_EQ((*late)["results"][0]["charged_micros"], r2.amount.micros());
  EXPECT_EQ((*late)["purchase_orders"][0]["exhausted"], true);  // the server stops the session
  EXPECT_EQ((*late)["purchase_orders"][0]["closed"], false);
  EXPECT_EQ(balance(owner_.account_id()), r1.amount.micros() + r2.amount.micros());

  // Long after, the user's requests alone release nothing: the server has not checked in.
  clock_->set_ms(closed_at + 10 * CorpOptions{}.unused_po_grace_ms);
  EXPECT_EQ(held(alice_.account_id()), 10'000 - r1.amount.micros() - r2.amount.micros());
  // Its heartbeat past the close time + grace lets the rest go back to the user.
  ASSERT_TRUE(send_usage(srv_, {}));
  EXPECT_EQ(held(alice_.account_id()), 0);
  EXPECT_EQ(balance(alice_.account_id()), 100'000 - r1.amount.micros() - r2.amount.micros());
  st = call(alice_, "GET", "/v1/purchase-orders/" + po_);
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)["state"], "closed");
  // A record after the release is accepted but charged nothing.
  auto after = send_usage(srv_, {record(po_, s_, 3, 1000, 1000)});
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_EQ((*after)["results"][0]["charged_micros"], 0);
  expect_balanced();
}

TEST_F(Settled, StatementsArePrivateAndComplete) {
  auto r1 = record(po_, s_, 1, 1000, 1000);
  auto r2 = record(po_, s_, 2, 1000, 1000, true);
  ASSERT_TRUE(send_usage(srv_, {r1, r2}));
  auto eve = register_user("eve");
  auto peek = call(eve, "GET", "/v1/statements/" + alice_.account_id());
  ASSERT_FALSE(peek);
  EXPECT_EQ(peek.error().code, ErrorCode::kPermissionDenied);
  auto owner_peek = call(owner_, "GET", "/v1/statements/" + alice_.account_id());
  ASSERT_FALSE(owner_peek);

  auto s = call(alice_, "GET", "/v1/statements/" + alice_.account_id());
  ASSERT_TRUE(s) << s.error().to_string();
  const int64_t total = r1.amount.micros() + r2.amount.micros();
  EXPECT_EQ((*s)["account"], alice_.account_id());
  EXPECT_EQ((*s)["balance_micros"], 100'000 - total);
  EXPECT_EQ((*s)["held_micros"], 0);
  EXPECT_FALSE(s->contains("earnings_micros"));
  ASSERT_EQ((*s)["purchase_orders"].size(), 1u);
  const auto& po = (*s)["purchase_orders"][0];
  EXPECT_EQ(po["po_id"], po_);
  EXPECT_EQ(po["charged_micros"], total);
  EXPECT_EQ(po["state"], "closed");
  ASSERT_EQ(po["records"].size(), 2u);
  EXPECT_EQ(po["records"][1]["final"], true);
  EXPECT_EQ(po["records"][0]["amount_micros"], r1.amount.micros());
  EXPECT_EQ(po["records"][0]["charged_micros"], r1.amount.micros());
  EXPECT_EQ(po["records"][0]["reserved"]["cpu_millis"], 1000);
  // deposit, hold, release: the transactions touching alice's balance.
  ASSERT_EQ((*s)["transactions"].size(), 3u);
  EXPECT_EQ((*s)["transactions"][0]["kind"], "deposit");
  EXPECT_EQ((*s)["transactions"][1]["kind"], "hold");
  EXPECT_EQ((*s)["transactions"][1]["amount_micros"], -10'000);
  EXPECT_EQ((*s)["transactions"][2]["kind"], "release");
  EXPECT_EQ((*s)["transactions"][2]["amount_micros"], 10'000 - total);

  auto o = call(owner_, "GET", "/v1/statements/" + owner_.account_id());
  ASSERT_TRUE(o) << o.error().to_string();
  EXPECT_EQ((*o)["earnings_micros"], total);
  EXPECT_EQ((*o)["balance_micros"], total);
  auto sv = call(srv_, "GET", "/v1/statements/" + srv_.account_id());
  ASSERT_TRUE(sv) << sv.error().to_string();
  ASSERT_EQ((*sv)["purchase_orders"].size(), 1u);
  EXPECT_EQ((*sv)["purchase_orders"][0]["records"].size(), 2u);
  expect_balanced();
}

TEST_F(Settled, LedgerCheckOverHttp) {
  ASSERT_TRUE(send_usage(srv_, {record(po_, s_, 1, 1000, 1000)}));
  auto c = call(std::nullopt, "GET", "/v1/ledger/check");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ((*c)["balanced"], true);
  EXPECT_EQ((*c)["total_micros"], 0);
  EXPECT_EQ((*c)["transactions"], 3);  // deposit, hold, settlement
  EXPECT_EQ((*c)["entries"], 6);
  EXPECT_TRUE((*c)["problems"].empty());
}

TEST_F(Settled, CorruptedBalanceRowIsReported) {
  ASSERT_TRUE(send_usage(srv_, {record(po_, s_, 1, 1000, 1000)}));
  expect_balanced();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("corp.db").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "UPDATE ledger_accounts SET balance = balance + 1 WHERE name = 'user:" + alice_.account_id() + "'";
    char* e = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &e), SQLITE_OK) << (e ? e : "");
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }
  auto c = corp_->check_ledger();
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->balanced);
  EXPECT_EQ(c->total, 1);
  bool named = false;
  for (const auto& p : c->problems) named = named || p.find("user:" + alice_.account_id()) != std::string::npos;
  EXPECT_TRUE(named) << to_json(*c).dump();
  // Over HTTP: anyone sees it is unbalanced, only the admin sees the details.
  auto anon = call(std::nullopt, "GET", "/v1/ledger/check");
  ASSERT_TRUE(anon);
  EXPECT_EQ((*anon)["balanced"], false);
  EXPECT_EQ((*anon)["problems"][0].get<std::string>().find(alice_.account_id()), std::string::npos);
  auto admin = call(admin_, "GET", "/v1/ledger/check");
  ASSERT_TRUE(admin);
  EXPECT_EQ((*admin)["problems"], to_json(*c)["problems"]);
}

TEST_F(Settled, CorruptedEntryIsReported) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("corp.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE entries SET amount = amount - 5 WHERE seq = 1", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto c = corp_->check_ledger();
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->balanced);
  EXPECT_GE(c->problems.size(), 2u);  // the transaction does not balance; the balance differs
}

TEST_F(Settled, StateSurvivesReopen) {
  auto r1 = record(po_, s_, 1, 1000, 1000);
  ASSERT_TRUE(send_usage(srv_, {r1}));
  server_->stop();
  server_.reset();
  corp_.reset();
  CorpOptions o;
  o.db_path = dir_.file("corp.db");
  o.admin_key = admin_.public_key();
  auto svc = CorpService::open(o, corp_key_, *clock_);
  ASSERT_TRUE(svc) << svc.error().to_string();
  corp_ = std::move(*svc);
  server_ = std::make_unique<HttpServer>(HttpServerOptions{}, corp_->router());
  ASSERT_TRUE(server_->start());
  ep_ = *parse_endpoint(server_->url());
  EXPECT_EQ(balance(owner_.account_id()), r1.amount.micros());
  auto dup = send_usage(srv_, {r1});
  ASSERT_TRUE(dup);
  EXPECT_EQ((*dup)["results"][0]["status"], "duplicate");
  expect_balanced();
}

}  // namespace
}  // namespace xop::testing

namespace xop::testing {
namespace {
// GET /v1/accounts/{id}/purchase-orders: the account's own POs, filtered by state; private.
TEST_F(Settled, AccountPurchaseOrdersArePrivateAndFilteredByState) {
  auto open = call(alice_, "GET", "/v1/accounts/" + alice_.account_id() + "/purchase-orders?state=open");
  ASSERT_TRUE(open) << open.error().to_string();
  ASSERT_EQ((*open)["purchase_orders"].size(), 1u);
  EXPECT_EQ((*open)["purchase_orders"][0]["po_id"], po_);
  EXPECT_EQ((*open)["purchase_orders"][0]["state"], "open");
  auto closed = call(alice_, "GET", "/v1/accounts/" + alice_.account_id() + "/purchase-orders?state=closed");
  ASSERT_TRUE(closed);
  EXPECT_TRUE((*closed)["purchase_orders"].empty());
  auto all = call(alice_, "GET", "/v1/accounts/" + alice_.account_id() + "/purchase-orders");
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)["purchase_orders"].size(), 1u);
  auto bad = call(alice_, "GET", "/v1/accounts/" + alice_.account_id() + "/purchase-orders?state=bogus");
  EXPECT_FALSE(bad);
  auto eve = register_user("eve");
  auto peek = call(eve, "GET", "/v1/accounts/" + alice_.account_id() + "/purchase-orders");
  ASSERT_FALSE(peek);
  EXPECT_EQ(peek.error().code, ErrorCode::kPermissionDenied);
  auto owner_peek = call(owner_, "GET", "/v1/accounts/" + alice_.account_id() + "/purchase-orders");
  EXPECT_FALSE(owner_peek);
}
}  // namespace
}  // namespace xop::testing
