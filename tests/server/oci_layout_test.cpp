#include "image/oci_layout.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/json_reader.h"
#include "crypto/digest.h"
#include "server/burner_image.h"
#include "server/tar_builder.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;
using testing::TarBuilder;
using testing::TempDir;

TEST(OciLayoutTest, ReadsTheBurnerLayoutAndVerifiesBlobs) {
  TempDir t;
  const std::string digest = testing::build_burner_image(t.file("img"));
  ASSERT_FALSE(digest.empty());
  auto l = read_oci_layout(t.file("img"), t.file("scratch"));
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->manifest_digest, digest);
  ASSERT_EQ(l->blobs.size(), 3u);  // manifest, config, one layer
  EXPECT_EQ(l->blobs[0].digest, digest);
  for (const auto& b : l->blobs) {
    EXPECT_EQ(*oci_digest_of_file(b.path), b.digest);
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(b.path)), b.size);
  }
  // Deterministic build: same digest again.
  EXPECT_EQ(testing::build_burner_image(t.file("img2")), digest);

  // A corrupted layer blob is refused.
  const std::string layer = l->blobs[2].path;
  std::string bytes = testing::read_file(layer);
  bytes[bytes.size() / 2] ^= 1;
  testing::write_file(layer, bytes);
  auto bad = read_oci_layout(t.file("img"), t.file("scratch"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("hashes to"), std::string::npos);
  fs::remove(layer);
  EXPECT_EQ(read_oci_layout(t.file("img"), t.file("scratch")).error().code, ErrorCode::kNotFound);
}

TEST(OciLayoutTest, ReadsATarAndRefusesHostileTars) {
  TempDir t;
  const std::string digest = testing::build_burner_image(t.file("img"));
  ASSERT_FALSE(digest.empty());
  TarBuilder tb;
  tb.file("oci-layout", testing::read_file(t.file("img/oci-layout")))
      .file("index.json", testing::read_file(t.file("img/index.json")));
  for (const auto& e : fs::directory_iterator(t.file("img/blobs/sha256"))) {
    tb.file("blobs/sha256/" + e.path().filename().string(), testing::read_file(e.path()));
  }
  testing::write_file(t.file("img.tar"), tb.build());
  auto l = read_oci_layout(t.file("img.tar"), t.file("scratch"));
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->manifest_digest, digest);
  EXPECT_EQ(l->blobs.size(), 3u);

  testing::write_file(t.file("evil.tar"), TarBuilder().file("../escape", "x").build());
  EXPECT_FALSE(read_oci_layout(t.file("evil.tar"), t.file("scratch2")));
  EXPECT_FALSE(fs::exists(t.file("escape")));
  testing::write_file(t.file("link.tar"), TarBuilder().symlink("blobs", "/etc").build());
  EXPECT_FALSE(read_oci_layout(t.file("link.tar"), t.file("scratch3")));
  testing::write_file(t.file("abs.tar"), TarBuilder().file("/tmp/abs", "x").build());
  EXPECT_FALSE(read_oci_layout(t.file("abs.tar"), t.file("scratch4")));
  testing::write_file(t.file("dup.tar"), TarBuilder().file("a", "1").file("a", "2").build());
  EXPECT_FALSE(read_oci_layout(t.file("dup.tar"), t.file("scratch5")));
}

TEST(OciLayoutTest, RefusesBadIndexes) {
  TempDir t;
  const std::string digest = testing::build_burner_image(t.file("img"));
  ASSERT_FALSE(digest.empty());
  const std::string index = testing::read_file(t.file("img/index.json"));
  // Two manifests.
  auto two = parse_json(index).value();
  two["manifests"].push_back(two["manifests"][0]);
  testing::write_file(t.file("img/index.json"), two.dump());
  EXPECT_FALSE(read_oci_layout(t.file("img"), t.file("s")));
  // Size in the index differs from the blob.
  auto sz = parse_json(index).value();
  sz["manifests"][0]["size"] = 1;
  testing::write_file(t.file("img/index.json"), sz.dump());
  EXPECT_FALSE(read_oci_layout(t.file("img"), t.file("s")));
  // Not JSON, missing marker, missing layout.
  testing::write_file(t.file("img/index.json"), "{");
  EXPECT_FALSE(read_oci_layout(t.file("img"), t.file("s")));
  testing::write_file(t.file("img/index.json"), index);
  ASSERT_TRUE(read_oci_layout(t.file("img"), t.file("s")));
  fs::remove(t.file("img/oci-layout"));
  EXPECT_FALSE(read_oci_layout(t.file("img"), t.file("s")));
  EXPECT_FALSE(read_oci_layout(t.file("nothing"), t.file("s")));
}

}  // namespace
}  // namespace xop
