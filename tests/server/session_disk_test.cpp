// Sessions under real runc through the SessionManager: the writable layer is bounded by the
// reservation (ENOSPC inside, bounded disk outside), output is capped and rate-limited, disk
// writes are metered from the kernel's count, nothing of a session is left once it ended (also
// after a crash of the server), and an OOM kill is recorded as such. Root only; skipped with the
// reason elsewhere.
#include "server/session_disk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/json_reader.h"
#include "image/oci_layout.h"
#include "server/burner_image.h"
#include "server/cgroup.h"
#include "server/net_probe.h"
#include "server/runc_manager_fixture.h"
#include "server/sandbox_process.h"
#include "server/sandbox_runc.h"
#include "server/server_api.h"
#include "server/session_fixture.h"
#include "server/session_network.h"

namespace xop {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::TempDir;

// Bytes the host's file system holds for `dir`, not crossing into other mounts (like du -x).
int64_t host_bytes(const std::string& dir) {
  struct stat base {};
  if (::stat(dir.c_str(), &base) != 0) return 0;
  int64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (st.st_dev != base.st_dev) {
      it.disable_recursion_pending();
      continue;
    }
    total += static_cast<int64_t>(st.st_blocks) * 512;
  }
  return total;
}

int64_t file_size(const std::string& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

class RuncSessionTest : public testing::RuncManagerTest {
 protected:
  void SetUp() override {
    RuncManagerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    manifest_ = burner_;
    make_manager();
  }

  SessionSpec spec(const std::string& script, int64_t disk_bytes = 0, int64_t memory_bytes = 64LL << 20) const {
    SessionSpec s;
    s.name = "t";
    s.image = manifest_;
    s.command = {"/bin/sh", "-c", script};
    s.resources.cpu_millis = 500;
    s.resources.memory_bytes = memory_bytes;
    s.resources.disk_bytes = disk_bytes;
    s.pids = 32;
    return s;
  }

  Result<SessionView> create(const SessionSpec& s) {
    auto po = testing::make_test_po(corp_key_, alice_, server_key_.account_id(), sheet_, clock_.now_ms());
    return manager_->create(alice_.account_id(), CreateSessionRequest{s, po});
  }

  // Samples until the session ended on its own; its final view.
  SessionView wait_ended(const std::string& id, std::chrono::milliseconds deadline = 30s) {
    SessionView v;
    const bool ended = testing::poll_until(
        [&] {
          manager_->sample_all();
          v = *manager_->get(alice_.account_id(), id);
          return v.row.state == "stopped" || v.row.state == "failed";
        },
        deadline);
    EXPECT_TRUE(ended) << "session " << id << " still " << v.row.state;
    return v;
  }

  // The disk bytes of every usage record of the session.
  int64_t recorded_disk(const std::string& id) {
    auto recs = store_->records(id);
    EXPECT_TRUE(recs);
    int64_t sum = 0;
    if (recs) {
      for (const auto& r : *recs) sum += r.used.disk_bytes;
    }
    return sum;
  }

  // Stores an image made of the burner's layer plus one more (an /etc/passwd and /etc/group with
  // "worker" 1000:1001, a /work directory) whose config sets `user`, WorkingDir /work and adds
  // FOO=bar (and `extra_env`) to Env; returns its manifest digest.
  std::string put_user_image(const std::string& user, const std::vector<std::string>& extra_env = {}) {
    const std::string layer =
        testing::TarBuilder()
            .dir("etc")
            .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nworker:x:1000:1001::/work:/bin/sh\n")
            .file("etc/group", "root:x:0:\nworkers:x:1001:\nstaff:x:50:worker\n")
            .dir("work", 0777)
            .build();
    return put_burner_with_layer(layer, [&](Json& config) {
      config["config"]["User"] = user;
      config["config"]["WorkingDir"] = "/work";
      config["config"]["Env"].push_back("FOO=bar");
      for (const auto& e : extra_env) config["config"]["Env"].push_back(e);
    });
  }

  [[nodiscard]] std::string dir_of(const std::string& id) const { return opts_.sessions_dir + "/" + id; }
  std::string log_of(const std::string& id) { return manager_->logs(alice_.account_id(), id, 1 << 20).value_or(""); }

  std::string manifest_;
};

// Attack: a session reserving 100 MiB wrote 2 GiB to the host.
TEST_F(RuncSessionTest, WritingBeyondTheReservedDiskFailsInsideWithEnospcAndTheHostStaysBounded) {
  constexpr int64_t kReserved = 16LL << 20;
  auto v = create(spec("dd if=/dev/zero of=/fill bs=1M count=64; echo dd-exit=$?; sleep 1000", kReserved));
  ASSERT_TRUE(v) << v.error().message;
  const std::string id = v->row.id;
  ASSERT_TRUE(testing::poll_until([&] { return log_of(id).find("dd-exit=") != std::string::npos; }, 30s)) << log_of(id);
  const std::string log = log_of(id);
  EXPECT_NE(log.find("No space left on device"), std::string::npos) << log;
  EXPECT_EQ(log.find("dd-exit=0"), std::string::npos) << log;
  const int64_t used = host_bytes(dir_of(id));
  std::printf("host bytes of a session that tried to write 64 MiB into 16 MiB: %lld\n", static_cast<long long>(used));
  EXPECT_LE(used, kReserved + (1LL << 20));
  ASSERT_TRUE(manager_->stop(alice_.account_id(), id, "test"));
}

// Attack: 893 MiB of stdout in 5 s.
TEST_F(RuncSessionTest, AStdoutFloodLeavesAtMostTheCapOnDiskAndIsReadAtTheRate) {
  const auto t0 = std::chrono::steady_clock::now();
  auto v = create(spec("yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | head -c 1048576; echo; echo flood-done"));
  ASSERT_TRUE(v) << v.error().message;
  const std::string id = v->row.id;
  const SessionView end = wait_ended(id);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("1 MiB of output at 256 KiB/s took %.2f s\n", secs);
  // 1 MiB through a 256 KiB/s reader with one second of burst and a 64 KiB pipe: >= 2.7 s.
  EXPECT_GE(secs, 2.0);
  const std::string log_path = dir_of(id) + "/output.log";
  const int64_t on_disk = file_size(log_path) + file_size(log_path + ".1");
  EXPECT_LE(on_disk, opts_.log_max_bytes);
  EXPECT_TRUE(fs::exists(log_path + ".1"));  // it rotated: the oldest output was dropped
  const std::string log = log_of(id);
  EXPECT_NE(log.find("flood-done"), std::string::npos);
  EXPECT_LE(static_cast<int64_t>(log.size()), opts_.log_max_bytes);
  EXPECT_EQ(end.row.exit_code, 0);
}

// Attack: writable layers, logs and unpacked layers were kept forever.
TEST_F(RuncSessionTest, AfterStopNoFileMountOrLoopDeviceOfTheSessionRemains) {
  auto v = create(spec("echo started; sleep 1000", 16LL << 20));
  ASSERT_TRUE(v) << v.error().message;
  const std::string id = v->row.id;
  const std::string dir = dir_of(id);
  EXPECT_TRUE(session_disk_mounted(dir));
  EXPECT_EQ(loop_devices_backed_under(dir).size(), 1U);
  ASSERT_TRUE(testing::poll_until([&] { return log_of(id).find("started") != std::string::npos; }, 20s));

  auto stopped = manager_->stop(alice_.account_id(), id, "test");
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_TRUE(mounts_under(dir).empty());
  EXPECT_TRUE(testing::poll_until([&] { return loop_devices_backed_under(dir).empty(); }, 5s));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"output.log"});
  for (const auto& h : cg_.v1_hierarchies) EXPECT_FALSE(fs::exists(h + "/" + runc_.cgroup_parent + "/" + id)) << h;
  EXPECT_FALSE(fs::exists(runc_.state_root + "/" + id));
  EXPECT_NE(log_of(id).find("started"), std::string::npos);  // the log stays for `xop logs`

  // Once the retention passed, the log goes too.
  clock_.advance_ms(opts_.log_retention_ms);
  manager_->sample_all();
  EXPECT_FALSE(fs::exists(dir));
  auto gone = manager_->logs(alice_.account_id(), id, 1024);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kGone);
}

// Attack: 2 GiB written, 12 KiB metered.
TEST_F(RuncSessionTest, DiskWritesOfAKnownSizeAreMeteredWithinAFewPercent) {
  // The ground truth: what the two dd write, 8 MiB synced and 8 MiB left in the page cache at exit
  // (buffered writes are what cgroup v1 blkio never charged to the session).
  constexpr int64_t kWritten = 16LL << 20;
  auto v =
      create(spec("dd if=/dev/zero of=/f bs=1M count=8 conv=fsync && dd if=/dev/zero of=/g bs=1M count=8", 32LL << 20));
  ASSERT_TRUE(v) << v.error().message;
  const SessionView end = wait_ended(v->row.id);
  EXPECT_EQ(end.row.exit_code, 0) << log_of(v->row.id);
  const int64_t metered = end.metered.disk_bytes;
  std::printf("dd wrote %lld bytes; metered %lld (%.2f%%)\n", static_cast<long long>(kWritten),
              static_cast<long long>(metered), 100.0 * static_cast<double>(metered - kWritten) / kWritten);
  EXPECT_GE(metered, kWritten);
  EXPECT_LE(metered, kWritten + kWritten / 20);
  // ... and it is what the records charge for.
  EXPECT_EQ(recorded_disk(v->row.id), metered);
}

// A server crash (the manager gone without stopping anything): a running session is re-adopted
// with its disk; one whose workload ended meanwhile, and a directory nobody knows, are cleaned up
// at the next start.
TEST_F(RuncSessionTest, AfterACrashRunningSessionsAreReadoptedAndLeftoversCleaned) {
  auto a = create(spec("dd if=/dev/zero of=/f bs=1M count=2 conv=fsync; echo wrote; sleep 1000", 16LL << 20));
  ASSERT_TRUE(a) << a.error().message;
  auto b = create(spec("sleep 1000", 16LL << 20));
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_TRUE(testing::poll_until([&] { return log_of(a->row.id).find("wrote") != std::string::npos; }, 20s));
  manager_->sample_all();
  manager_->write_records();
  manager_.reset();  // the crash

  // b's workload dies while the server is down; an unknown session directory with a disk appears.
  auto killed = run_command({"runc", "--root", runc_.state_root, "kill", b->row.id, "KILL"}, 10s);
  ASSERT_TRUE(killed && killed->exit_code == 0) << (killed ? killed->err : killed.error().message);
  const std::string orphan = opts_.sessions_dir + "/s-orphan";
  ASSERT_TRUE(create_session_disk(orphan, 8LL << 20));
  ASSERT_TRUE(testing::poll_until(
      [&] {
        auto st = sandbox_->status(b->row.id);
        return st && st->state == SandboxState::kStopped;
      },
      10s));

  make_manager();
  ASSERT_TRUE(manager_->recover());
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(loop_devices_backed_under(orphan).empty());
  auto vb = manager_->get(alice_.account_id(), b->row.id);
  ASSERT_TRUE(vb);
  EXPECT_EQ(vb->row.state, "stopped");
  EXPECT_TRUE(mounts_under(dir_of(b->row.id)).empty());
  EXPECT_FALSE(fs::exists(dir_of(b->row.id) + "/disk.img"));
  EXPECT_FALSE(fs::exists(dir_of(b->row.id) + "/bundle"));

  auto va = manager_->get(alice_.account_id(), a->row.id);
  ASSERT_TRUE(va);
  EXPECT_EQ(va->row.state, "running");
  EXPECT_TRUE(session_disk_mounted(dir_of(a->row.id)));
  auto stopped = manager_->stop(alice_.account_id(), a->row.id, "test");
  ASSERT_TRUE(stopped);
  // The disk writes before the crash were metered once, not again after the re-adoption.
  const int64_t recorded = recorded_disk(a->row.id);
  EXPECT_GE(recorded, 2LL << 20);
  EXPECT_LE(recorded, (2LL << 20) + (2LL << 20) / 10);
  EXPECT_TRUE(mounts_under(dir_of(a->row.id)).empty());
  EXPECT_TRUE(testing::poll_until([&] { return loop_devices_backed_under(opts_.sessions_dir).empty(); }, 5s));
}

// Attack: an OOM kill was reported only as "status 137".
TEST_F(RuncSessionTest, AnOomKillIsRecordedAsTheExitReason) {
  auto v = create(spec("x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while :; do x=$x$x; done", 0, 16LL << 20));
  ASSERT_TRUE(v) << v.error().message;
  const SessionView end = wait_ended(v->row.id);
  EXPECT_EQ(end.row.exit_code, 137);
  EXPECT_EQ(end.row.exit_reason, "oom-killed") << end.row.reason;
  EXPECT_NE(end.row.reason.find("OOM killer"), std::string::npos) << end.row.reason;
  EXPECT_EQ(to_json(end).value("exit_reason", ""), "oom-killed");
  auto stored = store_->session(v->row.id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->exit_reason, "oom-killed");

  // A plain SIGKILL on stop is not an OOM kill: the reason names who stopped it.
  auto w = create(spec("trap '' TERM; sleep 1000"));
  ASSERT_TRUE(w) << w.error().message;
  auto stopped = manager_->stop(alice_.account_id(), w->row.id, "test");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->row.exit_reason, "stopped") << stopped->row.reason;
  EXPECT_EQ(stopped->row.exit_code, 137) << "it ignored SIGTERM and was killed after the grace";
}

// The image config's User, WorkingDir and Env reach the workload (it used to run as 0:0 in /).
TEST_F(RuncSessionTest, TheImagesUserWorkingDirAndEnvAreHonoured) {
  const std::string script = "echo uid=$(id -u) gid=$(id -g) groups=$(id -G) pwd=$(pwd) foo=$FOO";
  auto s = spec(script);
  s.image = put_user_image("1000:1000");
  auto v = create(s);
  ASSERT_TRUE(v) << v.error().message;
  wait_ended(v->row.id);
  const std::string log = log_of(v->row.id);
  // uid 1000 is "worker" in the image's /etc/passwd: its supplementary group (staff, 50) comes along.
  EXPECT_NE(log.find("uid=1000 gid=1000 groups=1000 50 pwd=/work foo=bar"), std::string::npos) << log;

  // A name resolves through the image's /etc/passwd and /etc/group (with its supplementary groups).
  s.image = put_user_image("worker");
  auto named = create(s);
  ASSERT_TRUE(named) << named.error().message;
  wait_ended(named->row.id);
  const std::string named_log = log_of(named->row.id);
  EXPECT_NE(named_log.find("uid=1000 gid=1001 groups=1001 50 pwd=/work foo=bar"), std::string::npos) << named_log;
}

// HOME comes from the image's /etc/passwd entry of the user it runs as ("/" without one), unless
// the image's Env or the manifest's env sets it, as runc and docker do.
TEST_F(RuncSessionTest, HomeComesFromTheImagesPasswdUnlessTheEnvSetsIt) {
  auto home_of = [&](const std::string& user, const std::vector<std::string>& image_env,
                     const std::map<std::string, std::string>& env) {
    auto s = spec("echo home=[$HOME]");
    s.image = put_user_image(user, image_env);
    s.env = env;
    auto v = create(s);
    EXPECT_TRUE(v) << v.error().message;
    if (!v) return std::string();
    wait_ended(v->row.id);
    const std::string log = log_of(v->row.id);
    const auto at = log.find("home=[");
    const auto end = log.find(']', at);
    return at == std::string::npos || end == std::string::npos ? log : log.substr(at + 6, end - at - 6);
  };
  EXPECT_EQ(home_of("worker", {}, {}), "/work");
  EXPECT_EQ(home_of("1000:50", {}, {}), "/work");  // by uid
  EXPECT_EQ(home_of("", {}, {}), "/root");         // no User: root's entry
  EXPECT_EQ(home_of("4242", {}, {}), "/");         // no entry
  EXPECT_EQ(home_of("worker", {"HOME=/from-image"}, {}), "/from-image");
  EXPECT_EQ(home_of("worker", {"HOME=/from-image"}, {{"HOME", "/from-manifest"}}), "/from-manifest");
  EXPECT_EQ(home_of("worker", {}, {{"HOME", "/from-manifest"}}), "/from-manifest");
}

// A User the image's files do not know fails the session's creation with a clear error.
TEST_F(RuncSessionTest, AnUnknownImageUserFailsCreationClearly) {
  auto s = spec("true");
  s.image = put_user_image("ghost");
  auto v = create(s);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(v.error().message.find("no user \"ghost\" in the image's /etc/passwd"), std::string::npos)
      << v.error().message;
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

// The session network through the SessionManager, with real runc: a spec's published port is
// listed in the session's view and reached from the host's loopback; a restart re-adopts the
// session's address and port from the state store; stop releases them.
TEST_F(RuncSessionTest, PublishedPortsAreListedReachedReadoptedAfterARestartAndReleasedOnStop) {
  if (auto why = session_network_unavailable_reason(); !why.empty()) GTEST_SKIP() << "session network: " << why;
  std::random_device rd;
  NetworkOptions no;
  no.bridge = "xt" + testing::rand_hex(8);
  no.pool = "10." + std::to_string(200 + rd() % 50) + "." + std::to_string(rd() % 256) + ".0/24";
  const uint16_t first = std::min<uint16_t>(testing::free_tcp_port(), 65000);
  no.port_range = std::to_string(first) + "-" + std::to_string(first + 40);
  no.state_file = t_.file("network.json");
  auto open_net = [&] {
    auto n = SessionNetwork::open(no);
    EXPECT_TRUE(n) << (n ? "" : n.error().message);
    net_ = n ? std::move(*n) : nullptr;
    opts_.network = net_.get();
    opts_.public_host = "127.0.0.1";
    make_manager();
  };
  open_net();
  ASSERT_TRUE(net_);

  SessionSpec s = spec(
      "mkdir -p /tmp/www && echo hello-from-session > /tmp/www/index.html && exec /bin/busybox httpd -f -p 8080 -h "
      "/tmp/www");
  s.ports = {PortSpec{"web", 8080, "tcp"}};
  auto v = create(s);
  ASSERT_TRUE(v) << v.error().message;
  const std::string id = v->row.id;
  ASSERT_EQ(v->endpoints.size(), 1u);
  const uint16_t hp = v->endpoints[0].port.host_port;
  EXPECT_EQ(v->endpoints[0].endpoint, "127.0.0.1:" + std::to_string(hp));
  EXPECT_EQ(v->endpoints[0].port.port, 8080);
  EXPECT_FALSE(v->address.empty());
  const std::string netns = "/run/netns/xop-" + id;
  EXPECT_TRUE(fs::exists(netns));
  auto fetch = [&](std::chrono::milliseconds d) {
    return testing::tcp_exchange("127.0.0.1", hp, "GET /index.html HTTP/1.0\r\n\r\n", d);
  };
  std::string got;
  EXPECT_TRUE(testing::poll_until(
      [&] {
        got = fetch(2s);
        return got.find("hello-from-session") != std::string::npos;
      },
      20s))
      << got << log_of(id);
  // The state store keeps the session's network for a restart.
  EXPECT_EQ((*store_->session(id))->network["address"], v->address);

  // The server goes down without stopping anything (sessions left running) and comes back.
  manager_.reset();
  net_->shutdown(/*sessions_left=*/true);
  open_net();
  ASSERT_TRUE(net_);
  ASSERT_TRUE(manager_->recover());
  auto again = manager_->get(alice_.account_id(), id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->row.state, "running");
  EXPECT_EQ(again->address, v->address);
  ASSERT_EQ(again->endpoints.size(), 1u);
  EXPECT_EQ(again->endpoints[0].port.host_port, hp);
  EXPECT_NE(fetch(10s).find("hello-from-session"), std::string::npos);
  // A new session gets another address and host port.
  SessionSpec s2 = spec("sleep 1000");
  s2.ports = {PortSpec{"web", 8080, "tcp"}};
  auto other = create(s2);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_NE(other->address, v->address);
  ASSERT_EQ(other->endpoints.size(), 1u);
  EXPECT_NE(other->endpoints[0].port.host_port, hp);

  // The bytes through its veth are metered.
  manager_->sample_all();
  EXPECT_GT(manager_->get(alice_.account_id(), id)->metered.net_bytes, 0);

  auto stopped = manager_->stop(alice_.account_id(), id, "test");
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_TRUE(stopped->address.empty());
  EXPECT_TRUE(stopped->endpoints.empty());
  EXPECT_FALSE(fs::exists(netns));
  EXPECT_EQ((*store_->session(id))->network, Json::object());
  EXPECT_EQ(fetch(1s), "");
  EXPECT_GT(stopped->metered.net_bytes, 0);
}

// A server whose sessions have loopback only refuses a spec that publishes ports.
TEST_F(RuncSessionTest, PortsAreRefusedWithoutASessionNetwork) {
  SessionSpec s = spec("sleep 1000");
  s.ports = {PortSpec{"web", 8080, "tcp"}};
  auto v = create(s);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(v.error().message.find("publishes no ports"), std::string::npos) << v.error().message;
}

}  // namespace
}  // namespace xop
