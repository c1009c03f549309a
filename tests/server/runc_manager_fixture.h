// A SessionManager over real runc, real cgroups and loop-mounted session disks, with a real state
// store and image store holding the busybox burner image, for tests that run sessions for real
// (tests/server/session_disk_test.cpp, escape_suite_test.cpp). Root only: SetUp() skips with the
// reason elsewhere. A derived fixture calls RuncManagerTest::SetUp(), returns when it skipped or
// failed, adjusts opts_ (and may open a session network into net_), then calls make_manager().
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/json_reader.h"
#include "crypto/digest.h"
#include "image/oci_layout.h"
#include "server/burner_image.h"
#include "server/cgroup.h"
#include "server/sandbox_runc.h"
#include "server/session_disk.h"
#include "server/session_fixture.h"
#include "server/session_network.h"

namespace xop::testing {

class RuncManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = container_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    if (auto disks = check_session_disk_support(); !disks) GTEST_SKIP() << disks.error().message;
    clock_.set_ms(1'700'000'000'000);
    burner_ = build_burner_image(t_.file("img"));
    ASSERT_FALSE(burner_.empty());
    auto layout = read_oci_layout(t_.file("img"), t_.file("scratch"));
    ASSERT_TRUE(layout) << layout.error().message;
    layout_ = std::move(*layout);
    auto images = ImageStore::open(t_.file("images"));
    ASSERT_TRUE(images) << images.error().message;
    images_ = std::move(*images);
    ASSERT_TRUE(load_layout(layout_, *images_));
    auto cg = detect_cgroup_layout("/sys/fs/cgroup");
    ASSERT_TRUE(cg) << cg.error().message;
    cg_ = *cg;
    runc_.state_root = t_.file("runc-state");
    runc_.cgroup_parent = "xop-test-" + random_id("").substr(0, 12);
    auto sb = open_runc_sandbox(runc_);
    ASSERT_TRUE(sb) << sb.error().message;
    sandbox_ = std::move(*sb);
    auto st = StateStore::open(t_.file("state.db"));
    ASSERT_TRUE(st) << st.error().message;
    store_ = std::move(*st);
    opts_.server_id = server_key_.account_id();
    opts_.sessions_dir = t_.file("sessions");
    std::filesystem::create_directories(opts_.sessions_dir);
    opts_.capacity = Resources{4000, 4LL << 30, 10LL << 30, 1'000'000'000};
    opts_.stop_grace_ms = 300;
    opts_.loop_disks = true;
    opts_.default_disk_bytes = 8LL << 20;
    opts_.log_max_bytes = 64 << 10;
    opts_.log_rate_bytes_per_s = 256 << 10;
    sheet_ = signed_price_sheet(server_key_, clock_.now_ms(), test_rates());
  }

  void TearDown() override {
    if (manager_) manager_->stop_all("test over");
    manager_.reset();
    if (net_) net_->shutdown(/*sessions_left=*/false);
    net_.reset();
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(opts_.sessions_dir, ec)) {
      (void)images_->release_rootfs(e.path().string() + "/disk");
      (void)remove_session_disk(e.path().string());
    }
    sandbox_.reset();
    for (const auto& h : cg_.v1_hierarchies) ::rmdir((h + "/" + runc_.cgroup_parent).c_str());
    if (!cg_.v2_dir.empty()) ::rmdir((cg_.v2_dir + "/" + runc_.cgroup_parent).c_str());
  }

  // Stores an image made of the burner plus one more layer (`layer`, a tar), its config edited by
  // `edit` (e.g. User, Env), and returns its manifest digest.
  std::string put_burner_with_layer(const std::string& layer, const std::function<void(Json& config)>& edit = {}) {
    auto blob = [&](const std::string& digest) {
      for (const auto& b : layout_.blobs) {
        if (b.digest == digest) return read_file(b.path);
      }
      ADD_FAILURE() << "no blob " << digest;
      return std::string();
    };
    Json manifest = Json::parse(blob(burner_));
    Json config = Json::parse(blob(manifest["config"]["digest"].get<std::string>()));
    if (edit) edit(config);
    config["rootfs"]["diff_ids"].push_back(oci_digest(layer));
    const std::string config_text = config.dump();
    manifest["config"]["digest"] = oci_digest(config_text);
    manifest["config"]["size"] = config_text.size();
    manifest["layers"].push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                  {"digest", oci_digest(layer)},
                                  {"size", layer.size()}});
    const std::string manifest_text = manifest.dump();
    EXPECT_TRUE(images_->put_blob(oci_digest(layer), layer));
    EXPECT_TRUE(images_->put_blob(oci_digest(config_text), config_text));
    EXPECT_TRUE(images_->put_blob(oci_digest(manifest_text), manifest_text));
    return oci_digest(manifest_text);
  }

  void make_manager() {
    manager_ =
        std::make_unique<SessionManager>(opts_, clock_, *sandbox_, *images_, *store_, corp_key_.public_key(), sheet_);
  }

  TempDir t_;
  SimulatedClock clock_;
  KeyPair corp_key_ = KeyPair::generate();
  KeyPair server_key_ = KeyPair::generate();
  KeyPair alice_ = KeyPair::generate();
  std::string burner_;  // the burner image's manifest digest, in images_
  OciLayout layout_;    // its OCI layout
  std::unique_ptr<ImageStore> images_;
  CgroupLayout cg_;
  RuncOptions runc_;
  std::unique_ptr<Sandbox> sandbox_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<SessionNetwork> net_;  // outlives manager_
  SessionManagerOptions opts_;
  SignedDoc sheet_;
  std::unique_ptr<SessionManager> manager_;
};

}  // namespace xop::testing
