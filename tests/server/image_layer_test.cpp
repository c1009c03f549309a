#include "server/image_layer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "server/tar_builder.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;
using testing::TarBuilder;
using testing::TempDir;

// Unpacks `tar` into a fresh directory; returns its status.
struct Unpacked {
  TempDir t;
  std::string dest;
  Status status;
};

std::unique_ptr<Unpacked> unpack(const std::string& tar, bool lowest = true, LayerLimits limits = {},
                                 LayerCompression c = LayerCompression::kNone) {
  auto u = std::make_unique<Unpacked>();
  testing::write_file(u->t.file("layer.tar"), tar);
  u->dest = u->t.file("out");
  fs::create_directories(u->dest);
  u->status = unpack_layer(u->t.file("layer.tar"), c, u->dest, lowest, limits);
  return u;
}

TEST(ImageLayerTest, UnpacksFilesDirsLinksAndStripsSetuid) {
  auto u = unpack(TarBuilder(true)
                      .dir("./bin")
                      .file("./bin/busybox", "BB", 04755)
                      .symlink("./bin/sh", "busybox")
                      .symlink("./bin/abs", "/bin/busybox")
                      .hardlink("./bin/hard", "./bin/busybox")
                      .file("etc/passwd", "root")
                      .build(),
                  true, {}, LayerCompression::kGzip);
  ASSERT_TRUE(u->status) << u->status.error().message;
  EXPECT_EQ(testing::read_file(u->dest + "/bin/busybox"), "BB");
  EXPECT_EQ(testing::read_file(u->dest + "/bin/hard"), "BB");
  EXPECT_EQ(fs::read_symlink(u->dest + "/bin/sh"), "busybox");
  EXPECT_EQ(fs::read_symlink(u->dest + "/bin/abs"), "/bin/busybox");
  struct stat st {};
  ASSERT_EQ(::stat((u->dest + "/bin/busybox").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(testing::read_file(u->dest + "/etc/passwd"), "root");
}

TEST(ImageLayerTest, RefusesPathTraversalAndAbsolutePaths) {
  EXPECT_FALSE(unpack(TarBuilder().file("../evil", "x").build())->status);
  EXPECT_FALSE(unpack(TarBuilder().file("a/../../evil", "x").build())->status);
  EXPECT_FALSE(unpack(TarBuilder().file("/etc/evil", "x").build())->status);
  TempDir outside;
  auto u = unpack(TarBuilder().file("../" + std::string("evil"), "x").build());
  EXPECT_FALSE(fs::exists(fs::path(u->dest).parent_path() / "evil"));
}

TEST(ImageLayerTest, NeverWritesThroughSymlinks) {
  TempDir victim;
  auto u = unpack(TarBuilder().symlink("link", victim.path()).file("link/owned", "x").build());
  EXPECT_FALSE(u->status);
  EXPECT_FALSE(fs::exists(victim.file("owned")));
  // A symlink replaced by a file is fine: the file replaces the link, nothing is followed.
  auto v = unpack(TarBuilder().symlink("f", "/etc/passwd").file("f", "mine").build());
  ASSERT_TRUE(v->status) << v->status.error().message;
  EXPECT_FALSE(fs::is_symlink(v->dest + "/f"));
  EXPECT_EQ(testing::read_file(v->dest + "/f"), "mine");
}

TEST(ImageLayerTest, RefusesEscapingLinksAndDevices) {
  EXPECT_FALSE(unpack(TarBuilder().symlink("a", "../../../etc/shadow").build())->status);
  EXPECT_FALSE(unpack(TarBuilder().dir("d").symlink("d/a", "../../x").build())->status);
  EXPECT_TRUE(unpack(TarBuilder().dir("d").symlink("d/a", "../x").build())->status);
  EXPECT_FALSE(unpack(TarBuilder().hardlink("h", "/etc/passwd").build())->status);
  EXPECT_FALSE(unpack(TarBuilder().hardlink("h", "../x").build())->status);
  EXPECT_FALSE(unpack(TarBuilder().hardlink("h", "missing").build())->status);
  auto dev = unpack(TarBuilder().chardev("dev/mem", 1, 1).build());
  EXPECT_FALSE(dev->status);
  EXPECT_FALSE(fs::exists(dev->dest + "/dev/mem"));
}

TEST(ImageLayerTest, RefusesOversizedLayersAndLyingHeaders) {
  LayerLimits small{1 << 20, 100};
  EXPECT_FALSE(unpack(TarBuilder().file("big", std::string((1 << 20) + 1, 'x')).build(), true, small)->status);
  EXPECT_FALSE(
      unpack(TarBuilder().file("a", std::string(600 << 10, 'x')).file("b", std::string(600 << 10, 'x')).build(), true,
             small)
          ->status);
  TarBuilder many;
  for (int i = 0; i < 101; ++i) many.file("f" + std::to_string(i), "");
  EXPECT_FALSE(unpack(many.build(), true, small)->status);
  // A header claiming 5 GiB with the default 4 GiB cap: refused before anything is written.
  auto lie = unpack(testing::lying_tar_header("huge", int64_t{5} << 30));
  EXPECT_FALSE(lie->status);
  EXPECT_FALSE(fs::exists(lie->dest + "/huge"));
  EXPECT_FALSE(unpack("this is not a tar archive at all, just text padding padding padding")->status);
}

TEST(ImageLayerTest, WhiteoutsBecomeOverlayWhiteoutsOrAreDropped) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: an overlay whiteout is a 0/0 character device (CAP_MKNOD)";
  const std::string tar = TarBuilder().dir("etc").file("etc/.wh.secret", "").file("var/.wh..wh..opq", "").build();
  auto low = unpack(tar, /*lowest=*/true);
  ASSERT_TRUE(low->status) << low->status.error().message;
  EXPECT_FALSE(fs::exists(low->dest + "/etc/secret"));
  EXPECT_FALSE(fs::exists(low->dest + "/etc/.wh.secret"));
  auto up = unpack(tar, /*lowest=*/false);
  ASSERT_TRUE(up->status) << up->status.error().message;
  struct stat st {};
  ASSERT_EQ(::lstat((up->dest + "/etc/secret").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, 0u);
  char v[4] = {};
  EXPECT_EQ(::getxattr((up->dest + "/var").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
}

}  // namespace
}  // namespace xop
