// docs/operating.md lists every key of the three daemons' option tables (generated from them:
// on failure this test prints the tables to paste).
#include <gtest/gtest.h>

#include "corp/corp_config.h"
#include "server/server_config.h"
#include "support/test_support.h"
#include "xis/xis_config.h"

namespace xop {
namespace {

void expect_listed(const std::string& doc, const ConfigTable& t) {
  for (const auto& o : t.options()) {
    const std::string row = "| `" + o.key + "` | `" + o.flag + "` |";
    EXPECT_NE(doc.find(row), std::string::npos) << t.where() << " key " << o.key << " missing from docs/operating.md;"
                                                << " its table:\n"
                                                << t.markdown();
  }
}

TEST(DaemonConfigDocTest, OperatingGuideListsEveryKey) {
  const std::string doc = testing::read_file(std::string(XOP_SOURCE_DIR) + "/docs/operating.md");
  CorpConfig corp;
  XisConfig xis;
  ServerConfigInput server;
  expect_listed(doc, corp_config_table(&corp));
  expect_listed(doc, xis_config_table(&xis));
  expect_listed(doc, server_config_table(&server));
}

}  // namespace
}  // namespace xop
