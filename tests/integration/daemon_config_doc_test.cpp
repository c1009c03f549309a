// The three daemons take one scheme of configuration (core/config_table.h): every flag is a TOML
// key and every key a flag, defaults -> file -> flags, `--help` lists the keys, and
// docs/operating.md lists every key of the three option tables (generated from them: on failure
// this test prints the tables to paste).
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "corp/corp_config.h"
#include "integration/run_xop.h"
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

TEST(DaemonConfigDocTest, OperatingGuideDocumentsTheDefaultPorts) {
  const std::string doc = testing::read_file(std::string(XOP_SOURCE_DIR) + "/docs/operating.md");
  for (const char* row : {"| corp (`xop corp`) | `127.0.0.1:7400` |", "| XIS (`xop xis`) | `127.0.0.1:7401` |",
                          "| server (`xop server`) | `127.0.0.1:7402` |"}) {
    EXPECT_NE(doc.find(row), std::string::npos) << row;
  }
  CorpConfig corp;
  XisConfig xis;
  ServerConfigInput server;
  EXPECT_EQ(corp.listen, "127.0.0.1:7400");
  EXPECT_EQ(xis.listen, "127.0.0.1:7401");
  EXPECT_EQ(server.listen, "127.0.0.1:7402");
}

// A value of the option's type that its table accepts, in TOML and as flag text.
std::pair<std::string, std::string> sample(const ConfigOption& o) {
  switch (o.type) {
    case ConfigType::kBool:
      return {"true", "true"};
    case ConfigType::kNumber:
      return {std::to_string(o.dmin), std::to_string(o.dmin)};
    case ConfigType::kString:
      if (o.key == "listen") return {"\"127.0.0.1:0\"", "127.0.0.1:0"};
      return {"\"x\"", "x"};
    default:
      return {std::to_string(o.min), std::to_string(o.min)};
  }
}

// Every key is taken from a file and, as its flag, from the command line: the reverse of the
// flags being generated from the keys (add_daemon_flags).
void expect_every_key_in_file_and_flag(const std::function<ConfigTable()>& make) {
  const ConfigTable table = make();
  for (const auto& o : table.options()) {
    auto [toml_text, flag_text] = sample(o);
    std::string doc;
    const auto dot = o.key.find('.');
    if (dot == std::string::npos) {
      doc = o.key + " = " + toml_text + "\n";
    } else {
      doc = "[" + o.key.substr(0, dot) + "]\n" + o.key.substr(dot + 1) + " = " + toml_text + "\n";
    }
    ConfigTable from_file = make();
    auto parsed = toml::parse(doc);
    EXPECT_TRUE(from_file.apply_toml(parsed)) << from_file.where() << " key " << o.key << " from a file";
    ConfigTable from_flag = make();
    EXPECT_TRUE(from_flag.apply_flag(o.key, flag_text)) << from_flag.where() << " flag " << o.flag;
    EXPECT_EQ(o.flag, "--" + std::regex_replace(o.key, std::regex("[._]"), "-")) << o.key;
  }
}

TEST(DaemonConfigDocTest, EveryKeyIsAFlagAndEveryFlagAKey) {
  CorpConfig corp;
  XisConfig xis;
  ServerConfigInput server;
  expect_every_key_in_file_and_flag([&] { return corp_config_table(&corp); });
  expect_every_key_in_file_and_flag([&] { return xis_config_table(&xis); });
  expect_every_key_in_file_and_flag([&] { return server_config_table(&server); });
}

// `xop <daemon> --help` names every key, and every flag it lists is a key's flag (or alias).
void expect_help_lists_keys(const std::string& daemon, const ConfigTable& t) {
  auto run = testing::run_xop({daemon, "--help"});
  ASSERT_EQ(run.code, 0) << run.err;
  // Besides its keys' flags: help, the config file, the global flags every verb takes (docs/cli.md),
  // and `xop server --check` (report what the host gives the configured server, and exit).
  std::set<std::string> flags = {"--help", "--config", "--json", "--home", "--profile", "--log-level"};
  if (daemon == "server") flags.insert("--check");
  for (const auto& o : t.options()) {
    EXPECT_NE(run.out.find("[key: " + o.key + ","), std::string::npos) << daemon << " --help lacks key " << o.key;
    EXPECT_NE(run.out.find(o.flag), std::string::npos) << daemon << " --help lacks " << o.flag;
    flags.insert(o.flag);
    for (const auto& a : o.flag_aliases) flags.insert(a);
  }
  std::regex flag_re("--[a-z0-9][a-z0-9-]*");
  size_t listed = 0;
  for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), flag_re); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(flags.count(it->str())) << daemon << " --help lists " << it->str() << ", which is no config key";
    ++listed;
  }
  EXPECT_GE(listed, t.options().size()) << run.out;
}

TEST(DaemonConfigDocTest, HelpOfEachDaemonListsItsConfigKeys) {
  CorpConfig corp;
  XisConfig xis;
  ServerConfigInput server;
  expect_help_lists_keys("corp", corp_config_table(&corp));
  expect_help_lists_keys("xis", xis_config_table(&xis));
  expect_help_lists_keys("server", server_config_table(&server));
}

// defaults -> file -> flags, the same for the three daemons: a key absent everywhere keeps its
// default, the file overrides the default, an explicit flag overrides the file.
TEST(DaemonConfigDocTest, PrecedenceIsDefaultsThenFileThenFlags) {
  testing::TempDir dir;
  const std::string owner = "a" + std::string(40, '1');
  const std::string corp_file = dir.file("corp.toml");
  testing::write_file(corp_file, "data_dir = \"/d\"\nlisten = \"127.0.0.1:1\"\n");
  const std::string xis_file = dir.file("xis.toml");
  testing::write_file(xis_file, "open = true\nlisten = \"127.0.0.1:1\"\n");
  const std::string server_file = dir.file("server.toml");
  testing::write_file(server_file, "data_dir = \"/d\"\ncorp_url = \"http://127.0.0.1:1\"\nowner = \"" + owner +
                                       "\"\nlisten = \"127.0.0.1:1\"\n");
  const ConfigFlags flag = {{"listen", "127.0.0.1:2"}};

  auto corp_default = load_corp_config("", {{"data_dir", "/d"}});
  auto corp_from_file = load_corp_config(corp_file);
  auto corp_flagged = load_corp_config(corp_file, flag);
  ASSERT_TRUE(corp_default && corp_from_file && corp_flagged);
  EXPECT_EQ(corp_default->listen, "127.0.0.1:7400");
  EXPECT_EQ(corp_from_file->listen, "127.0.0.1:1");
  EXPECT_EQ(corp_flagged->listen, "127.0.0.1:2");

  auto xis_default = load_xis_config("", {{"open", "true"}});
  auto xis_from_file = load_xis_config(xis_file);
  auto xis_flagged = load_xis_config(xis_file, flag);
  ASSERT_TRUE(xis_default && xis_from_file && xis_flagged);
  EXPECT_EQ(xis_default->listen, "127.0.0.1:7401");
  EXPECT_EQ(xis_from_file->listen, "127.0.0.1:1");
  EXPECT_EQ(xis_flagged->listen, "127.0.0.1:2");

  auto server_default =
      load_server_config("", {{"data_dir", "/d"}, {"corp_url", "http://127.0.0.1:1"}, {"owner", owner}});
  auto server_from_file = load_server_config(server_file);
  auto server_flagged = load_server_config(server_file, flag);
  ASSERT_TRUE(server_default) << server_default.error().message;
  ASSERT_TRUE(server_from_file && server_flagged);
  EXPECT_EQ(server_default->listen_port, 7402);
  EXPECT_EQ(server_from_file->listen_port, 1);
  EXPECT_EQ(server_flagged->listen_port, 2);
}

}  // namespace
}  // namespace xop
