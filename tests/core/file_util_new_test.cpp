// write_file_new (core/file_util.h): never replaces a file, leaves nothing behind on failure.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/file_util.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

size_t entries(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(WriteFileNewTest, WritesWithTheModeGiven) {
  testing::TempDir dir;
  const std::string p = dir.file("k");
  ASSERT_TRUE(write_file_new(p, "secret\n", 0600));
  EXPECT_EQ(testing::read_file(p), "secret\n");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(entries(dir.path()), 1u) << "no temporary file left";
}

TEST(WriteFileNewTest, RefusesAnExistingFileAndLeavesItAlone) {
  testing::TempDir dir;
  const std::string p = dir.file("k");
  testing::write_file(p, "old");
  auto s = write_file_new(p, "new", 0600);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(testing::read_file(p), "old");
  EXPECT_EQ(entries(dir.path()), 1u) << "no temporary file left";
}

TEST(WriteFileNewTest, FailsCleanlyWhereNothingCanBeWritten) {
  testing::TempDir dir;
  testing::write_file(dir.file("file"), "x");
  EXPECT_FALSE(write_file_new(dir.file("missing/k"), "new", 0600));
  EXPECT_FALSE(write_file_new(dir.file("file/k"), "new", 0600));
  if (::geteuid() != 0) {  // root ignores directory permissions
    fs::create_directory(dir.file("ro"));
    fs::permissions(dir.file("ro"), fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_FALSE(write_file_new(dir.file("ro/k"), "new", 0600));
    EXPECT_EQ(entries(dir.file("ro")), 0u);
    fs::permissions(dir.file("ro"), fs::perms::owner_all);
  }
  EXPECT_EQ(entries(dir.path()), 1u);
}

}  // namespace
}  // namespace xop
