// The request-body decoders: strict about fields, types, ranges and ids.
#include "proto/corp_requests.h"

#include <gtest/gtest.h>

#include "proto/price_sheet.h"
#include "proto/usage_record.h"
#include "support/builders.h"

namespace xop {
namespace {

const std::string kId = KeyPair::generate().account_id();

TEST(CorpRequests, RegisterAccount) {
  auto u = decode_register_account(Json{{"kind", "user"}, {"name", "alice"}});
  ASSERT_TRUE(u) << u.error().to_string();
  EXPECT_EQ(u->kind, AccountKind::kUser);
  EXPECT_FALSE(u->owner);
  auto s = decode_register_account(Json{{"kind", "server"}, {"name", "s"}, {"owner", kId}});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, AccountKind::kServer);
  EXPECT_EQ(*s->owner, kId);
  EXPECT_EQ(to_json(*s)["kind"], "server");  // the wire form is the enum's name
  // An unknown kind is refused, naming the field and the names allowed.
  auto admin = decode_register_account(Json{{"kind", "admin"}, {"name", "x"}});
  ASSERT_FALSE(admin);
  EXPECT_EQ(admin.error().message, "account.kind: must be \"user\" or \"server\"");
  EXPECT_FALSE(decode_register_account(Json{{"kind", "User"}, {"name", "x"}}));
  EXPECT_FALSE(decode_register_account(Json{{"kind", std::string(17, 'u')}, {"name", "x"}}));
  for (const Json& bad :
       {Json{{"kind", "admin"}, {"name", "x"}}, Json{{"kind", "user"}, {"name", ""}},
        Json{{"kind", "user"}, {"name", std::string(65, 'x')}}, Json{{"kind", "user"}, {"name", "a\nb"}},
        Json{{"kind", "user"}, {"name", "x"}, {"owner", kId}}, Json{{"kind", "server"}, {"name", "x"}},
        Json{{"kind", "server"}, {"name", "x"}, {"owner", "bob"}}, Json{{"kind", "user"}, {"name", "x"}, {"extra", 1}},
        Json{{"kind", 1}, {"name", "x"}}, Json::array(), Json("user"), Json(nullptr)}) {
    auto r = decode_register_account(bad);
    ASSERT_FALSE(r) << bad.dump();
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad.dump();
  }
}

TEST(CorpRequests, Deposit) {
  auto d = decode_deposit(Json{{"account", kId}, {"amount_micros", 10}});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->amount, 10);
  EXPECT_EQ(d->memo, "");
  for (const Json& bad :
       {Json{{"account", kId}, {"amount_micros", 0}}, Json{{"account", kId}, {"amount_micros", -5}},
        Json{{"account", kId}, {"amount_micros", 1.5}}, Json{{"account", kId}, {"amount_micros", "10"}},
        Json{{"account", kId}, {"amount_micros", 18446744073709551615ULL}},
        Json{{"account", "x"}, {"amount_micros", 1}}, Json{{"account", kId}},
        Json{{"account", kId}, {"amount_micros", 1}, {"memo", std::string(257, 'm')}},
        Json{{"account", kId}, {"amount_micros", 1}, {"memo", 5}}}) {
    EXPECT_FALSE(decode_deposit(bad)) << bad.dump();
  }
}

TEST(CorpRequests, CreatePurchaseOrder) {
  KeyPair srv = KeyPair::generate();
  const auto sheet = testing::signed_price_sheet(srv, 1, Rates{});
  Json ok{{"server", srv.account_id()}, {"price_sheet", sheet.to_json()}, {"max_amount_micros", 100}};
  auto r = decode_create_po(ok);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->ttl_ms);
  Json with_ttl = ok;
  with_ttl["ttl_ms"] = 5;
  EXPECT_EQ(*decode_create_po(with_ttl)->ttl_ms, 5);
  Json tampered = ok;
  tampered["price_sheet"]["body"]["issued_at"] = 2;
  EXPECT_FALSE(decode_create_po(tampered));
  Json wrong_type = ok;
  wrong_type["price_sheet"]["type"] = "advert";
  EXPECT_FALSE(decode_create_po(wrong_type));
  for (const char* k : {"ttl_ms", "max_amount_micros"}) {
    Json z = ok;
    z[k] = 0;
    EXPECT_FALSE(decode_create_po(z)) << k;
  }
  Json extra = ok;
  extra["discount"] = true;
  EXPECT_FALSE(decode_create_po(extra));
}

TEST(CorpRequests, Usage) {
  KeyPair srv = KeyPair::generate();
  UsageBatch b{srv.account_id(), 1, {}};
  auto doc = SignedDoc::sign(kUsageBatchType, to_json(b), srv);
  ASSERT_TRUE(doc);
  auto r = decode_usage(Json{{"batch", doc->to_json()}});
  ASSERT_TRUE(r) << r.error().to_string();    // contents are checked later by verify_usage_batch
  EXPECT_TRUE(verify_usage_batch(r->batch));  // an empty batch is a heartbeat (expiry.h)
  auto forged = SignedDoc::sign(kUsageBatchType, to_json(b), KeyPair::generate());
  EXPECT_FALSE(verify_usage_batch(*forged));  // signed by a key other than the batch's server
  Json bad = doc->to_json();
  bad["signature"] = std::string(88, 'A');
  EXPECT_FALSE(decode_usage(Json{{"batch", bad}}));
  EXPECT_FALSE(decode_usage(Json{{"batch", doc->to_json()}, {"x", 1}}));
  EXPECT_FALSE(decode_usage(Json{{"batch", "no"}}));
  EXPECT_FALSE(decode_usage(Json::object()));
}

}  // namespace
}  // namespace xop
