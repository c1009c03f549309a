// docs/api/server.yaml documents exactly the routes the XenoServer serves.
#include <gtest/gtest.h>

#include "server/server_api.h"
#include "support/openapi.h"

namespace xop::testing {
namespace {

TEST(ServerOpenApi, DocumentsEveryRouteAndNothingElse) {
  const auto ops = load_openapi("server");
  for (const auto& op : ops) EXPECT_TRUE(op.has_success_response) << op.method << " " << op.path;
  EXPECT_EQ(documented_routes(ops), served_routes(*make_server_api(ServerApiDeps{})));
  EXPECT_EQ(documented_access(ops), served_access(*make_server_api(ServerApiDeps{})));
}

}  // namespace
}  // namespace xop::testing
