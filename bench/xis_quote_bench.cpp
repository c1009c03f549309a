// The query engine (xis/query_engine.h) over 1k / 10k / 100k live adverts, as XisService runs it:
//  - BM_QuoteExplain: the full scan with explain (every predicate evaluated for every advert,
//    removal counts, examples), the query 10 servers near a point within 3000 km, with a resource
//    minimum, a price ceiling and a sandbox;
//  - BM_QuoteRelax: the same query made too strict (a price ceiling nobody meets), so the quote
//    also computes relaxations (two more passes over the failing adverts);
//  - BM_QuoteOrdered: no explain, ranked by distance, from the reference ordered visit (a sort of
//    the live adverts: what the advert store's index replaces), stopping once 10 are chosen.
// Counters: answer_bytes (the JSON quote: bounded, unlike POST /v1/search's), chosen.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>

#include "random_advert.h"
#include "xis/query_engine.h"

namespace xop {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

struct World {
  std::vector<StoredAdvert> stored;
  std::vector<const StoredAdvert*> ptrs;
};

World& world(size_t n) {
  static std::map<size_t, std::unique_ptr<World>> worlds;
  auto& w = worlds[n];
  if (w) return *w;
  w = std::make_unique<World>();
  std::mt19937_64 rng(n);
  w->stored.reserve(n);
  const char* countries[] = {"FR", "DE", "GB", "US", "JP", "BR"};
  for (size_t i = 0; i < n; ++i) {
    const KeyPair k = KeyPair::generate();
    Rates rates;
    Advert a = bench::random_advert(k, rng, static_cast<int>(i), kStart, &rates);
    a.country = countries[rng() % 6];
    SignedDoc doc = *SignedDoc::sign(kAdvertType, to_json(a), k);
    w->stored.push_back(StoredAdvert{std::move(a), std::move(doc), rates, kStart, kStart + 3'600'000, "", 0});
  }
  for (const auto& s : w->stored) w->ptrs.push_back(&s);
  std::sort(w->ptrs.begin(), w->ptrs.end(),
            [](const StoredAdvert* a, const StoredAdvert* b) { return a->advert.server < b->advert.server; });
  return *w;
}

std::unique_ptr<PreparedQuery> prepared(const World& w, int64_t max_price_micros, bool explain) {
  const std::string text = R"({"reservation": {"cpu_millis": 2000, "memory_bytes": 4294967296}, "count": 10,
      "near": {"lat_e6": 51507400, "lon_e6": -127800}, "rank": "distance", "explain": )" +
                           std::string(explain ? "true" : "false") + R"(, "where": {"all": [
      {"free": {"cpu_millis": 2000, "memory_bytes": 4294967296}}, {"max_price_per_hour_micros": )" +
                           std::to_string(max_price_micros) + R"(}, {"sandbox": "runc"}, {"within_km": 3000}]}})";
  auto q = query_from_json(*parse_json(text));
  if (!q) std::abort();
  auto pq = prepare_query(*q, coord_lookup_over(w.ptrs));
  if (!pq) std::abort();
  return std::move(*pq);
}

void run_explained(benchmark::State& state, int64_t max_price) {
  World& w = world(static_cast<size_t>(state.range(0)));
  const auto pq = prepared(w, max_price, true);
  Quote q;
  for (auto _ : state) {
    q = run_query(*pq, w.ptrs, kStart + 1);
    benchmark::DoNotOptimize(q);
  }
  state.counters["answer_bytes"] = static_cast<double>(to_json(q).dump().size());
  state.counters["chosen"] = static_cast<double>(q.chosen.size());
  state.counters["relaxations"] = static_cast<double>(q.relaxations.size());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_QuoteExplain(benchmark::State& state) { run_explained(state, 2'500'000); }
void BM_QuoteRelax(benchmark::State& state) { run_explained(state, 1); }

void BM_QuoteOrdered(benchmark::State& state) {
  World& w = world(static_cast<size_t>(state.range(0)));
  const auto pq = prepared(w, 2'500'000, false);
  Quote q;
  for (auto _ : state) {
    q = run_query_ordered(
        *pq, [&](const OrderedFn& fn) { visit_sorted_geo(w.ptrs, *pq->query.near, kStart + 1, fn); }, kStart + 1);
    benchmark::DoNotOptimize(q);
  }
  // The ordered answer is the full scan's (checked once, outside the timing).
  const Quote full = run_query(*pq, w.ptrs, kStart + 1);
  if (full.chosen.size() != q.chosen.size()) std::abort();
  for (size_t i = 0; i < q.chosen.size(); ++i) {
    if (full.chosen[i].advert.server != q.chosen[i].advert.server) std::abort();
  }
  state.counters["answer_bytes"] = static_cast<double>(to_json(q).dump().size());
  state.counters["chosen"] = static_cast<double>(q.chosen.size());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_QuoteExplain)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QuoteRelax)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QuoteOrdered)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace xop
