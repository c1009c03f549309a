// How long a deployment takes: from Deployer::deploy() (read the image, search XIS, upload blobs,
// purchase orders, create sessions, in parallel) until every session runs, on an all-in-one
// platform on loopback (Platform: separate HTTP services in one process). With root, real runc
// sandboxes; otherwise the mock driver (then only the control plane is measured). Each iteration
// deploys fresh sessions and stops them afterwards (stopping is not timed).
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

void BM_Deploy(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);
  const int servers = static_cast<int>(state.range(0));
  const bool real = ::geteuid() == 0;
  const std::string dir = temp_dir();
  PlatformOptions o;
  o.data_dir = dir;
  o.servers = servers;
  o.runtime = real ? "runc" : "mock";
  o.charging_interval_ms = 60'000;
  auto platform = Platform::start(o);
  if (!platform) {
    state.SkipWithError(platform.error().message.c_str());
    return;
  }
  KeyPair user = KeyPair::generate();
  auto corp = ApiClient::connect((*platform)->corp_url(), user);
  (void)corp->call("POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "bench"}});
  auto admin = ApiClient::connect((*platform)->corp_url(), (*platform)->admin_key());
  (void)admin->call("POST", "/v1/deposits", Json{{"account", user.account_id()}, {"amount_micros", int64_t{1} << 50}});

  DeployManifest m;
  m.name = "bench";
  m.image = std::string(XOP_BENCH_IMAGE);
  m.command = {"/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"};
  m.resources.cpu_millis = 100;
  m.resources.memory_bytes = 16 << 20;
  m.count = servers;
  m.near = GeoPoint{48'856'600, 2'352'200};
  m.budget = Money::micros(1'000'000);
  Deployer d(user, (*platform)->corp_url(), (*platform)->xis_url(), dir + "/scratch");
  size_t ok = 0;
  for (auto _ : state) {
    auto r = d.deploy(m, nullptr);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    state.PauseTiming();
    for (const auto& out : r->outcomes) {
      if (!out.ok) continue;
      ++ok;
      auto server = ApiClient::connect(out.endpoint, user);
      (void)server->call("DELETE", "/v1/sessions/" + out.session);
    }
    state.ResumeTiming();
  }
  state.counters["sessions"] = static_cast<double>(ok);
  state.SetLabel(real ? "runc" : "mock (not root)");
  (*platform)->stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_Deploy)->Arg(1)->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace
}  // namespace xop
