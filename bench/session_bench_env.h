// A real XenoServer session stack for the session benchmarks (session_start_bench,
// density_bench): SessionManager over the runc or crun driver, the image store holding the burner
// image the build makes (a cached image: its blobs are stored before anything is timed), the
// SQLite state store, loop-mounted session disks and, where the host can, the session network on
// a bridge of the bench's own. Needs root; the benches skip without it.
//
// Environment: XOP_BENCH_SESSIONS=N (the benches' N, also --sessions=N), XOP_BENCH_NETWORK=0
// (no session network: loopback only), XOP_BENCH_LOOP_DISKS=0 (plain directories).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_support.h"
#include "core/clock.h"
#include "crypto/keys.h"
#include "image/oci_layout.h"
#include "proto/price_sheet.h"
#include "proto/purchase_order.h"
#include "server/image_store.h"
#include "server/sandbox.h"
#include "server/sandbox_process.h"
#include "server/sandbox_runc.h"
#include "server/session_disk.h"
#include "server/session_manager.h"
#include "server/session_network.h"
#include "server/state_store.h"

namespace xop::bench {

// N from --sessions=N (removed from argv, so that Google Benchmark does not see it), else
// XOP_BENCH_SESSIONS, else `dflt`.
inline int& sessions_flag() {
  static int n = 0;
  return n;
}
inline void take_sessions_flag(int* argc, char** argv) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], "--sessions=", 11) == 0) {
      sessions_flag() = std::atoi(argv[i] + 11);
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
}
inline int session_count(int dflt) {
  if (sessions_flag() > 0) return sessions_flag();
  if (const char* e = std::getenv("XOP_BENCH_SESSIONS"); e != nullptr && std::atoi(e) > 0) return std::atoi(e);
  return dflt;
}
inline bool env_off(const char* name) {
  const char* e = std::getenv(name);
  return e != nullptr && std::string(e) == "0";
}

// Percentiles of durations in milliseconds (nearest rank).
inline double percentile_ms(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.5);
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

inline double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The drivers this host can run ("runc"; "crun" when its cgroup layout allows it), each with
// the reason when not.
inline std::vector<std::string> drivers_present(std::vector<std::string>* skipped = nullptr) {
  std::vector<std::string> out;
  for (const char* d : {"runc", "crun"}) {
    RuncOptions o;
    o.runtime = d;
    const std::string dir = temp_dir();
    o.state_root = dir + "/rt";
    o.cgroup_parent = "xop-bench-probe";
    auto s = open_runc_sandbox(o);
    auto found = run_command({d, "--version"}, std::chrono::seconds(5));
    if (s && found && found->exit_code == 0) {
      out.emplace_back(d);
    } else if (skipped != nullptr) {
      skipped->push_back(std::string(d) + ": " + (s ? "not installed" : s.error().message));
    }
    s = Result<std::unique_ptr<Sandbox>>(nullptr);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return out;
}

class SessionBenchEnv {
 public:
  // Fails (with the reason in `why`) when the stack cannot be built on this host.
  static std::unique_ptr<SessionBenchEnv> open(const std::string& runtime, std::string& why) {
    auto env = std::unique_ptr<SessionBenchEnv>(new SessionBenchEnv());
    if (auto s = env->init(runtime); !s) {
      why = s.error().message;
      return nullptr;
    }
    return env;
  }
  ~SessionBenchEnv() {
    if (manager_) manager_->stop_all("bench over");
    const bool left = manager_ && manager_->live_count() > 0;
    manager_.reset();
    if (network_) network_->shutdown(left);  // the bridge and chains go with the last session
    network_.reset();
    sandbox_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SessionBenchEnv(const SessionBenchEnv&) = delete;
  SessionBenchEnv& operator=(const SessionBenchEnv&) = delete;

  SessionManager& manager() { return *manager_; }
  ImageStore& images() { return *images_; }
  [[nodiscard]] const std::string& image() const { return image_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] bool has_network() const { return network_ != nullptr; }
  [[nodiscard]] const std::string& runtime() const { return runtime_; }
  [[nodiscard]] const std::string& cgroup_parent() const { return cgroup_parent_; }
  [[nodiscard]] const std::string& user_id() const { return user_id_; }

  // An idle workload (a shell waiting on SIGTERM) reserving `cpu_millis`.
  [[nodiscard]] CreateSessionRequest request(int64_t cpu_millis = 100, int64_t memory_bytes = 16LL << 20) const {
    SessionSpec s;
    s.name = "bench";
    s.image = image_;
    s.command = {"/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"};
    s.resources.cpu_millis = cpu_millis;
    s.resources.memory_bytes = memory_bytes;
    s.pids = 16;
    PurchaseOrder p;
    p.po_id = random_id("po");
    p.user = user_.account_id();
    p.server = server_key_.account_id();
    p.price_sheet = price_sheet_;
    p.max_amount = Money::micros(1'000'000'000);
    p.issued_at = SystemClock::instance().now_ms() - 1000;
    p.expires_at = p.issued_at + 3'600'000;
    return CreateSessionRequest{std::move(s), *SignedDoc::sign(kPurchaseOrderType, to_json(p), corp_key_)};
  }

 private:
  SessionBenchEnv() = default;

  Status init(const std::string& runtime) {
    runtime_ = runtime;
    dir_ = temp_dir();
    const std::string tag = std::to_string(::getpid() % 100000);
    cgroup_parent_ = "xop-bench-" + tag;
    RuncOptions ro;
    ro.runtime = runtime;
    ro.state_root = dir_ + "/runtime";
    ro.cgroup_parent = cgroup_parent_;
    // The shim as the server runs it: through the xop-shim launcher; XOP_BENCH_SHIM=fork keeps it
    // a fork of this process (for comparison).
    const char* shim = std::getenv("XOP_BENCH_SHIM");
    ro.shim_launcher = shim != nullptr && std::string(shim) == "fork" ? "none" : XOP_SHIM_LAUNCHER;
    XOP_ASSIGN_OR_RETURN(sandbox_, open_runc_sandbox(ro));
    XOP_ASSIGN_OR_RETURN(images_, ImageStore::open(dir_ + "/images", ImageStoreOptions{}, &SystemClock::instance()));
    XOP_ASSIGN_OR_RETURN(OciLayout layout, read_oci_layout(XOP_BENCH_IMAGE, dir_ + "/scratch"));
    // put_blob_file takes the file over (moves it): the build's layout keeps its own.
    std::filesystem::create_directories(dir_ + "/scratch");
    for (const auto& b : layout.blobs) {
      const std::string copy = dir_ + "/scratch/blob";
      std::filesystem::copy_file(b.path, copy, std::filesystem::copy_options::overwrite_existing);
      XOP_RETURN_IF_ERROR(images_->put_blob_file("", b.digest, copy));
    }
    image_ = layout.manifest_digest;
    XOP_ASSIGN_OR_RETURN(store_, StateStore::open(dir_ + "/state.db"));
    if (!env_off("XOP_BENCH_NETWORK") && session_network_unavailable_reason().empty()) {
      NetworkOptions no;
      no.bridge = "xopb" + tag;
      // A pool and port range of the bench's own (the tests on this host use 10.88/16, 10.99/24,
      // 10.200-249.x/24 and the 20000s).
      no.pool = "10.180.0.0/16";
      no.port_range = "41000-41999";
      no.state_file = dir_ + "/network.json";
      no.public_host = "127.0.0.1";
      XOP_ASSIGN_OR_RETURN(network_, SessionNetwork::open(no));
    }
    SessionManagerOptions so;
    so.server_id = server_key_.account_id();
    so.sessions_dir = dir_ + "/sessions";
    so.capacity = Resources{1'000'000, 1LL << 50, 1LL << 50, 1LL << 50};
    so.loop_disks = !env_off("XOP_BENCH_LOOP_DISKS");
    if (so.loop_disks) XOP_RETURN_IF_ERROR(check_session_disk_support());
    so.network = network_.get();
    so.public_host = "127.0.0.1";
    so.stop_grace_ms = 2000;
    const PriceSheet sheet{server_key_.account_id(), SystemClock::instance().now_ms() - 1000, Rates{}};
    price_sheet_ = *SignedDoc::sign(kPriceSheetType, to_json(sheet), server_key_);
    user_id_ = user_.account_id();
    manager_ = std::make_unique<SessionManager>(so, SystemClock::instance(), *sandbox_, *images_, *store_,
                                                corp_key_.public_key(), price_sheet_);
    return ok_status();
  }

  std::string runtime_;
  std::string dir_;
  std::string cgroup_parent_;
  std::string image_;
  std::string user_id_;
  KeyPair corp_key_ = KeyPair::generate();
  KeyPair server_key_ = KeyPair::generate();
  KeyPair user_ = KeyPair::generate();
  SignedDoc price_sheet_;
  std::unique_ptr<Sandbox> sandbox_;
  std::unique_ptr<ImageStore> images_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<SessionNetwork> network_;
  std::unique_ptr<SessionManager> manager_;
};

}  // namespace xop::bench
