// The floors of src/ (docs/architecture.md, "Floors and seams"), checked on every include, and
// the purity of the deterministic cores, checked token by token. The rules are data: adding a
// directory or a pure core means adding a line below, and the checker's own tests show that each
// rule can fail.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// A directory of src/ and its floor. A file may include its own directory and any directory on a
// strictly lower floor; directories sharing a floor are siblings and never include each other.
const std::map<std::string, int>& floors() {
  static const std::map<std::string, int> kFloors = {
      {"core", 0}, {"crypto", 1}, {"storage", 1}, {"coord", 1},  {"proto", 2}, {"image", 2}, {"net", 3}, {"client", 4},
      {"corp", 5}, {"xis", 5},    {"server", 5},  {"deploy", 6}, {"sim", 7},   {"cli", 8},   {"", 9},  // src/main.cpp
  };
  return kFloors;
}

// The deterministic cores: no clock, file system, randomness, environment or network, so they
// are replayable and testable on fakes. Paths relative to src/, without extension (.h and .cpp).
const std::vector<std::string>& pure_cores() {
  static const std::vector<std::string> kCores = {
      "corp/ledger",      "corp/ledger_check", "corp/settlement",       "corp/expiry",
      "corp/tx_kind",     "proto/charge",      "proto/idempotency_key", "xis/ranking",
      "server/meter",     "core/money",        "core/int128",           "core/time",
      "core/log_backoff", "coord/coordinate",  "coord/seeded_rng",      "coord/latency_filter",
      "coord/vivaldi",    "coord/rtt_csv",     "coord/rtt_matrix",      "server/address_pool",
  };
  return kCores;
}

// What a pure core may not name: includes and tokens that read the clock, touch files, draw
// random numbers, read the environment or reach the network.
const std::vector<std::string>& impure_includes() {
  static const std::vector<std::string> kIncludes = {
      "core/clock.h", "core/file_util.h", "core/log.h", "<fstream>", "<filesystem>", "<random>",
      "<cstdio>",     "<ctime>",          "<unistd.h>", "<fcntl.h>", "storage/",     "net/",
  };
  return kIncludes;
}
const std::vector<std::string>& impure_tokens() {
  static const std::vector<std::string> kTokens = {
      "system_clock",  "steady_clock",    "high_resolution_clock",
      "SystemClock",   "Clock&",          "now_ms(",
      "gettimeofday",  "clock_gettime",   "time(nullptr)",
      "std::time(",    "fopen(",          "ifstream",
      "ofstream",      "std::filesystem", "rand(",
      "random_device", "mt19937",         "randombytes",
      "getenv(",       "sleep_for",
  };
  return kTokens;
}

struct Violation {
  std::string file;
  int line = 0;
  std::string what;
};

std::string top_dir(const std::string& rel) {
  const auto slash = rel.find('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

bool is_pure_core(const std::string& rel) {
  const auto dot = rel.rfind('.');
  const std::string stem = dot == std::string::npos ? rel : rel.substr(0, dot);
  for (const auto& core : pure_cores()) {
    if (stem == core) return true;
  }
  return false;
}

// Strips // comments and string literals' contents so that prose and messages never trip a rule.
std::string code_only(const std::string& line) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (!in_string && c == '/' && i + 1 < line.size() && line[i + 1] == '/') break;
    if (c == '"' && (i == 0 || line[i - 1] != '\\')) in_string = !in_string;
    if (!in_string || c == '"') out.push_back(c);
  }
  return out;
}

// Checks one file's text; `rel` is its path below src/ ("corp/ledger.cpp", "main.cpp").
std::vector<Violation> check_file(const std::string& rel, const std::string& text) {
  std::vector<Violation> out;
  const std::string dir = top_dir(rel);
  const auto own = floors().find(dir);
  if (own == floors().end()) {
    out.push_back(
        {rel, 0, "directory src/" + dir + " has no floor (add it to the layering test and docs/architecture.md)"});
    return out;
  }
  const bool pure = is_pure_core(rel);
  static const std::regex kInclude(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  std::istringstream in(text);
  std::string line;
  bool in_block_comment = false;
  for (int n = 1; std::getline(in, line); ++n) {
    if (in_block_comment) {
      const auto end = line.find("*/");
      if (end == std::string::npos) continue;
      line = line.substr(end + 2);
      in_block_comment = false;
    }
    if (const auto start = line.find("/*"); start != std::string::npos && line.find("*/", start) == std::string::npos) {
      line = line.substr(0, start);
      in_block_comment = true;
    }
    std::smatch m;
    if (std::regex_search(line, m, kInclude)) {
      const bool quoted = m[1] == "\"";
      const std::string target = m[2];
      if (quoted) {
        const std::string to = top_dir(target);
        const auto floor = floors().find(to);
        if (to.empty() || floor == floors().end()) {
          out.push_back({rel, n, "includes \"" + target + "\", which is not below a known src/ directory"});
        } else if (to != dir && floor->second >= own->second) {
          out.push_back({rel, n,
                         "src/" + dir + " (floor " + std::to_string(own->second) + ") includes \"" + target +
                             "\" (floor " + std::to_string(floor->second) + ")"});
        }
      }
      if (pure) {
        const std::string spelled = quoted ? target : "<" + target + ">";
        for (const auto& bad : impure_includes()) {
          if (spelled.rfind(bad, 0) == 0) out.push_back({rel, n, "pure core includes " + spelled});
        }
      }
      continue;
    }
    if (pure) {
      const std::string code = code_only(line);
      for (const auto& bad : impure_tokens()) {
        if (code.find(bad) != std::string::npos) out.push_back({rel, n, "pure core uses " + bad});
      }
    }
  }
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string describe(const std::vector<Violation>& vs) {
  std::string out;
  for (const auto& v : vs) out += "src/" + v.file + ":" + std::to_string(v.line) + ": " + v.what + "\n";
  return out;
}

TEST(LayeringTest, EveryIncludeInSrcStaysOnItsFloorOrBelow) {
  const fs::path src = fs::path(XOP_SOURCE_DIR) / "src";
  ASSERT_TRUE(fs::is_directory(src)) << src;
  std::vector<Violation> all;
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    const auto ext = e.path().extension();
    if (!e.is_regular_file() || (ext != ".h" && ext != ".cpp")) continue;
    const std::string rel = fs::relative(e.path(), src).generic_string();
    auto vs = check_file(rel, read_all(e.path()));
    all.insert(all.end(), vs.begin(), vs.end());
    ++files;
  }
  EXPECT_GT(files, 100) << "the walk found too few sources: wrong XOP_SOURCE_DIR?";
  EXPECT_TRUE(all.empty()) << describe(all);
}

TEST(LayeringTest, EveryPureCoreExists) {
  const fs::path src = fs::path(XOP_SOURCE_DIR) / "src";
  for (const auto& core : pure_cores()) {
    EXPECT_TRUE(fs::exists(src / (core + ".h")) || fs::exists(src / (core + ".cpp")))
        << core << " is listed as a pure core but is gone: update the list";
  }
}

TEST(LayeringTest, EveryLibraryDirectoryHasAFloor) {
  const fs::path src = fs::path(XOP_SOURCE_DIR) / "src";
  for (const auto& e : fs::directory_iterator(src)) {
    if (!e.is_directory()) continue;
    EXPECT_TRUE(floors().count(e.path().filename().string())) << e.path() << " has no floor";
  }
}

// The checker itself: each rule fires on a planted violation and stays quiet on the legal form.
TEST(LayeringCheckerTest, RefusesAnIncludeThatClimbsAFloor) {
  const auto vs = check_file("corp/ledger.h", "#include \"cli/output.h\"\n");
  ASSERT_EQ(vs.size(), 1u) << describe(vs);
  EXPECT_NE(vs[0].what.find("floor 5"), std::string::npos) << describe(vs);
}

TEST(LayeringCheckerTest, RefusesASiblingInclude) {
  EXPECT_EQ(check_file("server/advertiser.cpp", "#include \"xis/ranking.h\"\n").size(), 1u);
  EXPECT_EQ(check_file("proto/advert.cpp", "#include \"image/oci_image.h\"\n").size(), 1u);
  // Wire documents sit below the transport: proto never reaches for net.
  EXPECT_EQ(check_file("proto/advert.cpp", "  #  include \"net/http.h\"\n").size(), 1u);
}

TEST(LayeringCheckerTest, AllowsOwnDirectoryAndLowerFloors) {
  EXPECT_TRUE(
      check_file(
          "server/xeno_server.cpp",
          "#include \"server/meter.h\"\n#include \"client/api_client.h\"\n#include \"core/log.h\"\n#include <vector>\n")
          .empty());
  EXPECT_TRUE(check_file("main.cpp", "#include \"cli/cli.h\"\n").empty());
}

TEST(LayeringCheckerTest, RefusesUnknownDirectories) {
  EXPECT_EQ(check_file("web/page.cpp", "").size(), 1u);
  EXPECT_EQ(check_file("core/x.cpp", "#include \"nowhere.h\"\n").size(), 1u);
}

TEST(LayeringCheckerTest, RefusesClockFilesAndRandomnessInPureCores) {
  EXPECT_EQ(check_file("corp/settlement.cpp", "#include \"core/clock.h\"\n").size(), 1u);
  EXPECT_EQ(check_file("xis/ranking.cpp", "#include <random>\n").size(), 1u);
  EXPECT_EQ(check_file("proto/charge.cpp", "  auto t = std::chrono::system_clock::now();\n").size(), 1u);
  EXPECT_EQ(check_file("server/meter.cpp", "  std::ifstream f(path);\n").size(), 1u);
  EXPECT_EQ(check_file("corp/expiry.cpp", "  int r = rand();\n").size(), 1u);
  // The same calls outside a pure core are the seams' business, not a violation.
  EXPECT_TRUE(check_file("server/xeno_server.cpp", "#include <random>\n  int r = rand();\n").empty());
}

TEST(LayeringCheckerTest, IgnoresCommentsAndStrings) {
  EXPECT_TRUE(check_file("corp/ledger.cpp", "// never call system_clock here\n").empty());
  EXPECT_TRUE(check_file("corp/ledger.cpp", "  return invalid(\"no rand() please\");\n").empty());
  EXPECT_TRUE(check_file("corp/ledger.cpp", "/* a block\n#include \"cli/cli.h\"\n */\n").empty());
}

}  // namespace
