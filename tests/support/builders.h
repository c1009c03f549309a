// Shared builders of repeated protocol fixtures (rates, signed price sheets) for every test area
// and the benches, so that one definition of a "sample" document exists.
#pragma once

#include "crypto/keys.h"
#include "proto/price_sheet.h"

namespace xop::testing {

// The proto tests' reference rates (tests/proto/golden_bytes_test.cpp pins their encoding).
inline Rates sample_rates() { return Rates{1'000'000, 200'000, 10'000, 5'000, 900'000, 100'000, 20'000, 50'000}; }

// A price sheet for `server` signed by it.
inline SignedDoc signed_price_sheet(const KeyPair& server, TimeMs issued_at = 1'700'000'000'000,
                                    const Rates& rates = sample_rates()) {
  return *SignedDoc::sign(kPriceSheetType, to_json(PriceSheet{server.account_id(), issued_at, rates}), server);
}

}  // namespace xop::testing
