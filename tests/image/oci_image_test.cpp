#include "image/oci_image.h"

#include <gtest/gtest.h>

#include "crypto/digest.h"

namespace xop {
namespace {

const std::string kD1 = "sha256:" + std::string(64, 'a');
const std::string kD2 = "sha256:" + std::string(64, 'b');

std::string manifest(const std::string& layer_mt = "application/vnd.oci.image.layer.v1.tar+gzip",
                     const std::string& extra = "") {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         kD1 + R"(","size":10},"layers":[{"mediaType":")" + layer_mt + R"(","digest":")" + kD2 + R"(","size":20)" +
         extra + "}]}";
}

TEST(OciManifestTest, ParsesOciAndDocker) {
  auto m = parse_oci_manifest(manifest());
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->config.digest, kD1);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].compression, LayerCompression::kGzip);
  EXPECT_EQ(m->layers[0].desc.size, 20);

  const std::string docker =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
      kD1 + R"(","size":10},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":")" +
      kD2 + R"(","size":20}]})";
  ASSERT_TRUE(parse_oci_manifest(docker));
  EXPECT_EQ(parse_oci_manifest(manifest("application/vnd.oci.image.layer.v1.tar+zstd"))->layers[0].compression,
            LayerCompression::kZstd);
}

TEST(OciManifestTest, RefusesMalformedHostileAndUnknown) {
  EXPECT_EQ(parse_oci_manifest(manifest("application/x-evil")).error().code, ErrorCode::kUnsupportedMedia);
  EXPECT_FALSE(parse_oci_manifest(manifest("application/vnd.oci.image.layer.v1.tar", R"(,"urls":["http://x"])")));
  EXPECT_FALSE(parse_oci_manifest(manifest("application/vnd.oci.image.layer.v1.tar", R"(,"bogus":1)")));
  EXPECT_FALSE(parse_oci_manifest("not json"));
  EXPECT_FALSE(parse_oci_manifest("[]"));
  EXPECT_FALSE(parse_oci_manifest("{}"));
  EXPECT_FALSE(parse_oci_manifest(R"({"schemaVersion":1,"config":{},"layers":[]})"));
  std::string bad_digest = manifest();
  bad_digest.replace(bad_digest.find(kD2), kD2.size(), "sha256:ABC");
  EXPECT_FALSE(parse_oci_manifest(bad_digest));
  std::string neg = manifest();
  neg.replace(neg.find("\"size\":20"), 9, "\"size\":-1");
  EXPECT_FALSE(parse_oci_manifest(neg));
  std::string wrong_mt = manifest();
  wrong_mt.replace(wrong_mt.find("application/vnd.oci.image.manifest.v1+json"), 42,
                   "application/vnd.oci.image.index.v1+json");
  EXPECT_FALSE(parse_oci_manifest(wrong_mt));
  // Oversized and deeply nested documents.
  EXPECT_EQ(parse_oci_manifest(std::string(kMaxOciDocumentBytes + 1, ' ')).error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_FALSE(parse_oci_manifest(std::string(10000, '[') + std::string(10000, ']')));
  // Too many layers.
  std::string many =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kD1 +
      R"(","size":1},"layers":[)";
  for (size_t i = 0; i <= kMaxOciLayers; ++i) {
    many += std::string(i ? "," : "") + R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + kD2 +
            R"(","size":1})";
  }
  many += "]}";
  EXPECT_FALSE(parse_oci_manifest(many));
  // No layers.
  EXPECT_FALSE(parse_oci_manifest(
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kD1 +
      R"(","size":1},"layers":[]})"));
}

TEST(OciConfigTest, ParsesRunFieldsAndIgnoresInformationalOnes) {
  auto c = parse_oci_image_config(
      R"({"architecture":"amd64","os":"linux","created":"2020","history":[{"x":1}],)"
      R"("config":{"Entrypoint":["/bin/sh"],"Cmd":["-c","true"],"Env":["PATH=/bin"],"WorkingDir":"/srv","Labels":{}},)"
      R"("rootfs":{"type":"layers","diff_ids":[")" +
      kD1 + R"("]}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"-c", "true"}));
  EXPECT_EQ(c->env, std::vector<std::string>{"PATH=/bin"});
  EXPECT_EQ(c->working_dir, "/srv");
  EXPECT_EQ(c->diff_ids.size(), 1u);
  EXPECT_EQ(parse_oci_image_config("{}")->working_dir, "/");
}

TEST(OciConfigTest, RefusesWrongTypesAndValues) {
  EXPECT_FALSE(parse_oci_image_config(R"({"os":"windows"})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"Cmd":"sh"}})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"Cmd":[1]}})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"Env":["NOEQ"]}})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"WorkingDir":"relative"}})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"Cmd":["a\u0000b"]}})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"rootfs":{"type":"other","diff_ids":[]}})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"rootfs":{"type":"layers","diff_ids":["md5:x"]}})"));
  EXPECT_FALSE(parse_oci_image_config(R"([1])"));
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"Cmd":[")" + std::string(70000, 'x') + R"("]}})"));
}

TEST(OciIndexTest, ParsesAndRefuses) {
  auto i = parse_oci_index(
      R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD1 +
      R"(","size":5,"platform":{"os":"linux"},"annotations":{"a":"b"}}]})");
  ASSERT_TRUE(i) << i.error().message;
  ASSERT_EQ(i->size(), 1u);
  EXPECT_EQ((*i)[0].digest, kD1);
  EXPECT_FALSE(parse_oci_index(R"({"schemaVersion":2})"));
  EXPECT_FALSE(parse_oci_index(R"({"schemaVersion":2,"manifests":[{"digest":"x"}]})"));
  EXPECT_FALSE(parse_oci_index(R"({"schemaVersion":2,"manifests":[],"mediaType":"text/plain"})"));
  EXPECT_FALSE(parse_oci_index(R"({"schemaVersion":2,"manifests":[],"annotations":{"a":1}})"));
}

}  // namespace
}  // namespace xop
