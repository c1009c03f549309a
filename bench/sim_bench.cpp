// How fast the simulated platform (sim/platform.h, in-process wiring) runs: the wall time of one
// simulated hour of a whole platform (corp, XIS, N servers) with one session per server burning
// a quarter core, at the intervals the scenario tests use (sample 5 s, records every minute,
// adverts every 30 s). The target (issue 13.3) is under a second per simulated hour.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "bench_support.h"
#include "client/api_client.h"
#include "deploy/deployer.h"
#include "sim/platform.h"

namespace xop {
namespace {

using bench::temp_dir;

void BM_SimulatedHour(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);
  const int servers = static_cast<int>(state.range(0));
  const std::string dir = temp_dir();
  SimulatedClock clock;
  PlatformOptions o;
  o.data_dir = dir;
  o.servers = servers;
  o.sim_clock = &clock;
  o.seed = 1;
  o.sample_interval_ms = 5'000;
  o.charging_interval_ms = 60'000;
  o.advert_interval_ms = 30'000;
  auto platform = Platform::start(o);
  if (!platform) {
    state.SkipWithError(platform.error().message.c_str());
    return;
  }
  Platform& p = **platform;
  KeyPair user = p.new_key();
  auto corp = ApiClient::connect(p.corp_url(), user, clock, p.connector());
  (void)corp->call("POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "bench"}});
  auto admin = ApiClient::connect(p.corp_url(), p.admin_key(), clock, p.connector());
  (void)admin->call("POST", "/v1/deposits", Json{{"account", user.account_id()}, {"amount_micros", int64_t{1} << 50}});

  DeployManifest m;
  m.name = "bench";
  m.image = std::string(XOP_BENCH_IMAGE);
  m.command = {"/bin/sh", "-c", "true"};
  m.env = {{"XOP_SIM_CPU_MILLICORES", "250"}};
  m.resources.cpu_millis = 500;
  m.resources.memory_bytes = 64 << 20;
  m.count = servers;
  m.near = GeoPoint{48'856'600, 2'352'200};
  m.budget = Money::micros(int64_t{1} << 40);
  Deployer d(user, p.corp_url(), p.xis_url(), dir + "/scratch", clock);
  d.set_connector(p.connector());
  auto r = d.deploy(m, nullptr);
  if (!r) {
    state.SkipWithError(r.error().message.c_str());
    return;
  }
  for (auto _ : state) p.advance(3'600'000);
  state.counters["servers"] = servers;
  state.counters["sessions"] = static_cast<double>(r->outcomes.size());
  p.stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_SimulatedHour)->Arg(3)->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace xop
