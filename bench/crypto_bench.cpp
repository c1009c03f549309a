// Cost of the signatures every request and document carries.
#include <benchmark/benchmark.h>

#include "../tests/proto/fixtures.h"
#include "core/clock.h"
#include "crypto/canonical.h"
#include "crypto/request_signature.h"
#include "crypto/verified_signatures.h"

namespace xop {
namespace {

void BM_Ed25519Sign(benchmark::State& state) {
  const auto kp = KeyPair::generate();
  const std::string msg(static_cast<size_t>(state.range(0)), 'm');
  for (auto _ : state) benchmark::DoNotOptimize(kp.sign(msg));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Ed25519Sign)->Arg(64)->Arg(1024)->Arg(64 * 1024);

void BM_Ed25519Verify(benchmark::State& state) {
  const auto kp = KeyPair::generate();
  const std::string msg(static_cast<size_t>(state.range(0)), 'm');
  const auto sig = kp.sign(msg);
  for (auto _ : state) {
    if (!kp.public_key().verify(msg, sig)) state.SkipWithError("verify failed");
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Ed25519Verify)->Arg(64)->Arg(1024)->Arg(64 * 1024);

Json advert_body(const KeyPair& server) { return to_json(testing::sample_advert(server)); }

void BM_CanonicalJsonAdvert(benchmark::State& state) {
  const auto body = advert_body(KeyPair::generate());
  size_t bytes = 0;
  for (auto _ : state) {
    auto c = canonical_json(body);
    bytes = c->size();
    benchmark::DoNotOptimize(c);
  }
  state.counters["doc_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CanonicalJsonAdvert);

void BM_SignedDocSignAdvert(benchmark::State& state) {
  const auto server = KeyPair::generate();
  const auto body = advert_body(server);
  for (auto _ : state) benchmark::DoNotOptimize(SignedDoc::sign(kAdvertType, body, server));
}
BENCHMARK(BM_SignedDocSignAdvert);

// What XIS does for every advert it receives: parse the wire text, check both signatures
// (advert and embedded price sheet) and decode.
void BM_SignedDocVerifyAdvertFromWire(benchmark::State& state) {
  const auto server = KeyPair::generate();
  const std::string wire = SignedDoc::sign(kAdvertType, advert_body(server), server)->to_json().dump();
  for (auto _ : state) {
    VerifiedSignatures::documents().clear();  // measure the full check, not the memory of it
    auto j = parse_json(wire);
    auto doc = SignedDoc::from_json(*j, kAdvertType);
    auto a = verify_advert(*doc);
    if (!a) state.SkipWithError("advert did not verify");
    benchmark::DoNotOptimize(a);
  }
  state.counters["wire_bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(BM_SignedDocVerifyAdvertFromWire);

void BM_RequestSign(benchmark::State& state) {
  const auto kp = KeyPair::generate();
  const std::string body(512, 'b');
  TimeMs ts = 1'700'000'000'000;
  for (auto _ : state) benchmark::DoNotOptimize(sign_request(kp, "POST", "/v1/sessions", ++ts, "aud", body));
}
BENCHMARK(BM_RequestSign);

// Sign + verify (including the replay cache) of distinct requests, as a daemon sees them.
void BM_RequestSignAndVerify(benchmark::State& state) {
  const auto kp = KeyPair::generate();
  SimulatedClock clock;
  RequestVerifier verifier(clock, "aud");
  const std::string body(512, 'b');
  int64_t n = 0;
  for (auto _ : state) {
    const std::string target = "/v1/sessions?n=" + std::to_string(++n);
    const auto sig = sign_request(kp, "POST", target, clock.now_ms(), "aud", body);
    if (!verifier.verify("POST", target, sig, body)) state.SkipWithError("verify failed");
    if (n % 100'000 == 0) clock.advance_ms(200'000);  // let the replay cache expire
  }
}
BENCHMARK(BM_RequestSignAndVerify);

}  // namespace
}  // namespace xop
