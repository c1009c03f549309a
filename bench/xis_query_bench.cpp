// XIS at scale (issue 6, "Performance"): `xis_query_bench [ADVERTS] [benchmark flags]`, ADVERTS
// default 20,000 (a quick smoke run); the targets are stated for 1,000,000. One run reports:
//  - BM_Ingest: the first ingestion of ADVERTS signed adverts from their wire form (HTTP body:
//    parse, both signatures verified, decode, store with its indexes), on 2 threads:
//    ingest_first_per_second; bytes_per_advert = the growth of the process's resident set over
//    that ingestion divided by ADVERTS (the store, its indexes and malloc's overhead; the wire
//    bodies existed before and after).
//  - BM_Refresh: refreshes of min(ADVERTS, 200,000) servers from the wire (a new advert
//    signature, the same price sheet), on 2 threads: ingest_per_second. The price sheet is
//    verified again: the advert decoder (proto/advert.h) verifies the embedded sheet through the
//    process's memory of verified documents (crypto/verified_signatures.h), 4,096 entries, which
//    a million servers refreshing round-robin always miss.
//  Both report the CPU time of each step per advert (parse, advert signature, checks = decode with
//  the price sheet's signature, store).
//  - BM_QueryGeo / BM_QueryRtt: nearest-10 by great-circle distance / by estimated RTT with three
//    filters (free cpu, free memory, sandbox "runc") and an hourly price ceiling
//    (hourly_reservation_price), through the store's index visits: query_p50_ms, query_p99_ms
//    (one thread), queries_per_second (2 threads at once); then a brute-force scan of the same
//    data for some of the same queries: scan_ms (mean), speedup (scan / indexed mean) and
//    agreement (the fraction of queries whose indexed and scanned answers are identical, servers
//    and distances; anything but 1 fails the run loudly).
//  - BM_Placement: 5 servers for 20 users among 100,000 candidates (xis/placement.h, k-center).
// The filter is local to this bench (the query engine of src/xis/query_engine.* is being written
// in parallel); it applies the ranking core's rules (xis/ranking.h).
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "../tests/support/builders.h"  // relative: benches do not have tests/ on the path
#include "core/json_reader.h"
#include "proto/charge.h"
#include "proto/xis_bodies.h"
#include "xis/advert_store.h"
#include "xis/placement.h"

namespace xop {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr int64_t kGiB = 1LL << 30;
constexpr int kThreads = 2;
constexpr size_t kK = 10;

size_t g_adverts = 20'000;
bool g_failed = false;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU time of the whole process (all threads), and of the calling thread, in seconds.
double process_cpu_s() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
double thread_cpu_s() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0;
  size_t resident = 0;
  f >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

template <class Fn>
void parallel(size_t n, const Fn& fn) {
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < n; i += kThreads) fn(i);
    });
  }
  for (auto& th : ts) th.join();
}

// Where servers are: around big metropolitan areas (2 degrees of spread), a sixth anywhere.
constexpr std::pair<double, double> kMetros[] = {
    {35.68, 139.65},  {28.61, 77.21},  {31.23, 121.47}, {-23.55, -46.63}, {19.43, -99.13}, {30.04, 31.24},
    {19.08, 72.88},   {39.90, 116.41}, {23.81, 90.41},  {34.69, 135.50},  {40.71, -74.01}, {24.86, 67.01},
    {-34.60, -58.38}, {41.01, 28.98},  {6.52, 3.38},    {14.60, 120.98},  {-4.44, 15.27},  {55.76, 37.62},
    {-22.91, -43.17}, {51.51, -0.13},  {48.86, 2.35},   {37.57, 126.98},  {-6.21, 106.85}, {34.05, -118.24},
    {41.88, -87.63},  {52.52, 13.40},  {1.35, 103.82},  {-33.87, 151.21}, {43.65, -79.38}, {50.11, 8.68}};

GeoPoint random_place(std::mt19937_64& rng) {
  std::normal_distribution<double> spread(0, 2.0);
  double lat = 0;
  double lon = 0;
  if (rng() % 6 == 0) {
    lat = std::uniform_real_distribution<double>(-60, 70)(rng);
    lon = std::uniform_real_distribution<double>(-180, 180)(rng);
  } else {
    const auto& m = kMetros[rng() % std::size(kMetros)];
    lat = std::clamp(m.first + spread(rng), -89.0, 89.0);
    lon = m.second + spread(rng);
    if (lon > 180) lon -= 360;
    if (lon < -180) lon += 360;
  }
  return GeoPoint{std::llround(lat * 1e6), std::llround(lon * 1e6)};
}

// A network coordinate as Vivaldi would settle on one: the point on a sphere of Earth's radius in
// RTT-ms (light in fibre, there and back: ~100 km per ms), some noise, an access-link height.
Coordinate coordinate_near(const GeoPoint& g, std::mt19937_64& rng) {
  constexpr double kRad = M_PI / 180.0 / 1e6;
  constexpr double kRadiusMs = 6371.0 / 100.0;
  std::normal_distribution<double> noise(0, 3.0);
  std::exponential_distribution<double> height(1.0 / 5.0);
  const double la = static_cast<double>(g.lat_e6) * kRad;
  const double lo = static_cast<double>(g.lon_e6) * kRad;
  Coordinate c;
  c.vec = {kRadiusMs * std::cos(la) * std::cos(lo) + noise(rng), kRadiusMs * std::cos(la) * std::sin(lo) + noise(rng),
           kRadiusMs * std::sin(la) + noise(rng)};
  c.height = std::min(0.5 + height(rng), 200.0);
  c.error = 0.2;
  return c;
}

std::string wire(const KeyPair& k, const Advert& a) {
  return Json{{"advert", SignedDoc::sign(kAdvertType, to_json(a), k)->to_json()}}.dump();
}

struct World {
  size_t n = 0;
  std::vector<std::string> first;    // per server: its first advert, as an HTTP body
  std::vector<std::string> refresh;  // the first `refresh.size()` servers: a newer advert, same price sheet
  std::unique_ptr<AdvertStore> store;
  bool ingested = false;  // the first adverts are in the store
};

World& world() {
  static World* w = nullptr;
  if (w) return *w;
  w = new World;
  w->n = g_adverts;
  w->first.resize(w->n);
  w->refresh.resize(std::min<size_t>(w->n, 200'000));
  const auto t0 = std::chrono::steady_clock::now();
  parallel(w->n, [&](size_t i) {
    std::mt19937_64 rng(i);
    const KeyPair k = KeyPair::generate();
    Rates rates;
    rates.cpu_reserve_per_core_hour = 200'000 + static_cast<int64_t>(rng() % 2'000'000);
    rates.memory_reserve_per_gib_hour = 10'000 + static_cast<int64_t>(rng() % 200'000);
    rates.cpu_use_per_core_hour = static_cast<int64_t>(rng() % 500'000);
    rates.net_io_per_gib = static_cast<int64_t>(rng() % 50'000);
    Advert a;
    a.server = k.account_id();
    a.name = "srv-" + std::to_string(i);
    a.endpoint = "http://" + a.server + ".bench:7000";
    a.city = "metro";
    a.location = random_place(rng);
    a.capacity = Resources{16'000, 64 * kGiB, 1LL << 40, 10'000'000'000};
    a.free = Resources{static_cast<int64_t>(rng() % 16'001), static_cast<int64_t>(rng() % (64 * kGiB + 1)), 1LL << 39,
                       1'000'000'000};
    a.price_sheet = testing::signed_price_sheet(k, kStart, rates);
    a.sandboxes = rng() % 5 == 0 ? std::vector<std::string>{"qemu"} : std::vector<std::string>{"runc", "qemu"};
    a.issued_at = kStart;
    a.ttl_ms = 3'600'000;
    a.coord = advert_coord_of(coordinate_near(a.location, rng));
    w->first[i] = wire(k, a);
    if (i < w->refresh.size()) {
      a.issued_at = kStart + 1'000;
      a.free.cpu_millis = static_cast<int64_t>(rng() % 16'001);
      w->refresh[i] = wire(k, a);
    }
  });
  std::fprintf(stderr, "xis_query_bench: %zu adverts (+%zu refreshes) signed in %.1f s\n", w->n, w->refresh.size(),
               seconds_since(t0));
  AdvertStoreOptions o;
  o.max_ttl_ms = 3'600'000;
  o.max_adverts = w->n + 1;
  o.max_bytes = (w->n + 1) * kMaxAdvertBytes;
  o.max_per_owner = w->n + 1;
  w->store = std::make_unique<AdvertStore>(o);
  return *w;
}

// CPU time of each step of an ingestion, summed over both threads (microseconds).
struct IngestCost {
  std::atomic<int64_t> parse_ns{0};   // JSON text to a document
  std::atomic<int64_t> advert_ns{0};  // SignedDoc::from_json: the advert's signature
  std::atomic<int64_t> checks_ns{0};  // verify_advert_submission: decode, price sheet
  std::atomic<int64_t> store_ns{0};   // AdvertStore::put with its indexes
  void report(benchmark::State& state, size_t n, const char* prefix) const {
    const double d = 1e3 * static_cast<double>(n);
    state.counters[std::string(prefix) + "parse_us"] = static_cast<double>(parse_ns.load()) / d;
    state.counters[std::string(prefix) + "advert_sig_us"] = static_cast<double>(advert_ns.load()) / d;
    state.counters[std::string(prefix) + "checks_us"] = static_cast<double>(checks_ns.load()) / d;
    state.counters[std::string(prefix) + "store_us"] = static_cast<double>(store_ns.load()) / d;
  }
};

// Ingests HTTP bodies into the store as XIS would: parse, verify, store. False on any refusal.
bool ingest(AdvertStore& store, const std::vector<std::string>& bodies, TimeMs now, std::string* why,
            IngestCost* cost = nullptr) {
  std::atomic<bool> ok{true};
  std::mutex why_mu;
  parallel(bodies.size(), [&](size_t i) {
    auto fail = [&](const std::string& m) {
      ok = false;
      std::lock_guard lock(why_mu);
      *why = m;
    };
    double c = thread_cpu_s();
    auto lap = [&](std::atomic<int64_t>* into) {
      const double t = thread_cpu_s();
      if (cost) *into += static_cast<int64_t>((t - c) * 1e9);
      c = t;
    };
    IngestCost dummy;
    IngestCost& k = cost ? *cost : dummy;
    auto j = parse_json(bodies[i]);
    if (!j || !j->is_object() || !j->contains("advert")) return fail("body does not parse");
    lap(&k.parse_ns);
    auto doc = SignedDoc::from_json((*j)["advert"], kAdvertType);
    if (!doc) return fail(doc.error().message);
    lap(&k.advert_ns);
    auto sub = verify_advert_submission(*doc);
    if (!sub) return fail(sub.error().message);
    lap(&k.checks_ns);
    const Rates rates = sub->price_sheet.rates;
    if (auto r = store.put(std::move(sub->advert), std::move(sub->doc), rates, now, "", bodies[i].size()); !r) {
      return fail(r.error().message);
    }
    lap(&k.store_ns);
  });
  return ok;
}

// For runs that filter BM_Ingest out: the store must hold the adverts all the same.
bool ensure_ingested(World& w, benchmark::State& state) {
  if (w.ingested) return true;
  std::string why;
  if (!ingest(*w.store, w.first, kStart + 1, &why)) {
    g_failed = true;
    state.SkipWithError(("ingest refused an advert: " + why).c_str());
    return false;
  }
  w.ingested = true;
  return true;
}

void BM_Ingest(benchmark::State& state) {
  World& w = world();
  for (auto _ : state) {
    const size_t rss0 = rss_bytes();
    const double cpu0 = process_cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    std::string why;
    IngestCost cost;
    if (!ingest(*w.store, w.first, kStart + 1, &why, &cost)) {
      g_failed = true;
      state.SkipWithError(("ingest refused an advert: " + why).c_str());
      return;
    }
    const double s = seconds_since(t0);
    cost.report(state, w.n, "first_");
    state.counters["ingest_first_per_second"] = static_cast<double>(w.n) / s;
    state.counters["ingest_first_cpu_us_per_advert"] = (process_cpu_s() - cpu0) * 1e6 / static_cast<double>(w.n);
    state.counters["bytes_per_advert"] = static_cast<double>(rss_bytes() - rss0) / static_cast<double>(w.n);
    state.counters["adverts"] = static_cast<double>(w.store->live_count(kStart + 1));
  }
  w.ingested = true;
  std::vector<std::string>().swap(w.first);  // a million bodies are ~1.3 GB
}

void BM_Refresh(benchmark::State& state) {
  World& w = world();
  if (!ensure_ingested(w, state)) return;
  for (auto _ : state) {
    const double cpu0 = process_cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    std::string why;
    IngestCost cost;
    if (!ingest(*w.store, w.refresh, kStart + 1'001, &why, &cost)) {
      g_failed = true;
      state.SkipWithError(("refresh refused an advert: " + why).c_str());
      return;
    }
    state.counters["ingest_per_second"] = static_cast<double>(w.refresh.size()) / seconds_since(t0);
    state.counters["ingest_cpu_us_per_advert"] = (process_cpu_s() - cpu0) * 1e6 / static_cast<double>(w.refresh.size());
    state.counters["refreshes"] = static_cast<double>(w.refresh.size());
    cost.report(state, w.refresh.size(), "");
  }
  std::vector<std::string>().swap(w.refresh);
}

// ------------------------------------------------------------------------------- queries

struct Query {
  GeoPoint near;
  Coordinate from;
  Resources min;
  Money ceiling;
};

std::vector<Query> make_queries(size_t n) {
  std::mt19937_64 rng(4242);
  std::vector<Query> qs;
  for (size_t i = 0; i < n; ++i) {
    Query q;
    q.near = random_place(rng);
    q.from = coordinate_near(q.near, rng);
    q.min =
        Resources{1'000 + static_cast<int64_t>(rng() % 4) * 1'000, (1 + static_cast<int64_t>(rng() % 8)) * kGiB, 0, 0};
    q.ceiling = Money::micros(1'000'000 + static_cast<int64_t>(rng() % 4'000'000));
    qs.push_back(q);
  }
  return qs;
}

// The three filters and the price ceiling, as the ranking core applies them.
bool passes(const StoredAdvert& s, const Query& q) {
  const Advert& a = s.advert;
  if (a.free.cpu_millis < q.min.cpu_millis || a.free.memory_bytes < q.min.memory_bytes) return false;
  if (std::find(a.sandboxes.begin(), a.sandboxes.end(), "runc") == a.sandboxes.end()) return false;
  const auto price = hourly_reservation_price(s.rates, q.min);
  return price && *price <= q.ceiling;
}

struct Hit {
  const StoredAdvert* s;
  double d;
  friend bool operator==(const Hit&, const Hit&) = default;
};
bool hit_less(const Hit& a, const Hit& b) {
  return std::tie(a.d, a.s->advert.server) < std::tie(b.d, b.s->advert.server);
}

enum class By { kGeo, kRtt };

std::vector<Hit> indexed(const AdvertStore& store, const Query& q, By by, TimeMs now, size_t* visited = nullptr) {
  std::vector<Hit> out;
  auto take = [&](const StoredAdvert& s, double d) {
    if (visited) ++*visited;
    if (passes(s, q)) out.push_back(Hit{&s, d});
    return out.size() < kK;
  };
  if (by == By::kGeo) {
    store.visit_nearest_geo(q.near, now, take);
  } else {
    store.visit_nearest_rtt(q.from, now, take);
  }
  return out;
}

std::vector<Hit> scanned(std::span<const StoredAdvert* const> live, const Query& q, By by) {
  std::vector<Hit> top;  // a max-heap of the best kK so far
  for (const StoredAdvert* s : live) {
    if (!passes(*s, q)) continue;
    double d = 0;
    if (by == By::kGeo) {
      d = distance_km(q.near, s->advert.location);
    } else {
      if (!s->advert.coord || s->advert.coord->vec_us.size() != q.from.vec.size()) continue;
      d = estimated_rtt_ms(q.from, coordinate_of(*s->advert.coord));
    }
    const Hit h{s, d};
    if (top.size() < kK) {
      top.push_back(h);
      std::push_heap(top.begin(), top.end(), hit_less);
    } else if (hit_less(h, top.front())) {
      std::pop_heap(top.begin(), top.end(), hit_less);
      top.back() = h;
      std::push_heap(top.begin(), top.end(), hit_less);
    }
  }
  std::sort_heap(top.begin(), top.end(), hit_less);
  return top;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void run_queries(benchmark::State& state, By by) {
  World& w = world();
  if (!ensure_ingested(w, state)) return;
  const AdvertStore& store = *w.store;
  const TimeMs now = kStart + 2'000;
  const auto qs = make_queries(20'000);
  for (auto _ : state) {
    // Latency: one thread.
    // Wall time is what a caller sees; CPU time of the thread is what the query costs, unaffected
    // by other processes taking the core (the machine is shared).
    std::vector<double> ms;
    std::vector<double> cpu_ms;
    std::vector<double> visits;
    ms.reserve(qs.size());
    cpu_ms.reserve(qs.size());
    size_t answered = 0;
    for (const Query& q : qs) {
      const double c0 = thread_cpu_s();
      const auto t0 = std::chrono::steady_clock::now();
      size_t visited = 0;
      auto r = indexed(store, q, by, now, &visited);
      ms.push_back(seconds_since(t0) * 1e3);
      visits.push_back(static_cast<double>(visited));
      cpu_ms.push_back((thread_cpu_s() - c0) * 1e3);
      answered += r.size() == kK ? 1 : 0;
      benchmark::DoNotOptimize(r);
    }
    // The fixed cost of a visit: stopping at the first advert, whatever it is.
    std::vector<double> first_ms;
    for (size_t i = 0; i < 2'000; ++i) {
      const Query& q = qs[i];
      const double c0 = thread_cpu_s();
      size_t seen = 0;
      auto stop = [&](const StoredAdvert&, double) { return ++seen < 1; };
      if (by == By::kGeo) {
        store.visit_nearest_geo(q.near, now, stop);
      } else {
        store.visit_nearest_rtt(q.from, now, stop);
      }
      first_ms.push_back((thread_cpu_s() - c0) * 1e3);
    }
    double mean = 0;
    for (double x : ms) mean += x;
    mean /= static_cast<double>(ms.size());
    // Throughput: both cores at once.
    const auto t0 = std::chrono::steady_clock::now();
    parallel(qs.size(), [&](size_t i) {
      auto r = indexed(store, qs[i], by, now);
      benchmark::DoNotOptimize(r);
    });
    const double qps = static_cast<double>(qs.size()) / seconds_since(t0);
    // The scan baseline and the agreement, on the first queries (a scan of a million adverts
    // takes tens of ms).
    const size_t scans = std::clamp<size_t>(2'000'000'000 / std::max<size_t>(w.n, 1) / 1'000, 20, 500);
    size_t agree = 0;
    double scan_ms = 0;
    store.with_live(now, [&](std::span<const StoredAdvert* const> live) {
      for (size_t i = 0; i < scans; ++i) {
        const auto t1 = std::chrono::steady_clock::now();
        const auto want = scanned(live, qs[i], by);
        scan_ms += seconds_since(t1) * 1e3;
        const auto got = indexed(store, qs[i], by, now);
        if (got == want) {
          ++agree;
        } else if (agree + 5 > i) {
          std::fprintf(stderr, "DISAGREEMENT on query %zu: indexed %zu answers, scan %zu\n", i, got.size(),
                       want.size());
          for (size_t j = 0; j < std::max(got.size(), want.size()); ++j) {
            std::fprintf(stderr, "  %zu: %s %.9f | %s %.9f\n", j,
                         j < got.size() ? got[j].s->advert.server.c_str() : "-", j < got.size() ? got[j].d : 0.0,
                         j < want.size() ? want[j].s->advert.server.c_str() : "-", j < want.size() ? want[j].d : 0.0);
          }
        }
      }
    });
    scan_ms /= static_cast<double>(scans);
    const double agreement = static_cast<double>(agree) / static_cast<double>(scans);
    state.counters["query_p50_ms"] = percentile(ms, 0.50);
    state.counters["query_p99_ms"] = percentile(ms, 0.99);
    state.counters["query_mean_ms"] = mean;
    state.counters["first_visit_cpu_p50_ms"] = percentile(first_ms, 0.50);
    state.counters["visited_p50"] = percentile(visits, 0.50);  // adverts the filter looked at
    state.counters["visited_p99"] = percentile(visits, 0.99);
    state.counters["query_cpu_p50_ms"] = percentile(cpu_ms, 0.50);
    state.counters["query_cpu_p99_ms"] = percentile(cpu_ms, 0.99);
    state.counters["queries_per_second"] = qps;
    state.counters["full_answers"] = static_cast<double>(answered) / static_cast<double>(qs.size());
    state.counters["scan_ms"] = scan_ms;
    state.counters["speedup"] = scan_ms / mean;
    state.counters["scanned_queries"] = static_cast<double>(scans);
    state.counters["agreement"] = agreement;
    if (agree != scans) {
      g_failed = true;
      state.SkipWithError("indexed and brute-force answers differ (see stderr)");
      return;
    }
  }
}

void BM_QueryGeo(benchmark::State& state) { run_queries(state, By::kGeo); }
void BM_QueryRtt(benchmark::State& state) { run_queries(state, By::kRtt); }

// ----------------------------------------------------------------------------- placement

void BM_Placement(benchmark::State& state) {
  std::mt19937_64 rng(77);
  std::vector<PlacementCandidate> cands;
  for (int i = 0; i < 100'000; ++i) {
    const GeoPoint g = random_place(rng);
    cands.push_back(PlacementCandidate{"c" + std::to_string(i), coordinate_near(g, rng), 0});
  }
  PlacementRequest req;
  req.mode = PlacementMode::kMinMaxRtt;
  req.k = 5;
  for (int u = 0; u < 20; ++u) req.points.push_back(coordinate_near(random_place(rng), rng));
  double worst = 0;
  bool exact = false;
  for (auto _ : state) {
    auto p = place_servers(cands, req);
    if (!p) {
      state.SkipWithError(p.error().message.c_str());
      return;
    }
    worst = p->objective;
    exact = p->exact;
    benchmark::DoNotOptimize(p);
  }
  state.counters["worst_rtt_ms"] = worst;
  state.counters["exact"] = exact ? 1 : 0;
}

BENCHMARK(BM_Ingest)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Refresh)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QueryGeo)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QueryRtt)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Placement)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace
}  // namespace xop

// A leading number is the advert count; the rest goes to Google Benchmark.
int main(int argc, char** argv) {
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (!a.empty() && std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      xop::g_adverts = std::max<size_t>(1, std::stoul(a));
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rc = static_cast<int>(rest.size());
  benchmark::Initialize(&rc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return xop::g_failed ? 1 : 0;
}
