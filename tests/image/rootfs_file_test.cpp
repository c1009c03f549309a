// Reading /etc/passwd and friends out of a hostile unpacked image: symlinks and ".." resolve
// inside the image root (never to the host's files), and FIFOs, directories and huge files fail.
#include "image/rootfs_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

class RootfsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ + "/etc");
    fs::create_directories(root_ + "/real");
    testing::write_file(t_.file("host-secret"), "host secret\n");
    testing::write_file(root_ + "/real/passwd", "inside\n");
  }
  Result<std::optional<std::string>> read(const std::string& path, size_t max = 1 << 20) {
    return read_file_in_root(root_, path, max);
  }
  testing::TempDir t_;
  std::string root_ = t_.file("root");
};

TEST_F(RootfsFileTest, ReadsAFileAndReportsAMissingOneAsAbsent) {
  testing::write_file(root_ + "/etc/passwd", "root:x:0:0::/:\n");
  auto r = read("/etc/passwd");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, "root:x:0:0::/:\n");
  auto missing = read("/etc/group");
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(missing->has_value());
  EXPECT_FALSE(read("etc/passwd"));  // not absolute
}

TEST_F(RootfsFileTest, AnAbsoluteSymlinkResolvesInsideTheRoot) {
  // "/etc/passwd -> <host path>": read as if chrooted, the host file is never reached.
  fs::create_symlink(t_.file("host-secret"), root_ + "/etc/passwd");
  // Resolved inside the root, where that path does not exist (or, without openat2, refused).
  auto r = read("/etc/passwd");
  EXPECT_TRUE(!r || !r->has_value()) << **r;
  fs::remove(root_ + "/etc/passwd");
  fs::create_symlink("/real/passwd", root_ + "/etc/passwd");
  auto inside = read("/etc/passwd");  // the image's own target (or, without openat2, refused)
  if (inside) {
    ASSERT_TRUE(inside->has_value());
    EXPECT_EQ(**inside, "inside\n");
  }
}

TEST_F(RootfsFileTest, DotDotAndRelativeSymlinksCannotClimbOut) {
  fs::create_symlink("../../host-secret", root_ + "/etc/passwd");
  auto r = read("/etc/passwd");
  EXPECT_TRUE(!r || !r->has_value() || **r != "host secret\n");
  auto up = read("/../host-secret");
  EXPECT_TRUE(!up || !up->has_value() || **up != "host secret\n");
  fs::remove_all(root_ + "/etc");                           // a real directory under the temp dir (holding a symlink)
  fs::create_directory_symlink(t_.path(), root_ + "/etc");  // the directory itself points out
  auto dir = read("/etc/host-secret");
  EXPECT_TRUE(!dir || !dir->has_value() || **dir != "host secret\n");
}

TEST_F(RootfsFileTest, NonRegularAndHugeFilesFail) {
  ASSERT_EQ(::mkfifo((root_ + "/etc/passwd").c_str(), 0644), 0);
  auto fifo = read("/etc/passwd");  // must not block
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().code, ErrorCode::kInvalidArgument);
  fs::create_directories(root_ + "/etc/group");
  EXPECT_FALSE(read("/etc/group"));
  testing::write_file(root_ + "/etc/big", std::string(5000, 'x'));
  auto big = read("/etc/big", 4096);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("larger than"), std::string::npos) << big.error().message;
}

}  // namespace
}  // namespace xop
