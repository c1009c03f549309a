// A SessionManager over real parts (SQLite state store, image store holding a real one-layer
// image, real signatures) with the in-memory MockSandbox and a SimulatedClock, for the session
// manager and server API tests. Sessions run in the mock sandbox; their root file systems are
// overlay mounts as root and plain copies otherwise (ImageStoreOptions::mount_rootfs).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "crypto/digest.h"
#include "proto/charge.h"
#include "proto/purchase_order.h"
#include "server/sandbox_mock.h"
#include "server/session_manager.h"
#include "server/tar_builder.h"
#include "support/builders.h"
#include "support/test_support.h"

namespace xop::testing {

inline Rates test_rates() {
  return Rates{.cpu_reserve_per_core_hour = 3'600'000,
               .memory_reserve_per_gib_hour = 360'000,
               .disk_reserve_per_gib_hour = 0,
               .net_reserve_per_mbps_hour = 0,
               .cpu_use_per_core_hour = 7'200'000,
               .memory_use_per_gib_hour = 36'000,
               .disk_io_per_gib = 1'000'000,
               .net_io_per_gib = 2'000'000};
}

// Stores a one-layer image (a file /bin/x, Cmd ["/bin/x","run"]) owned by `owners` (account ids;
// none: owned by nobody) and returns its manifest digest.
inline std::string put_test_image(ImageStore& s, const std::vector<std::string>& owners = {}) {
  const std::string layer = TarBuilder().dir("bin").file("bin/x", "#!/bin/sh\n", 0755).build();
  const std::string config =
      R"({"os":"linux","architecture":"amd64","config":{"Cmd":["/bin/x","run"],"Env":["IMG=1"],"WorkingDir":"/w"},)"
      R"("rootfs":{"type":"layers","diff_ids":[")" +
      oci_digest(layer) + R"("]}})";
  const std::string m =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      oci_digest(config) + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + oci_digest(layer) +
      R"(","size":)" + std::to_string(layer.size()) + "}]}";
  for (const auto& owner : owners.empty() ? std::vector<std::string>{""} : owners) {
    EXPECT_TRUE(s.put_blob(owner, oci_digest(layer), layer));
    EXPECT_TRUE(s.put_blob(owner, oci_digest(config), config));
    EXPECT_TRUE(s.put_blob(owner, oci_digest(m), m));
  }
  return oci_digest(m);
}

// A PO for `user` on `server`, binding `sheet`, signed by `signer` (the corp).
inline SignedDoc make_test_po(const KeyPair& signer, const KeyPair& user, const std::string& server,
                              const SignedDoc& sheet, TimeMs now, int64_t max_micros = 10'000'000,
                              TimeMs expires_in = 3'600'000) {
  PurchaseOrder p;
  p.po_id = random_id("po");
  p.user = user.account_id();
  p.server = server;
  p.price_sheet = sheet;
  p.max_amount = Money::micros(max_micros);
  p.issued_at = now - 1000;
  p.expires_at = now + expires_in;
  return *SignedDoc::sign(kPurchaseOrderType, to_json(p), signer);
}

struct SessionEnv {
  explicit SessionEnv(Resources capacity = Resources{4000, 4LL << 30, 10LL << 30, 1'000'000'000}) {
    clock.set_ms(1'700'000'000'000);
    // As root the real overlay mounts; otherwise the store copies the layers into a plain
    // directory (mount_rootfs = false), so these tests run, and mean the same, without root.
    ImageStoreOptions image_opts;
    image_opts.mount_rootfs = ::geteuid() == 0;
    auto is = ImageStore::open(dir.file("images"), image_opts, &clock);
    EXPECT_TRUE(is) << is.error().message;
    images = std::move(*is);
    image = put_test_image(*images, {alice.account_id(), bob.account_id()});
    opts.server_id = server_key.account_id();
    opts.sessions_dir = dir.file("sessions");
    opts.capacity = capacity;
    opts.max_pids_per_session = 128;
    price_sheet = signed_price_sheet(server_key, clock.now_ms(), test_rates());
    open_store();
    make_manager();
  }
  ~SessionEnv() {
    // Unmount whatever is still mounted before the TempDir goes.
    if (manager) manager->stop_all("test over");
    manager.reset();
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(opts.sessions_dir, ec)) {
      (void)images->release_rootfs(e.path().string() + "/disk");
      (void)images->release_rootfs(e.path().string());
    }
  }

  void open_store() {
    store.reset();
    auto st = StateStore::open(dir.file("state.db"));
    EXPECT_TRUE(st) << st.error().message;
    store = std::move(*st);
  }
  void make_manager() {
    manager =
        std::make_unique<SessionManager>(opts, clock, sandbox, *images, *store, corp_key.public_key(), price_sheet);
  }

  // A PO signed by `signer` (the corp by default) for `user` on this server.
  SignedDoc po(const KeyPair& user, int64_t max_micros = 10'000'000, const KeyPair* signer = nullptr,
               const std::string* server = nullptr, const SignedDoc* sheet = nullptr, TimeMs expires_in = 3'600'000) {
    return make_test_po(signer != nullptr ? *signer : corp_key, user,
                        server != nullptr ? *server : server_key.account_id(), sheet != nullptr ? *sheet : price_sheet,
                        clock.now_ms(), max_micros, expires_in);
  }
  SessionSpec spec(int64_t cpu_millis = 500, int64_t memory_bytes = 64LL << 20) const {
    SessionSpec s;
    s.name = "t";
    s.image = image;
    s.resources.cpu_millis = cpu_millis;
    s.resources.memory_bytes = memory_bytes;
    s.pids = 32;
    return s;
  }
  CreateSessionRequest request(const KeyPair& user, SessionSpec s) {
    return CreateSessionRequest{std::move(s), po(user)};
  }
  CreateSessionRequest request(const KeyPair& user) { return request(user, spec()); }

  TempDir dir;
  SimulatedClock clock;
  KeyPair corp_key = KeyPair::generate();
  KeyPair server_key = KeyPair::generate();
  KeyPair alice = KeyPair::generate();
  KeyPair bob = KeyPair::generate();
  MockSandbox sandbox;
  std::unique_ptr<ImageStore> images;
  std::string image;
  std::unique_ptr<StateStore> store;
  SessionManagerOptions opts;
  SignedDoc price_sheet;
  std::unique_ptr<SessionManager> manager;
};

}  // namespace xop::testing
