// docs/api/server.yaml documents exactly the routes the XenoServer serves.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "server/server_api.h"

namespace xop {
namespace {

TEST(ServerOpenApi, DocumentsEveryRouteAndNothingElse) {
  const YAML::Node doc = YAML::LoadFile(std::string(XOP_SOURCE_DIR) + "/docs/api/server.yaml");
  ASSERT_EQ(doc["openapi"].as<std::string>().rfind("3.0", 0), 0u);
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters") continue;
      std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
      documented.emplace(method, path.first.as<std::string>());
      bool has_2xx = false;
      for (const auto& resp : op.second["responses"]) has_2xx = has_2xx || resp.first.as<std::string>()[0] == '2';
      EXPECT_TRUE(has_2xx) << method << " " << path.first.as<std::string>();
    }
  }
  auto router = make_server_api(ServerApiDeps{});
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : router->routes()) served.emplace(r.method, r.pattern);
  EXPECT_EQ(documented, served);
}

}  // namespace
}  // namespace xop
