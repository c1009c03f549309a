// A random advert for the XIS benchmarks (not a benchmark itself: bench/CMakeLists.txt builds only
// *_bench.cpp): a server anywhere on the globe (latitudes within 80 degrees), random free cpu and
// memory, random cpu and memory rates, 1 in 5 offering qemu instead of runc, signed price sheet.
// It draws from `rng` in a fixed order, so a seed gives the same world in every benchmark.
#pragma once

#include <random>
#include <string>

#include "../tests/support/builders.h"  // relative: benches do not have tests/ on the path
#include "proto/advert.h"
#include "proto/price_sheet.h"

namespace xop::bench {

inline Advert random_advert(const KeyPair& k, std::mt19937_64& rng, int i, TimeMs now, Rates* rates_out) {
  Rates rates;
  rates.cpu_reserve_per_core_hour = 200'000 + static_cast<int64_t>(rng() % 2'000'000);
  rates.memory_reserve_per_gib_hour = 10'000 + static_cast<int64_t>(rng() % 200'000);
  Advert a;
  a.server = k.account_id();
  a.name = "srv-" + std::to_string(i);
  a.endpoint = "http://" + k.account_id() + ".bench:7000";
  a.city = "somewhere";
  a.location = {static_cast<int64_t>(rng() % 160'000'000) - 80'000'000,
                static_cast<int64_t>(rng() % 360'000'000) - 180'000'000};
  a.capacity = Resources{16'000, 64LL << 30, 1LL << 40, 10'000'000'000};
  a.free = Resources{static_cast<int64_t>(rng() % 16'000), static_cast<int64_t>(rng() % (64LL << 30)), 1LL << 39,
                     1'000'000'000};
  a.price_sheet = testing::signed_price_sheet(k, now, rates);
  a.sandboxes = {rng() % 5 == 0 ? "qemu" : "runc"};
  a.issued_at = now;
  a.ttl_ms = 3'600'000;
  *rates_out = rates;
  return a;
}

}  // namespace xop::bench
