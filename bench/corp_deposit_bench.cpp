// Latency of one deposit against a real corp (SQLite on disk, synced; real HTTP on loopback),
// signed like the CLI signs it: without an Idempotency-Key, with a fresh key (the answer is
// stored in the deposit's own SQLite transaction), and a replay of a stored key (no money moves;
// the stored answer is read back). docs/benchmarks.md has the numbers.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "bench_support.h"
#include "client/api_client.h"
#include "core/clock.h"
#include "corp/corp_service.h"
#include "net/http_server.h"

namespace xop {
namespace {

struct Corp {
  std::string dir = bench::temp_dir();
  KeyPair admin = KeyPair::generate();
  KeyPair user = KeyPair::generate();
  std::unique_ptr<CorpService> svc;
  std::unique_ptr<HttpServer> http;
  Endpoint ep;

  Corp() {
    CorpOptions o;
    o.db_path = dir + "/corp.db";
    o.admin_key = admin.public_key();
    auto s = CorpService::open(o, KeyPair::generate(), SystemClock::instance());
    if (!s) std::abort();
    svc = std::move(*s);
    http = std::make_unique<HttpServer>(HttpServerOptions{}, svc->router());
    if (!http->start()) std::abort();
    ep = *parse_endpoint(http->url());
    ApiClient c(ep, user);
    if (!c.call("POST", "/v1/accounts", Json{{"kind", "user"}, {"name", "bench"}})) std::abort();
  }
  ~Corp() {
    http->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  [[nodiscard]] std::string body() const {
    return Json{{"account", user.account_id()}, {"amount_micros", 1}, {"memo", "bench"}}.dump();
  }
};

// mode 0: no key; 1: a fresh key per deposit; 2: the same key every time (replays).
void BM_Deposit(benchmark::State& state) {
  Corp corp;
  ApiClient c(corp.ep, corp.admin);
  const std::string body = corp.body();
  int64_t n = 0;
  for (auto _ : state) {
    std::map<std::string, std::string> h;
    if (state.range(0) == 1) h["Idempotency-Key"] = "k" + std::to_string(++n);
    if (state.range(0) == 2) h["Idempotency-Key"] = "the-same-key";
    auto r = c.call_raw("POST", "/v1/deposits", body, "application/json", h);
    if (!r || r->status != 200) state.SkipWithError("deposit failed");
  }
  auto check = corp.svc->check_ledger();
  if (!check || !check->balanced) state.SkipWithError("ledger does not balance");
  // A replay moves nothing: one deposit in all.
  if (state.range(0) == 2 && check && check->deposited != 1) state.SkipWithError("a replay moved money");
  if (state.range(0) != 2 && check && check->deposited != static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("deposits were lost");
  }
}
BENCHMARK(BM_Deposit)->ArgName("mode")->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace xop
