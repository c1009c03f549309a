// Cost of charging: the charge function itself and what XenoCorp does per usage batch.
#include <benchmark/benchmark.h>

#include "../tests/proto/fixtures.h"
#include "crypto/verified_signatures.h"
#include "proto/charge.h"

namespace xop {
namespace {

void BM_ComputeCharge(benchmark::State& state) {
  const Rates r{1'234'567, 98'765, 4'321, 777, 555'555, 31'337, 2'718, 3'141};
  const Resources res{1500, int64_t{3} << 30, int64_t{20} << 30, 100'000'000};
  Usage u{9'876'543'210, int64_t{1} << 40, 123'456'789, 987'654'321};
  for (auto _ : state) {
    ++u.cpu_ns;
    auto b = compute_charge(r, res, u, 10'000);
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_ComputeCharge);

void BM_HourlyReservationPrice(benchmark::State& state) {
  const Rates r{1'234'567, 98'765, 4'321, 777, 555'555, 31'337, 2'718, 3'141};
  Resources res{1500, int64_t{3} << 30, int64_t{20} << 30, 100'000'000};
  for (auto _ : state) {
    ++res.cpu_millis;
    benchmark::DoNotOptimize(hourly_reservation_price(r, res));
  }
}
BENCHMARK(BM_HourlyReservationPrice);

// A signed batch of N usage records from wire text: parse, verify the signature, decode every
// record and recompute every amount, as the corp's settlement does.
void BM_UsageBatchVerifyAndParse(benchmark::State& state) {
  const auto server = KeyPair::generate();
  UsageBatch b{server.account_id(), 1'700'000'100'000, {}};
  for (int64_t i = 1; i <= state.range(0); ++i) b.records.push_back(testing::sample_record(i));
  const std::string wire = SignedDoc::sign(kUsageBatchType, to_json(b), server)->to_json().dump();
  const Rates rates = testing::sample_rates();
  for (auto _ : state) {
    VerifiedSignatures::documents().clear();  // measure the full check, not the memory of it
    auto j = parse_json(wire);
    auto doc = SignedDoc::from_json(*j, kUsageBatchType);
    auto batch = verify_usage_batch(*doc);
    if (!batch) state.SkipWithError("batch did not verify");
    int64_t sum = 0;
    for (const auto& rec : batch->records) {
      sum += compute_charge(rates, rec.reserved, rec.used, rec.period_end - rec.period_start)->total.micros();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["wire_bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_UsageBatchVerifyAndParse)->Arg(1)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace xop
