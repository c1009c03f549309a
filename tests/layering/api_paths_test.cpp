// The API's paths ("/v1/...") are spelt only by the routers that serve them and the typed
// clients that call them (src/client): every other caller goes through CorpClient, XisClient or
// ServerClient, so a path changes in one place on each side. Comments do not count.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Files (relative to src/, without extension) that may spell a path: the three routers; and
// src/client, the typed clients (every other caller, XIS asking its peers included, goes through them).
bool may_spell_paths(const std::string& rel) {
  static const std::set<std::string> kRouters = {
      "corp/corp_api",      // the corp's router
      "xis/xis_service",    // XIS's router
      "server/server_api",  // the server's router
  };
  if (rel.starts_with("client/")) return true;
  const auto stem = rel.substr(0, rel.rfind('.'));
  return kRouters.contains(stem);
}

// The string literals of `text` that begin with "/v1/", outside // and /* */ comments.
std::vector<std::string> path_literals(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 2, "//") == 0) {
      i = text.find('\n', i);
      if (i == std::string::npos) break;
    } else if (text.compare(i, 2, "/*") == 0) {
      i = text.find("*/", i + 2);
      if (i == std::string::npos) break;
      i += 2;
    } else if (text[i] == '\'') {
      i += text.compare(i, 3, "'\"'") == 0 ? 3 : 1;
    } else if (text[i] == '"') {
      std::string lit;
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) lit += text[i++];
        lit += text[i++];
      }
      ++i;
      if (lit.starts_with("/v1/")) out.push_back(lit);  // a path, not prose naming one
    } else {
      ++i;
    }
  }
  return out;
}

TEST(ApiPathsTest, ScannerFindsLiteralsAndSkipsComments) {
  EXPECT_EQ(path_literals("call(\"GET\", \"/v1/info\");").size(), 1u);
  EXPECT_TRUE(path_literals("f(\"Unsigned GET /v1/ledger/check answers\");").empty());
  EXPECT_TRUE(path_literals("// e.g. \"/v1/sessions/{id}\"\n/* \"/v1/x\" */ int x;").empty());
  EXPECT_EQ(path_literals("auto c = '\"'; f(\"/v1/usage\");").size(), 1u);
  EXPECT_TRUE(may_spell_paths("client/corp_client.cpp"));
  EXPECT_TRUE(may_spell_paths("corp/corp_api.cpp"));
  EXPECT_FALSE(may_spell_paths("cli/cmd_sessions.cpp"));
  EXPECT_FALSE(may_spell_paths("server/charging_agent.cpp"));
  EXPECT_FALSE(may_spell_paths("xis/xis_peers.cpp"));
  EXPECT_FALSE(may_spell_paths("cli/cmd_server.cpp"));
  EXPECT_FALSE(may_spell_paths("cli/session_directory.cpp"));
}

TEST(ApiPathsTest, OnlyRoutersAndTypedClientsSpellApiPaths) {
  const fs::path src = fs::path(XOP_SOURCE_DIR) / "src";
  size_t scanned = 0;
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    if (!e.is_regular_file()) continue;
    const auto ext = e.path().extension();
    if (ext != ".cpp" && ext != ".h") continue;
    const std::string rel = e.path().lexically_relative(src).generic_string();
    ++scanned;
    if (may_spell_paths(rel)) continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    for (const auto& lit : path_literals(ss.str())) {
      ADD_FAILURE() << "src/" << rel << " spells the API path \"" << lit
                    << "\": call it through CorpClient, XisClient or ServerClient (src/client)";
    }
  }
  EXPECT_GT(scanned, 50u);
}

}  // namespace
