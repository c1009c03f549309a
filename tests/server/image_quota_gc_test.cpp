// Per-user upload quotas, the store-wide cap and garbage collection of the image store
// (issue 14, item 3, image part): uploads beyond a quota are refused before anything is stored;
// blobs and unpacked layers that no live session uses are removed after the idle time (on a
// simulated clock), and never one a live or starting session needs.
#include <gtest/gtest.h>

#include <filesystem>

#include "client/api_client.h"
#include "crypto/digest.h"
#include "net/http_server.h"
#include "server/image_store.h"
#include "server/server_api.h"
#include "server/session_fixture.h"
#include "server/tar_builder.h"
#include "support/test_support.h"

namespace xop {
namespace {

namespace fs = std::filesystem;
using testing::SessionEnv;
using testing::TarBuilder;
using testing::TempDir;

constexpr int64_t kHour = 3'600'000;
const std::string kAlice = KeyPair::generate().account_id();
const std::string kBob = KeyPair::generate().account_id();

struct Store {
  explicit Store(ImageStoreOptions o = {}) : opts(o) { reopen(); }
  void reopen() {
    s.reset();
    auto r = ImageStore::open(t.file("store"), opts, &clock);
    ASSERT_TRUE(r) << r.error().message;
    s = std::move(*r);
  }
  [[nodiscard]] bool tmp_empty() const { return fs::is_empty(t.file("store/tmp")); }
  [[nodiscard]] size_t layer_dirs() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(t.file("store/layers"))) ++n;
    return n;
  }
  TempDir t;
  SimulatedClock clock;
  ImageStoreOptions opts;
  std::unique_ptr<ImageStore> s;
};

struct TestImage {
  std::string manifest;
  std::vector<std::string> blobs;  // manifest, config, layer
};

// A one-layer image owned by `owner`.
TestImage put_image(ImageStore& s, const std::string& owner, const std::string& content) {
  const std::string layer = TarBuilder().file("etc/hostname", content).build();
  const std::string config = R"({"os":"linux","architecture":"amd64","config":{"Cmd":["/x", ")" + content + R"("]}})";
  const std::string m =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      oci_digest(config) + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + oci_digest(layer) +
      R"(","size":)" + std::to_string(layer.size()) + "}]}";
  for (const auto* b : {&layer, &config, &m}) EXPECT_TRUE(s.put_blob(owner, oci_digest(*b), *b));
  return TestImage{oci_digest(m), {oci_digest(m), oci_digest(config), oci_digest(layer)}};
}

TEST(ImageQuotaTest, UploadBeyondTheUsersByteQuotaIsRefusedBeforeAnythingIsStored) {
  Store st(ImageStoreOptions{.quota_bytes_per_user = 100});
  auto& s = *st.s;
  const std::string a(60, 'a');
  const std::string b(50, 'b');
  ASSERT_TRUE(s.put_blob(kAlice, oci_digest(a), a));
  auto refused = s.put_blob(kAlice, oci_digest(b), b);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(refused.error().message.find("quota"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(s.has_blob(oci_digest(b)));
  EXPECT_TRUE(st.tmp_empty());
  EXPECT_EQ(s.usage_of(kAlice).blob_bytes, 60);
  // The same check before the bytes arrive (what the route asks with the declared size).
  EXPECT_EQ(s.admit_blob(kAlice, oci_digest(b), 50).error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_TRUE(s.admit_blob(kAlice, oci_digest(b), 40));
  // The quota is per user: bob may store it, and a blob bob stored still counts in full for
  // alice when she becomes an owner too.
  ASSERT_TRUE(s.put_blob(kBob, oci_digest(b), b));
  EXPECT_EQ(s.put_blob(kAlice, oci_digest(b), b).error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_FALSE(s.is_owner(kAlice, oci_digest(b)));
  // Re-uploading what she owns costs nothing.
  EXPECT_TRUE(s.put_blob(kAlice, oci_digest(a), a));
  EXPECT_EQ(s.usage_of(kAlice).blob_bytes, 60);
}

// The attack: 4,100 manifests uploaded to one server. The blob-count quota bounds one user.
TEST(ImageQuotaTest, ManyTinyManifestsAreBoundedByTheBlobCountQuotaOverTheApi) {
  Store st(ImageStoreOptions{.quota_blobs_per_user = 50});
  RequestVerifier verifier(st.clock, "server-under-test");
  ServerApiDeps deps;
  deps.images = st.s.get();
  deps.verifier = &verifier;
  deps.clock = &st.clock;
  deps.info = [] { return Json{{"audience", "server-under-test"}}; };
  HttpServer http(HttpServerOptions{}, make_server_api(deps));
  ASSERT_TRUE(http.start());
  const KeyPair attacker = KeyPair::generate();
  auto c = ApiClient::connect(http.url(), attacker, st.clock);
  ASSERT_TRUE(c);
  int created = 0;
  int refused = 0;
  std::string last_body;
  for (int i = 0; i < 60; ++i) {
    const std::string m = R"({"schemaVersion":2,"n":)" + std::to_string(i) + "}";
    auto r = c->call_raw("PUT", "/v1/blobs/" + oci_digest(m), m, "application/octet-stream");
    ASSERT_TRUE(r) << r.error().message;
    if (r->status == 201) ++created;
    if (r->status == 413) {
      ++refused;
      last_body = r->body;
      EXPECT_FALSE(st.s->has_blob(oci_digest(m)));
    }
  }
  EXPECT_EQ(created, 50);
  EXPECT_EQ(refused, 10);
  auto j = parse_json(last_body);
  ASSERT_TRUE(j) << last_body;
  EXPECT_EQ((*j)["error"]["code"], "payload_too_large");
  EXPECT_EQ(st.s->usage().blobs, 50);
  http.stop();
}

TEST(ImageQuotaTest, FullStoreCollectsIdleBlobsFirstAndOtherwiseRefuses) {
  Store st(ImageStoreOptions{.max_store_bytes = 100, .gc_idle_ms = kHour});
  auto& s = *st.s;
  const std::string a(60, 'a');
  const std::string b(60, 'b');
  ASSERT_TRUE(s.put_blob(kAlice, oci_digest(a), a));
  // Nothing is idle yet: the store is full.
  auto full = s.put_blob(kBob, oci_digest(b), b);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::kResourceExhausted);
  EXPECT_FALSE(s.has_blob(oci_digest(b)));
  EXPECT_TRUE(s.has_blob(oci_digest(a)));
  // Once alice's blob has been idle for the policy's time, it makes room.
  st.clock.advance_ms(kHour);
  ASSERT_TRUE(s.put_blob(kBob, oci_digest(b), b));
  EXPECT_FALSE(s.has_blob(oci_digest(a)));
  EXPECT_FALSE(s.is_owner(kAlice, oci_digest(a)));
  EXPECT_EQ(s.usage_of(kAlice).blob_bytes, 0);
}

TEST(ImageGcTest, UnusedBlobsAndLayersGoAfterTheIdleTimeAndNotBefore) {
  if (auto why = testing::container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  Store st(ImageStoreOptions{.gc_idle_ms = kHour});
  auto& s = *st.s;
  const auto img = put_image(s, kAlice, "gc me");
  ASSERT_TRUE(s.prepare_rootfs(img.manifest, st.t.file("s1")));
  ASSERT_TRUE(s.release_rootfs(st.t.file("s1")));
  EXPECT_EQ(st.layer_dirs(), 1u);
  EXPECT_GT(s.usage().layer_bytes, 0);

  st.clock.advance_ms(kHour - 1);
  auto early = s.collect_garbage();
  ASSERT_TRUE(early) << early.error().message;
  EXPECT_EQ(early->blobs_removed + early->layers_removed, 0);
  for (const auto& b : img.blobs) EXPECT_TRUE(s.has_blob(b));

  st.clock.advance_ms(1);
  auto gc = s.collect_garbage();
  ASSERT_TRUE(gc) << gc.error().message;
  EXPECT_EQ(gc->blobs_removed, 3);
  EXPECT_EQ(gc->layers_removed, 1);
  for (const auto& b : img.blobs) {
    EXPECT_FALSE(s.has_blob(b));
    EXPECT_FALSE(s.is_owner(kAlice, b));
  }
  EXPECT_EQ(st.layer_dirs(), 0u);
  const StoreUsage u = s.usage();
  EXPECT_EQ(u.blob_bytes + u.layer_bytes + u.blobs + u.layers, 0);
}

TEST(ImageGcTest, ALayerInUseByALiveSessionIsNeverCollectedEvenAcrossARestartOrOverTheCap) {
  if (auto why = testing::container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  // Stored under a generous cap, which then shrinks far below what the images take.
  Store st(ImageStoreOptions{.gc_idle_ms = kHour});
  const auto used = put_image(*st.s, kAlice, "in use");
  const auto unused = put_image(*st.s, kAlice, "not in use");
  auto rootfs = st.s->prepare_rootfs(used.manifest, st.t.file("live"));
  ASSERT_TRUE(rootfs) << rootfs.error().message;
  ASSERT_TRUE(st.s->prepare_rootfs(unused.manifest, st.t.file("ended")));
  ASSERT_TRUE(st.s->release_rootfs(st.t.file("ended")));

  // A restart in between: the use is on disk, not only in memory.
  st.opts.max_store_bytes = 1;
  st.reopen();
  st.clock.advance_ms(10 * kHour);
  auto gc = st.s->collect_garbage();
  ASSERT_TRUE(gc) << gc.error().message;
  for (const auto& b : used.blobs) EXPECT_TRUE(st.s->has_blob(b)) << b;
  for (const auto& b : unused.blobs) EXPECT_FALSE(st.s->has_blob(b)) << b;
  EXPECT_EQ(st.layer_dirs(), 1u);
  EXPECT_EQ(testing::read_file(*rootfs + "/etc/hostname"), "in use");

  // When the session ends, its image becomes collectable after the idle time.
  ASSERT_TRUE(st.s->release_rootfs(st.t.file("live")));
  st.opts.max_store_bytes = int64_t{1} << 30;
  st.reopen();
  ASSERT_TRUE(st.s->collect_garbage());
  EXPECT_TRUE(st.s->has_blob(used.manifest));
  st.clock.advance_ms(kHour);
  ASSERT_TRUE(st.s->collect_garbage());
  EXPECT_FALSE(st.s->has_blob(used.manifest));
  EXPECT_EQ(st.layer_dirs(), 0u);
}

// The same through the session manager: a running session's image survives any number of
// GC passes; once the session stopped, the idle time later, it goes.
TEST(ImageGcTest, RunningSessionKeepsItsImageUntilItStops) {
  SessionEnv env;
  auto v = env.manager->create(env.alice.account_id(), env.request(env.alice));
  ASSERT_TRUE(v) << v.error().message;
  for (int i = 0; i < 6; ++i) {  // two days, a usage record every 8 hours
    env.clock.advance_ms(8 * kHour);
    env.manager->sample_all();
    env.manager->write_records();
    ASSERT_TRUE(env.images->collect_garbage());
  }
  EXPECT_TRUE(env.images->has_blob(env.image));
  EXPECT_EQ(env.images->usage().layers, 1);
  ASSERT_TRUE(env.manager->stop(env.alice.account_id(), v->row.id, "done"));
  ASSERT_TRUE(env.images->collect_garbage());
  EXPECT_TRUE(env.images->has_blob(env.image));  // used until a moment ago
  env.clock.advance_ms(24 * kHour);
  ASSERT_TRUE(env.images->collect_garbage());
  EXPECT_FALSE(env.images->has_blob(env.image));
  EXPECT_EQ(env.images->usage().layers, 0);
}

// A session being admitted dates its image: GC right after admission spares it even when it
// had been idle for long.
TEST(ImageGcTest, AdmissionDatesTheImage) {
  Store st(ImageStoreOptions{.gc_idle_ms = kHour});
  const auto img = put_image(*st.s, kAlice, "old");
  st.clock.advance_ms(2 * kHour);
  ASSERT_TRUE(st.s->image(img.manifest));
  ASSERT_TRUE(st.s->collect_garbage());
  for (const auto& b : img.blobs) EXPECT_TRUE(st.s->has_blob(b));
}

// Blobs stored before the metadata existed (an older version, or a crash between the file's
// rename and the commit) are adopted at start-up as owned by nobody, and collected like others.
TEST(ImageGcTest, FilesWithoutMetadataAreAdoptedUnownedAndCollectable) {
  Store st(ImageStoreOptions{.gc_idle_ms = kHour});
  const std::string a = "from an older version";
  ASSERT_TRUE(st.s->put_blob(kAlice, oci_digest(a), a));
  st.s.reset();
  for (const char* f : {"index.db", "index.db-wal", "index.db-shm"}) fs::remove(st.t.file(std::string("store/") + f));
  st.reopen();
  EXPECT_TRUE(st.s->has_blob(oci_digest(a)));
  EXPECT_FALSE(st.s->is_owner(kAlice, oci_digest(a)));
  EXPECT_EQ(st.s->usage().blob_bytes, static_cast<int64_t>(a.size()));
  // Alice re-uploads (her deployer's HEAD said 404) and owns it again.
  ASSERT_TRUE(st.s->put_blob(kAlice, oci_digest(a), a));
  EXPECT_TRUE(st.s->is_owner(kAlice, oci_digest(a)));
  st.clock.advance_ms(kHour);
  ASSERT_TRUE(st.s->collect_garbage());
  EXPECT_FALSE(st.s->has_blob(oci_digest(a)));
  // Metadata whose file vanished is dropped at start-up.
  const std::string b = "file removed behind the store's back";
  ASSERT_TRUE(st.s->put_blob(kAlice, oci_digest(b), b));
  st.s.reset();
  fs::remove(st.t.file("store/blobs/sha256/" + oci_digest(b).substr(7)));
  st.reopen();
  EXPECT_FALSE(st.s->is_owner(kAlice, oci_digest(b)));
  EXPECT_EQ(st.s->usage_of(kAlice).blobs, 0);
}

}  // namespace
}  // namespace xop
