// docs/api/xis.yaml documents exactly the routes the XIS router serves.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "support/openapi.h"
#include "xis/xis_service.h"

namespace xop::testing {
namespace {

TEST(XisOpenApi, DocumentsEveryRouteAndNothingElse) {
  const auto ops = load_openapi("xis");
  for (const auto& op : ops) EXPECT_TRUE(op.has_success_response) << op.method << " " << op.path;
  SimulatedClock clock;
  XisService svc(XisOptions{}, clock);
  EXPECT_EQ(documented_routes(ops), served_routes(*svc.router()));
  EXPECT_EQ(documented_access(ops), served_access(*svc.router()));
}

}  // namespace
}  // namespace xop::testing
