// XenoSearch over 1k / 10k / 100k live adverts:
//  - BM_RankCore: the deterministic ranking core alone (no lock, no signatures);
//  - BM_ServiceSearch: XisService::search (shared lock, live snapshot, ranking, copies of results);
//  - BM_SearchJson: the same plus the JSON answer the HTTP handler would send;
//  - BM_Accept: verifying and storing one signed advert (two Ed25519 verifications).
// Queries ask for 10 servers near a point with a resource minimum, a price ceiling and a sandbox,
// so roughly half the servers are rejected by filters and the rest by the count cut: every live
// server is ranked and given a reason, as the API promises.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>

#include "core/clock.h"
#include "proto/search.h"
#include "random_advert.h"
#include "xis/ranking.h"
#include "xis/xis_service.h"

namespace xop {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

struct World {
  std::vector<KeyPair> keys;
  std::vector<SignedDoc> docs;
  std::vector<StoredAdvert> stored;
  std::vector<const StoredAdvert*> ptrs;
  SimulatedClock clock{kStart};
  std::unique_ptr<XisService> svc;
};

// Worlds are built once per size (signing 100k adverts takes a few seconds).
World& world(size_t n) {
  static std::map<size_t, std::unique_ptr<World>> worlds;
  auto& w = worlds[n];
  if (w) return *w;
  w = std::make_unique<World>();
  XisOptions opts;
  opts.max_ttl_ms = 3'600'000;
  opts.max_adverts = n + 1;
  opts.max_stored_bytes = (n + 1) * kMaxAdvertBytes;
  w->svc = std::make_unique<XisService>(opts, w->clock);
  std::mt19937_64 rng(n);
  w->stored.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    w->keys.push_back(KeyPair::generate());
    Rates rates;
    Advert a = bench::random_advert(w->keys.back(), rng, static_cast<int>(i), kStart, &rates);
    SignedDoc doc = *SignedDoc::sign(kAdvertType, to_json(a), w->keys.back());
    if (!w->svc->accept(doc)) std::abort();
    w->stored.push_back(StoredAdvert{std::move(a), doc, rates, kStart, kStart + 3'600'000, "", 0});
    w->docs.push_back(std::move(doc));
  }
  // In server-id order, as the store hands them to the core.
  for (const auto& s : w->stored) w->ptrs.push_back(&s);
  std::sort(w->ptrs.begin(), w->ptrs.end(),
            [](const StoredAdvert* a, const StoredAdvert* b) { return a->advert.server < b->advert.server; });
  return *w;
}

SearchQuery typical_query() {
  SearchQuery q;
  q.min = Resources{2000, 4LL << 30, 0, 0};
  q.max_price_per_hour = Money::micros(2'500'000);
  q.near = GeoPoint{51'507'400, -127'800};
  q.sandbox = "runc";
  q.count = 10;
  return q;
}

void BM_RankCore(benchmark::State& state) {
  World& w = world(static_cast<size_t>(state.range(0)));
  const auto q = typical_query();
  size_t candidates = 0;
  size_t cut = 0;
  for (auto _ : state) {
    auto r = rank_adverts(w.ptrs, q, kStart + 1);
    candidates = r.candidates.size();
    cut = static_cast<size_t>(std::count_if(r.rejected.begin(), r.rejected.end(),
                                            [](const Rejection& x) { return x.reason.starts_with("not among"); }));
    benchmark::DoNotOptimize(r);
  }
  state.counters["candidates"] = static_cast<double>(candidates);
  state.counters["cut_by_count"] = static_cast<double>(cut);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_ServiceSearch(benchmark::State& state) {
  World& w = world(static_cast<size_t>(state.range(0)));
  const auto q = typical_query();
  for (auto _ : state) {
    auto r = w.svc->search(q);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_SearchJson(benchmark::State& state) {
  World& w = world(static_cast<size_t>(state.range(0)));
  const auto q = typical_query();
  size_t bytes = 0;
  for (auto _ : state) {
    auto body = to_json(w.svc->search(q)).dump();
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["response_bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_Accept(benchmark::State& state) {
  World& w = world(static_cast<size_t>(state.range(0)));
  // The benchmark function runs several times on the same world: refreshes must keep moving forward.
  static std::mt19937_64 rng(99);
  static size_t i = 0;
  static TimeMs issued = kStart + 1;
  // Refreshes of existing servers: signed outside the timed region.
  for (auto _ : state) {
    state.PauseTiming();
    const KeyPair& k = w.keys[i++ % w.keys.size()];
    Rates rates;
    Advert a = bench::random_advert(k, rng, 0, ++issued, &rates);
    SignedDoc doc = *SignedDoc::sign(kAdvertType, to_json(a), k);
    w.clock.set_ms(issued);
    state.ResumeTiming();
    if (auto st = w.svc->accept(doc); !st) {
      state.SkipWithError(st.error().to_string().c_str());
      break;
    }
  }
}

BENCHMARK(BM_RankCore)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ServiceSearch)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SearchJson)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Accept)->Arg(100'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace xop
