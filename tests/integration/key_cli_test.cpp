// `xop key new FILE` / `xop key show FILE` (src/cli/cmd_key.cpp), run as the real binary.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/json_reader.h"
#include "crypto/keys.h"
#include "integration/run_xop.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

TEST(KeyCliTest, NewWritesAKeyFileWithMode0600) {
  testing::TempDir dir;
  const std::string file = dir.file("admin.json");
  auto run = testing::run_xop({"key", "new", file, "--for", "admin"});
  ASSERT_EQ(run.code, 0) << run.err;
  auto key = load_key_file(file);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_NE(run.out.find(key->account_id()), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(key->public_key().base64()), std::string::npos) << run.out;
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto shown = testing::run_xop({"--json", "key", "show", file});
  ASSERT_EQ(shown.code, 0) << shown.err;
  auto j = parse_json(shown.out);
  ASSERT_TRUE(j) << shown.out;
  EXPECT_EQ(j->value("account", ""), key->account_id());
}

TEST(KeyCliTest, NewRefusesToOverwriteAnExistingFile) {
  testing::TempDir dir;
  const std::string file = dir.file("server.key");
  ASSERT_EQ(testing::run_xop({"key", "new", file}).code, 0);
  const std::string before = testing::read_file(file);
  auto again = testing::run_xop({"key", "new", file});
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  EXPECT_EQ(testing::read_file(file), before) << "the first key must survive";
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++n;
  EXPECT_EQ(n, 1u) << "no temporary key left behind";
}

TEST(KeyCliTest, NewLeavesNoKeyBehindWhereItCannotWrite) {
  testing::TempDir dir;
  testing::write_file(dir.file("not-a-dir"), "x");
  auto run = testing::run_xop({"key", "new", dir.file("not-a-dir/k.json")});
  EXPECT_NE(run.code, 0);
  auto missing = testing::run_xop({"key", "new", dir.file("no/such/dir/k.json")});
  EXPECT_NE(missing.code, 0);
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::recursive_directory_iterator(dir.path())) ++n;
  EXPECT_EQ(n, 1u) << "only the file the test made";
}

}  // namespace
}  // namespace xop
