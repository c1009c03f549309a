// What idle sessions cost the host's XenoServer daemon: N idle sessions (default 300;
// --sessions=N or XOP_BENCH_SESSIONS) on one real session stack (session_bench_env.h: the runc
// driver, loop disks, the session network where the host can), sampled every second by
// SessionManager::sample_all() as the server's round does.
//
// The daemon is this process; with it count its shims (the per-session monitors, named
// "xop-shim") and the runtime processes either spawns (reaped ones are in their parent's
// cutime/cstime). Counters:
//   sessions                    the idle sessions that ran;
//   rss_per_session_kib         (daemon's RSS growth since before the first session + the shims'
//                               RSS) / sessions, from /proc/<pid>/smaps_rollup: RSS, so pages the
//                               shims share with each other count once per shim;
//   pss_per_session_kib         the same with PSS (shared pages divided among their users);
//   idle_cpu_percent_of_core    CPU (utime+stime+cutime+cstime from /proc/<pid>/stat) of the
//                               daemon and the shims over the idle window (XOP_BENCH_IDLE_S,
//                               default 20 s), in percent of one core;
//   sample_round_p50_ms/max_ms  how long one sample_all() took;
//   create_while_sampling_p50_ms/max_ms: create-to-running of 10 further sessions while sampling
//                               runs (a create must not wait a sampling round).
// Needs root (skips otherwise).
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "session_bench_env.h"

namespace xop {
namespace {

using bench::ms_since;
using bench::percentile_ms;

struct ProcCost {
  int64_t cpu_ticks = 0;  // utime + stime + cutime + cstime
  int64_t rss_kib = 0;
  int64_t pss_kib = 0;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// /proc/<pid>/stat and smaps_rollup; nullopt when the process is gone.
std::optional<ProcCost> read_cost(const std::string& pid, bool memory) {
  const std::string stat = slurp("/proc/" + pid + "/stat");
  const auto rp = stat.rfind(')');
  if (rp == std::string::npos) return std::nullopt;
  std::istringstream in(stat.substr(rp + 2));
  std::vector<std::string> f;
  for (std::string w; in >> w;) f.push_back(w);
  if (f.size() < 15) return std::nullopt;
  ProcCost c;
  // Fields after the comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  c.cpu_ticks = std::stoll(f[11]) + std::stoll(f[12]) + std::stoll(f[13]) + std::stoll(f[14]);
  if (memory) {
    std::istringstream sm(slurp("/proc/" + pid + "/smaps_rollup"));
    for (std::string line; std::getline(sm, line);) {
      int64_t v = 0;
      if (std::sscanf(line.c_str(), "Rss: %ld kB", &v) == 1) c.rss_kib = v;
      if (std::sscanf(line.c_str(), "Pss: %ld kB", &v) == 1) c.pss_kib = v;
    }
  }
  return c;
}

// The shims: processes named "xop-shim".
std::vector<std::string> shim_pids() {
  std::vector<std::string> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string comm = slurp("/proc/" + name + "/comm");
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (comm == "xop-shim") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

struct Snapshot {
  ProcCost self;
  std::map<std::string, ProcCost> shims;
};
Snapshot snapshot(bool memory) {
  Snapshot s;
  s.self = read_cost("self", memory).value_or(ProcCost{});
  for (const auto& p : shim_pids()) {
    if (auto c = read_cost(p, memory)) s.shims[p] = *c;
  }
  return s;
}

void BM_Density(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);
  const int n = bench::session_count(300);
  const char* idle_env = std::getenv("XOP_BENCH_IDLE_S");
  const int idle_s = idle_env != nullptr && std::atoi(idle_env) > 0 ? std::atoi(idle_env) : 20;
  std::string why;
  auto env = bench::SessionBenchEnv::open("runc", why);
  if (!env) {
    state.SkipWithError(("cannot build the session stack: " + why).c_str());
    return;
  }
  const size_t shims_before = shim_pids().size();  // other servers' shims on this host are not ours
  // Warm the daemon's own one-off costs (first create, allocator arenas) before the baseline.
  if (auto v = env->manager().create(env->user_id(), env->request(10)); v) {
    (void)env->manager().stop("", v->row.id, "warm-up");
  }
  const Snapshot base = snapshot(true);
  for (auto _ : state) {
    int started = 0;
    for (int i = 0; i < n; ++i) {
      auto v = env->manager().create(env->user_id(), env->request(10));
      if (!v) {
        state.SkipWithError(("create " + std::to_string(i) + " failed: " + v.error().message).c_str());
        return;
      }
      ++started;
    }
    // Sampling every second, as the server's round does.
    std::atomic<bool> done{false};
    std::mutex mu;
    std::condition_variable cv;
    std::vector<double> rounds;
    std::thread sampler([&] {
      std::unique_lock lock(mu);
      while (!done) {
        lock.unlock();
        const auto t0 = std::chrono::steady_clock::now();
        env->manager().sample_all();
        const double ms = ms_since(t0);
        lock.lock();
        rounds.push_back(ms);
        cv.wait_for(lock, std::chrono::seconds(1), [&] { return done.load(); });
      }
    });
    // Creates while sampling runs.
    std::vector<double> creates;
    for (int i = 0; i < 10; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      if (env->manager().create(env->user_id(), env->request(10))) creates.push_back(ms_since(t0));
    }
    // The idle window.
    const Snapshot a = snapshot(false);
    const auto t0 = std::chrono::steady_clock::now();
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, std::chrono::seconds(idle_s), [&] { return done.load(); });
    }
    const Snapshot b = snapshot(true);
    const double wall_s = ms_since(t0) / 1000.0;
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_all();
    sampler.join();

    int64_t ticks = b.self.cpu_ticks - a.self.cpu_ticks;
    int64_t shim_rss = 0;
    int64_t shim_pss = 0;
    for (const auto& [pid, c] : b.shims) {
      auto it = a.shims.find(pid);
      ticks += c.cpu_ticks - (it != a.shims.end() ? it->second.cpu_ticks : 0);
      shim_rss += c.rss_kib;
      shim_pss += c.pss_kib;
    }
    const int total = started + static_cast<int>(creates.size());
    const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    state.counters["sessions"] = total;
    state.counters["shims"] = static_cast<double>(b.shims.size() - std::min(b.shims.size(), shims_before));
    state.counters["idle_cpu_percent_of_core"] = 100.0 * (static_cast<double>(ticks) / hz) / wall_s;
    state.counters["rss_per_session_kib"] = static_cast<double>(b.self.rss_kib - base.self.rss_kib + shim_rss) / total;
    state.counters["pss_per_session_kib"] = static_cast<double>(b.self.pss_kib - base.self.pss_kib + shim_pss) / total;
    state.counters["daemon_rss_growth_kib"] = static_cast<double>(b.self.rss_kib - base.self.rss_kib);
    state.counters["shim_rss_kib_each"] = b.shims.empty() ? 0 : static_cast<double>(shim_rss) / b.shims.size();
    state.counters["shim_pss_kib_each"] = b.shims.empty() ? 0 : static_cast<double>(shim_pss) / b.shims.size();
    state.counters["sample_round_p50_ms"] = percentile_ms(rounds, 50);
    state.counters["sample_round_max_ms"] = percentile_ms(rounds, 100);
    state.counters["create_while_sampling_p50_ms"] = percentile_ms(creates, 50);
    state.counters["create_while_sampling_max_ms"] = percentile_ms(creates, 100);
    state.counters["idle_window_s"] = wall_s;
    state.PauseTiming();
    env->manager().stop_all("bench over");
    state.ResumeTiming();
  }
  state.SetLabel(std::string("runc") + (env->has_network() ? " (session network)" : " (loopback only)"));
}

}  // namespace
}  // namespace xop

int main(int argc, char** argv) {
  xop::bench::take_sessions_flag(&argc, argv);
  if (::geteuid() != 0 || xop::bench::drivers_present().empty()) {
    std::fprintf(stderr, "density_bench needs root and runc (real sessions); nothing to measure\n");
    return 77;  // ctest: skipped
  }
  {
    benchmark::RegisterBenchmark("BM_Density", xop::BM_Density)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
