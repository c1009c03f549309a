// docs/api/corp.yaml lists exactly the routes the corp's router serves.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "corp/corp_service.h"
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
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : (*corp)->router()->routes()) {
    std::string m = r.method;
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    served.emplace(r.pattern, m);
  }
  YAML::Node doc = YAML::LoadFile(std::string(XOP_SOURCE_DIR) + "/docs/api/corp.yaml");
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& p : doc["paths"]) {
    for (const auto& m : p.second) documented.emplace(p.first.as<std::string>(), m.first.as<std::string>());
  }
  EXPECT_EQ(served, documented);
  EXPECT_EQ(served.size(), 10u);
}

}  // namespace
}  // namespace xop::testing
