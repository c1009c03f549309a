#include "server/image_store.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "crypto/digest.h"
#include "crypto/keys.h"
#include "server/burner_image.h"
#include "server/tar_builder.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;
using testing::TarBuilder;
using testing::TempDir;

std::unique_ptr<ImageStore> open_store(const TempDir& t) {
  auto s = ImageStore::open(t.file("store"));
  EXPECT_TRUE(s) << s.error().message;
  return std::move(*s);
}

// Stores a one-layer image made of `layer` and returns its manifest digest.
std::string put_image(ImageStore& s, const std::string& layer, const std::string& config_json) {
  EXPECT_TRUE(s.put_blob(oci_digest(layer), layer));
  EXPECT_TRUE(s.put_blob(oci_digest(config_json), config_json));
  const std::string m =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      oci_digest(config_json) + R"(","size":)" + std::to_string(config_json.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + oci_digest(layer) +
      R"(","size":)" + std::to_string(layer.size()) + "}]}";
  EXPECT_TRUE(s.put_blob(oci_digest(m), m));
  return oci_digest(m);
}

TEST(ImageStoreTest, PutBlobChecksDigestAndStoresNothingOnMismatch) {
  TempDir t;
  auto s = open_store(t);
  const std::string data = "hello blob";
  const std::string other = oci_digest("something else");
  auto bad = s->put_blob(other, data);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(s->has_blob(other));
  EXPECT_TRUE(fs::is_empty(t.file("store/blobs/sha256")));
  EXPECT_TRUE(fs::is_empty(t.file("store/tmp")));
  EXPECT_FALSE(s->put_blob("sha256:../../etc/passwd", data));
  EXPECT_FALSE(s->put_blob("md5:abc", data));

  ASSERT_TRUE(s->put_blob(oci_digest(data), data));
  EXPECT_TRUE(s->has_blob(oci_digest(data)));
  EXPECT_EQ(*s->read_blob(oci_digest(data)), data);
  ASSERT_TRUE(s->put_blob(oci_digest(data), data));  // idempotent
  EXPECT_EQ(s->read_blob(other).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(s->read_blob("sha256:zz"));
}

TEST(ImageStoreTest, ImageParsesConfigAndNamesMissingBlobs) {
  TempDir t;
  auto s = open_store(t);
  const std::string layer = TarBuilder().file("bin/x", "x").build();
  const std::string config = R"({"os":"linux","config":{"Cmd":["/bin/x"],"Env":["A=1"],"WorkingDir":"/w"}})";
  const std::string m = put_image(*s, layer, config);
  auto img = s->image(m);
  ASSERT_TRUE(img) << img.error().message;
  EXPECT_EQ(img->cmd, std::vector<std::string>{"/bin/x"});
  EXPECT_EQ(img->env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(img->working_dir, "/w");
  EXPECT_EQ(img->layers, std::vector<std::string>{oci_digest(layer)});
  // Only public images are listed; publishing needs an owner of every blob.
  EXPECT_TRUE(s->images().empty());
  const std::string owner = KeyPair::generate().account_id();
  for (const auto& d : {oci_digest(layer), oci_digest(config), m}) ASSERT_TRUE(s->put_blob(owner, d, *s->read_blob(d)));
  ASSERT_TRUE(s->set_public(owner, m, true));
  EXPECT_EQ(s->images(), std::vector<std::string>{m});

  // A manifest whose layer is missing: the error names it.
  const std::string missing = oci_digest("absent layer");
  const std::string m2 =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      oci_digest(config) + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + missing + R"(","size":12}]})";
  ASSERT_TRUE(s->put_blob(oci_digest(m2), m2));
  auto e = s->image(oci_digest(m2));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::kNotFound);
  EXPECT_NE(e.error().message.find(missing), std::string::npos);
  EXPECT_EQ(s->images(), std::vector<std::string>{m});
  EXPECT_EQ(s->image(oci_digest("nothing")).error().code, ErrorCode::kNotFound);
}

TEST(ImageStoreTest, RefusesMalformedManifestsAndConfigs) {
  TempDir t;
  auto s = open_store(t);
  const std::string junk = "{\"schemaVersion\":2,\"config\":[]}";
  ASSERT_TRUE(s->put_blob(oci_digest(junk), junk));
  EXPECT_FALSE(s->image(oci_digest(junk)));
  const std::string layer = TarBuilder().file("x", "x").build();
  const std::string m = put_image(*s, layer, R"({"os":"plan9"})");
  EXPECT_FALSE(s->image(m));
  const std::string m2 = put_image(*s, layer, R"({"rootfs":{"type":"layers","diff_ids":[]}})");
  EXPECT_FALSE(s->image(m2));  // diff_ids count differs from the layers
}

TEST(ImageStoreTest, PrepareRootfsOverlaysLayersWithPrivateUpper) {
  if (auto why = testing::container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir t;
  auto s = open_store(t);
  const std::string m = put_image(*s, TarBuilder().file("etc/hostname", "img").build(), "{}");
  // Two sessions prepare the same image concurrently: one unpack wins, both mount.
  Result<std::string> r1, r2;
  std::thread a([&] { r1 = s->prepare_rootfs(m, t.file("s1")); });
  std::thread b([&] { r2 = s->prepare_rootfs(m, t.file("s2")); });
  a.join();
  b.join();
  ASSERT_TRUE(r1) << r1.error().message;
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(testing::read_file(*r1 + "/etc/hostname"), "img");
  testing::write_file(*r1 + "/etc/hostname", "changed");
  EXPECT_EQ(testing::read_file(*r2 + "/etc/hostname"), "img");  // copy-on-write, private
  EXPECT_EQ(testing::read_file(t.file("s1/upper/etc/hostname")), "changed");
  size_t layers = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(t.file("store/layers"))) ++layers;
  EXPECT_EQ(layers, 1u);
  EXPECT_TRUE(fs::is_empty(t.file("store/tmp")));
  EXPECT_TRUE(s->prepare_rootfs(m, t.file("s1")));  // idempotent while mounted
  ASSERT_TRUE(s->release_rootfs(t.file("s1")));
  ASSERT_TRUE(s->release_rootfs(t.file("s1")));
  EXPECT_FALSE(fs::exists(t.file("s1/rootfs/etc/hostname")));
  ASSERT_TRUE(s->release_rootfs(t.file("s2")));
}

TEST(ImageStoreTest, PrepareRootfsRefusesHostileLayerAndLeavesNoPartialLayer) {
  if (auto why = testing::container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir t;
  auto s = open_store(t);
  const std::string m = put_image(*s, TarBuilder().file("ok", "1").file("../../escape", "x").build(), "{}");
  auto r = s->prepare_rootfs(m, t.file("s1"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(".."), std::string::npos);
  EXPECT_TRUE(fs::is_empty(t.file("store/layers")));
  EXPECT_TRUE(fs::is_empty(t.file("store/tmp")));
  EXPECT_FALSE(fs::exists(t.file("escape")));
}

// Stores an image of several layers (bottom first) and returns its manifest digest.
std::string put_layered_image(ImageStore& s, const std::vector<std::string>& layers) {
  std::string diff_ids;
  for (const auto& l : layers) diff_ids += std::string(diff_ids.empty() ? "" : ",") + "\"" + oci_digest(l) + "\"";
  const std::string config = R"({"rootfs":{"type":"layers","diff_ids":[)" + diff_ids + "]}}";
  EXPECT_TRUE(s.put_blob(oci_digest(config), config));
  std::string list;
  for (const auto& l : layers) {
    EXPECT_TRUE(s.put_blob(oci_digest(l), l));
    list += std::string(list.empty() ? "" : ",") +
            R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + oci_digest(l) + R"(","size":)" +
            std::to_string(l.size()) + "}";
  }
  const std::string m =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      oci_digest(config) + R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[)" + list + "]}";
  EXPECT_TRUE(s.put_blob(oci_digest(m), m));
  return oci_digest(m);
}

// mount_rootfs = false (the mock runtime, tests, the simulator): no mount, no root needed; the
// layers are copied bottom first, an upper layer's file replaces a lower one's, and a lower
// layer's symlink never redirects an upper layer's file out of the root.
TEST(ImageStoreTest, UnmountedRootfsCopiesLayersAndStaysInsideTheRoot) {
  TempDir t;
  ImageStoreOptions o;
  o.mount_rootfs = false;
  auto s = ImageStore::open(t.file("store"), o);
  ASSERT_TRUE(s) << s.error().message;
  testing::write_file(t.file("outside"), "host file");
  fs::create_directories(t.file("victim"));
  testing::write_file(t.file("victim/precious"), "host file");
  const std::string lower = TarBuilder()
                                .file("etc/hostname", "lower")
                                .file("etc/keep", "kept")
                                .symlink("etc/link", t.file("outside"))
                                .symlink("dir", t.file("victim"))
                                .build();
  const std::string upper =
      TarBuilder().file("etc/hostname", "upper").file("etc/link", "mine").dir("dir").file("dir/outside", "x").build();
  const std::string m = put_layered_image(**s, {lower, upper});
  auto root = (*s)->prepare_rootfs(m, t.file("s1"));
  ASSERT_TRUE(root) << root.error().message;
  struct stat st {
  }, parent{};
  ASSERT_EQ(::lstat(root->c_str(), &st), 0);
  ASSERT_EQ(::lstat((*root + "/..").c_str(), &parent), 0);
  EXPECT_EQ(st.st_dev, parent.st_dev) << "the unmounted root is not a mount point";
  EXPECT_EQ(testing::read_file(*root + "/etc/hostname"), "upper");
  EXPECT_EQ(testing::read_file(*root + "/etc/keep"), "kept");
  EXPECT_EQ(testing::read_file(*root + "/etc/link"), "mine");
  EXPECT_FALSE(fs::is_symlink(*root + "/etc/link"));
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(*root + "/dir")));
  EXPECT_EQ(testing::read_file(t.file("outside")), "host file");  // neither symlink was written through
  EXPECT_EQ(testing::read_file(t.file("victim/precious")), "host file");
  EXPECT_FALSE(fs::exists(t.file("victim/outside")));
  // A second prepare (a restart) changes nothing; a session's writes stay its own.
  testing::write_file(*root + "/etc/hostname", "changed");
  ASSERT_TRUE((*s)->prepare_rootfs(m, t.file("s1")));
  EXPECT_EQ(testing::read_file(*root + "/etc/hostname"), "changed");
  auto other = (*s)->prepare_rootfs(m, t.file("s2"));
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(testing::read_file(*other + "/etc/hostname"), "upper");
  EXPECT_TRUE((*s)->release_rootfs(t.file("s1")));
  EXPECT_TRUE((*s)->release_rootfs(t.file("s2")));
}

TEST(ImageStoreTest, UnmountedRootfsHonoursWhiteouts) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: unpacking a whiteout makes a 0/0 character device (CAP_MKNOD)";
  TempDir t;
  ImageStoreOptions o;
  o.mount_rootfs = false;
  auto s = ImageStore::open(t.file("store"), o);
  ASSERT_TRUE(s) << s.error().message;
  const std::string lower = TarBuilder().file("etc/gone", "x").file("etc/stays", "y").file("old/a", "z").build();
  const std::string upper = TarBuilder().file("etc/.wh.gone", "").file("old/.wh.a", "").build();
  const std::string m = put_layered_image(**s, {lower, upper});
  auto root = (*s)->prepare_rootfs(m, t.file("s1"));
  ASSERT_TRUE(root) << root.error().message;
  EXPECT_FALSE(fs::exists(fs::symlink_status(*root + "/etc/gone")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(*root + "/old/a")));
  EXPECT_EQ(testing::read_file(*root + "/etc/stays"), "y");
  EXPECT_TRUE((*s)->release_rootfs(t.file("s1")));
}

}  // namespace
}  // namespace xop
