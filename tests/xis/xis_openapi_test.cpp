// docs/api/xis.yaml documents exactly the routes the XIS router serves.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "core/clock.h"
#include "xis/xis_service.h"

namespace xop {
namespace {

TEST(XisOpenApi, DocumentsEveryRouteAndNothingElse) {
  const YAML::Node doc = YAML::LoadFile(std::string(XOP_SOURCE_DIR) + "/docs/api/xis.yaml");
  ASSERT_EQ(doc["openapi"].as<std::string>().rfind("3.0", 0), 0u);
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
      documented.emplace(method, path.first.as<std::string>());
      EXPECT_TRUE(op.second["responses"]["200"]) << method << " " << path.first.as<std::string>();
    }
  }
  SimulatedClock clock;
  XisService svc(XisOptions{}, clock);
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : svc.router()->routes()) served.emplace(r.method, r.pattern);
  EXPECT_EQ(documented, served);
}

}  // namespace
}  // namespace xop
