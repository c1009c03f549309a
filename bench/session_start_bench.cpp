// Create-to-running latency of sessions, per driver present (runc; crun where the host's cgroup
// layout allows it), side by side in the same run with the bare runtime starting the same
// kind of bundle: `<runtime> run --detach` of a config.json the driver makes (make_runc_config)
// over a root file system of the same cached image, stdio on /dev/null.
//
//   platform: SessionManager::create() of a cached image until it answers "running" (admission,
//             session disk + mkfs, network namespace + veth, rootfs mount, bundle, runtime under
//             the shim, row written), on the real stack of session_bench_env.h;
//   bare:     the runtime's "run --detach" alone, until it returned.
//
// N sequential, then N concurrent creates (N = --sessions=N or XOP_BENCH_SESSIONS, default 100);
// the sessions of a batch are stopped afterwards (not timed). Counters per driver (the
// benchmark's label): bare_p50_ms, platform_p50_ms, overhead_p50_ms, overhead_p99_ms (platform
// minus bare, percentile by percentile), overhead_ratio_p50, the same with a concurrent_ prefix,
// tiny_cpu_p50_ms (create-to-running of a 10 milli-core session) and phase_<name>_p50_ms, the
// breakdown of the sequential creates, which is also printed. Needs root (skips otherwise).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "server/sandbox_bundle.h"
#include "server/sandbox_process.h"
#include "session_bench_env.h"

extern char** environ;

namespace xop {
namespace {

using bench::ms_since;
using bench::percentile_ms;

// Runs argv with stdio on /dev/null (a detached container keeps its stdio: a pipe would never
// close) and returns its exit code.
int run_quiet(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return 127;
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

// Runs `one(i)` for i in [0, n) all at once (one thread each), returning each one's time.
template <typename F>
std::vector<double> concurrently(int n, F one) {
  std::vector<double> ms(static_cast<size_t>(n), -1);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&ms, &one, i] {
      const auto t0 = std::chrono::steady_clock::now();
      if (one(i)) ms[static_cast<size_t>(i)] = ms_since(t0);
    });
  }
  for (auto& t : threads) t.join();
  std::erase_if(ms, [](double v) { return v < 0; });
  return ms;
}

// The bare runtime over the same image: one rootfs (read-only root, shared by the containers),
// one bundle per container.
class BareRuntime {
 public:
  BareRuntime(bench::SessionBenchEnv& env, std::string& why) : env_(env) {
    root_ = env.dir() + "/bare";
    auto rootfs = env.images().prepare_rootfs(env.image(), root_ + "/image");
    if (!rootfs) {
      why = rootfs.error().message;
      return;
    }
    rootfs_ = *rootfs;
    ok_ = true;
  }
  ~BareRuntime() {
    for (const auto& id : started_) run_quiet({env_.runtime(), "--root", root_ + "/rt", "delete", "--force", id});
    (void)env_.images().release_rootfs(root_ + "/image");
    // The runtime removed each container's cgroups; their parent goes too.
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
      std::filesystem::remove(e.path().string() + "/" + env_.cgroup_parent() + "-bare", ec);
    }
  }
  BareRuntime(const BareRuntime&) = delete;
  BareRuntime& operator=(const BareRuntime&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }

  // Writes a bundle for container `id` (not timed).
  bool prepare(const std::string& id) {
    SandboxSpec spec;
    spec.id = id;
    spec.rootfs = rootfs_;
    spec.args = {"/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"};
    spec.reserved.cpu_millis = 100;
    spec.reserved.memory_bytes = 16LL << 20;
    spec.pids_limit = 16;
    const std::string dir = root_ + "/b/" + id;
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/config.json") << make_runc_config(spec, "/" + env_.cgroup_parent() + "-bare/" + id).dump(2);
    return true;
  }
  // "run --detach" of a prepared bundle; true when it succeeded.
  bool run(const std::string& id) {
    const int rc = run_quiet({env_.runtime(), "--root", root_ + "/rt", "run", "--detach", "--no-new-keyring",
                              "--bundle", root_ + "/b/" + id, id});
    std::lock_guard lock(mu_);
    started_.push_back(id);
    return rc == 0;
  }
  void remove_all() {
    std::vector<std::string> ids;
    {
      std::lock_guard lock(mu_);
      ids.swap(started_);
    }
    for (const auto& id : ids) run_quiet({env_.runtime(), "--root", root_ + "/rt", "delete", "--force", id});
  }

 private:
  bench::SessionBenchEnv& env_;
  std::string root_;
  std::string rootfs_;
  bool ok_ = false;
  std::mutex mu_;
  std::vector<std::string> started_;
};

void stop_all(bench::SessionBenchEnv& env) { env.manager().stop_all("batch over"); }

void set_counters(benchmark::State& state, const std::string& prefix, const std::vector<double>& bare,
                  const std::vector<double>& platform) {
  const double b50 = percentile_ms(bare, 50);
  const double p50 = percentile_ms(platform, 50);
  state.counters[prefix + "bare_p50_ms"] = b50;
  state.counters[prefix + "bare_p99_ms"] = percentile_ms(bare, 99);
  state.counters[prefix + "platform_p50_ms"] = p50;
  state.counters[prefix + "platform_p99_ms"] = percentile_ms(platform, 99);
  state.counters[prefix + "overhead_p50_ms"] = p50 - b50;
  state.counters[prefix + "overhead_p99_ms"] = percentile_ms(platform, 99) - percentile_ms(bare, 99);
  state.counters[prefix + "overhead_ratio_p50"] = b50 > 0 ? p50 / b50 : 0;
  state.counters[prefix + "samples"] = static_cast<double>(std::min(bare.size(), platform.size()));
}

void BM_SessionStart(benchmark::State& state, const std::string& driver) {
  spdlog::set_level(spdlog::level::warn);
  const int n = bench::session_count(100);
  std::string why;
  auto env = bench::SessionBenchEnv::open(driver, why);
  if (!env) {
    state.SkipWithError(("cannot build the session stack: " + why).c_str());
    return;
  }
  BareRuntime bare(*env, why);
  if (!bare.ok()) {
    state.SkipWithError(("cannot prepare the bare bundle: " + why).c_str());
    return;
  }
  for (auto _ : state) {
    // Warm-up: page cache, first loop device, first netns.
    (void)env->manager().create(env->user_id(), env->request());
    bare.prepare("warm");
    (void)bare.run("warm");
    stop_all(*env);
    bare.remove_all();

    // Sequential, interleaved (bare, then platform) so that both see the same host state.
    std::vector<double> bare_seq;
    std::vector<double> plat_seq;
    std::map<std::string, std::vector<double>> phases;
    std::vector<std::string> phase_order;
    for (int i = 0; i < n; ++i) {
      const std::string id = "bare-s" + std::to_string(i);
      bare.prepare(id);
      auto t0 = std::chrono::steady_clock::now();
      if (bare.run(id)) bare_seq.push_back(ms_since(t0));
      t0 = std::chrono::steady_clock::now();
      auto v = env->manager().create(env->user_id(), env->request());
      if (!v) {
        state.SkipWithError(("create failed: " + v.error().message).c_str());
        return;
      }
      plat_seq.push_back(ms_since(t0));
      for (const auto& p : v->start_phases) {
        if (!phases.contains(p.name)) phase_order.push_back(p.name);
        phases[p.name].push_back(static_cast<double>(p.ns) / 1e6);
      }
    }
    stop_all(*env);
    bare.remove_all();
    set_counters(state, "", bare_seq, plat_seq);

    std::fprintf(stderr, "\n%s: where a sequential create's time goes (p50 of %d creates, ms)\n", driver.c_str(), n);
    double sum = 0;
    for (const auto& name : phase_order) {
      const double p = percentile_ms(phases[name], 50);
      sum += p;
      state.counters["phase_" + name + "_p50_ms"] = p;
      std::fprintf(stderr, "  %-10s %8.2f\n", name.c_str(), p);
    }
    std::fprintf(stderr, "  %-10s %8.2f   (create-to-running p50 %.2f; bare %s run --detach p50 %.2f)\n", "sum", sum,
                 percentile_ms(plat_seq, 50), driver.c_str(), percentile_ms(bare_seq, 50));

    // Concurrent: N at once, bare first, then the platform.
    for (int i = 0; i < n; ++i) bare.prepare("bare-c" + std::to_string(i));
    auto bare_con = concurrently(n, [&](int i) { return bare.run("bare-c" + std::to_string(i)); });
    bare.remove_all();
    auto plat_con =
        concurrently(n, [&](int) { return env->manager().create(env->user_id(), env->request()).has_value(); });
    stop_all(*env);
    set_counters(state, "concurrent_", bare_con, plat_con);

    // A 10 milli-core reservation: its CFS quota must not throttle the runtime's own set-up.
    std::vector<double> tiny;
    for (int i = 0; i < std::min(n, 10); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      if (env->manager().create(env->user_id(), env->request(10)).has_value()) tiny.push_back(ms_since(t0));
    }
    stop_all(*env);
    state.counters["tiny_cpu_p50_ms"] = percentile_ms(tiny, 50);
    state.counters["tiny_cpu_max_ms"] = percentile_ms(tiny, 100);
  }
  state.counters["sessions"] = n;
  state.SetLabel(driver + (env->has_network() ? " (session network)" : " (loopback only)"));
}

}  // namespace
}  // namespace xop

int main(int argc, char** argv) {
  xop::bench::take_sessions_flag(&argc, argv);
  std::vector<std::string> skipped;
  if (::geteuid() != 0) {
    std::fprintf(stderr, "session_start_bench needs root (real runc sessions); nothing to measure\n");
  } else {
    for (const auto& d : xop::bench::drivers_present(&skipped)) {
      benchmark::RegisterBenchmark(("BM_SessionStart/" + d).c_str(),
                                   [d](benchmark::State& s) { xop::BM_SessionStart(s, d); })
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  for (const auto& s : skipped) std::fprintf(stderr, "skipping driver %s\n", s.c_str());
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
