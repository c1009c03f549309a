// GET /v1/accounts/{id}/earnings: what an owner's servers earned (docs/api/corp.yaml), over HTTP.
#include <gtest/gtest.h>

#include "corp/corp_fixture.h"

namespace xop::testing {
namespace {

class CorpEarningsRouteTest : public CorpFixture {};

TEST_F(CorpEarningsRouteTest, OwnerAndServerReadEarningsStrangersDoNot) {
  register_parties();
  const std::string po = create_po(alice_, srv_, 10'000);
  ASSERT_FALSE(po.empty());
  auto sent = send_usage(srv_, {record(po, session_id('a'), 1, 1'000, 1'000)});
  ASSERT_TRUE(sent) << sent.error().to_string();
  const int64_t earned = balance(owner_.account_id());
  ASSERT_GT(earned, 0);

  auto mine = call(owner_, "GET", "/v1/accounts/" + owner_.account_id() + "/earnings");
  ASSERT_TRUE(mine) << mine.error().to_string();
  EXPECT_EQ((*mine)["owner"], owner_.account_id());
  EXPECT_EQ((*mine)["total_micros"], earned);
  EXPECT_EQ((*mine)["today_micros"], earned);
  ASSERT_EQ((*mine)["servers"].size(), 1u);
  EXPECT_EQ((*mine)["servers"][0]["server"], srv_.account_id());
  EXPECT_EQ((*mine)["servers"][0]["name"], "srv");
  EXPECT_EQ((*mine)["servers"][0]["settlements"], 1);

  auto own = call(srv_, "GET", "/v1/accounts/" + srv_.account_id() + "/earnings");
  ASSERT_TRUE(own) << own.error().to_string();
  EXPECT_EQ((*own)["total_micros"], earned);

  // A stranger (signed) gets 403 for the owner, the server and an unknown id alike, and the
  // answer names no amount; unsigned requests are 401.
  const std::string unknown = KeyPair::generate().account_id();
  for (const std::string& id : {owner_.account_id(), srv_.account_id(), unknown}) {
    auto denied = raw(alice_, "GET", "/v1/accounts/" + id + "/earnings", "");
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->status, 403) << id << " " << denied->body;
    EXPECT_EQ(denied->body.find(std::to_string(earned)), std::string::npos) << denied->body;
    auto anonymous = raw(std::nullopt, "GET", "/v1/accounts/" + id + "/earnings", "");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  }
}

}  // namespace
}  // namespace xop::testing
