// GET /v1/servers/{id}: the public, read-only registration check XIS relies on (docs/xis.md).
#include <gtest/gtest.h>

#include "corp/corp_fixture.h"

namespace xop::testing {
namespace {

class CorpServersRouteTest : public CorpFixture {};

TEST_F(CorpServersRouteTest, AnswersForRegisteredServersOnly) {
  register_parties();
  // Anyone may ask (unsigned). (XIS decodes this answer: tests/xis, tests/integration.)
  auto r = call(std::nullopt, "GET", "/v1/servers/" + srv_.account_id());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, (Json{{"server",
                       {{"id", srv_.account_id()},
                        {"name", "srv"},
                        {"public_key", srv_.public_key().base64()},
                        {"owner", owner_.account_id()}}}}));

  // A user account and an unknown id look the same: 404.
  for (const std::string& id : std::vector<std::string>{alice_.account_id(), KeyPair::generate().account_id()}) {
    auto u = raw(std::nullopt, "GET", "/v1/servers/" + id, "");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->status, 404) << u->body;
    EXPECT_NE(u->body.find("\"not_found\""), std::string::npos) << u->body;
    EXPECT_EQ(u->body.find(alice_.public_key().base64()), std::string::npos) << u->body;
  }
  // A malformed id is a clear 400.
  for (const std::string& id :
       std::vector<std::string>{"x", std::string(200, 'a'), "A" + srv_.account_id().substr(1)}) {
    auto m = raw(std::nullopt, "GET", "/v1/servers/" + id, "");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 400) << id << " " << m->body;
  }
}

}  // namespace
}  // namespace xop::testing
