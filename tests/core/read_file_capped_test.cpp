// read_file_capped (core/file_util.h): the whole file up to the cap, refused beyond it, read in
// chunks (files larger than one chunk, and files whose size the kernel does not report).
#include <gtest/gtest.h>

#include <string>

#include "core/file_util.h"
#include "support/test_support.h"

namespace xop {
namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

TEST(ReadFileCappedTest, ReadsUpToTheCapAndRefusesBeyond) {
  testing::TempDir dir;
  const std::string empty = dir.file("empty");
  testing::write_file(empty, "");
  auto e = read_file_capped(empty, 0);
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(*e, "");

  const std::string big = pattern(200'000);  // several chunks
  const std::string p = dir.file("big");
  testing::write_file(p, big);
  auto whole = read_file_capped(p, big.size());
  ASSERT_TRUE(whole) << whole.error().message;
  EXPECT_EQ(*whole, big);
  auto roomy = read_file_capped(p, size_t{512} << 20);
  ASSERT_TRUE(roomy);
  EXPECT_EQ(*roomy, big);
  auto over = read_file_capped(p, big.size() - 1);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kInvalidArgument);
  auto tiny = read_file_capped(p, 10);
  ASSERT_FALSE(tiny);
  EXPECT_EQ(tiny.error().code, ErrorCode::kInvalidArgument);

  auto missing = read_file_capped(dir.file("missing"), 10);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(ReadFileCappedTest, ReadsAFileWhoseSizeIsNotReported) {
  auto status = read_file_capped("/proc/self/status", 1 << 20);  // st_size 0, content non-empty
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_NE(status->find("Name:"), std::string::npos);
}

}  // namespace
}  // namespace xop
