// docs/api/corp.yaml lists exactly the routes the corp's router serves.
#include "corp/corp_service.h"
#include "support/openapi.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

TEST(CorpOpenApi, RoutesMatchTheDocument) {
  TempDir dir;
  SimulatedClock clock;
  CorpOptions o;
  o.db_path = dir.file("corp.db");
  auto corp = CorpService::open(o, KeyPair::generate(), clock);
  ASSERT_TRUE(corp) << corp.error().to_string();
  const auto ops = load_openapi("corp");
  for (const auto& op : ops) EXPECT_TRUE(op.has_success_response) << op.method << " " << op.path;
  EXPECT_EQ(served_routes(*(*corp)->router()), documented_routes(ops));
  // What the router checks before reading a body is what the document promises.
  EXPECT_EQ(served_access(*(*corp)->router()), documented_access(ops));
  // + GET /v1/servers/{id} (issue 14, for XIS), GET /v1/accounts/{id}/earnings and
  // GET /v1/accounts/{id}/purchase-orders (issue 5), POST /v1/purchase-orders/{po_id}/extend
  // (issue 12: credit control), POST /v1/payouts (issue 12)
  EXPECT_EQ(ops.size(), 15u);
}

}  // namespace
}  // namespace xop::testing
