// Shared builders of repeated protocol fixtures (rates, signed price sheets) for every test area
// and the benches, so that one definition of a "sample" document exists.
#pragma once

#include <string>

#include "crypto/keys.h"
#include "proto/owner_consent.h"
#include "proto/price_sheet.h"

namespace xop::testing {

// The proto tests' reference rates (tests/proto/golden_bytes_test.cpp pins their encoding).
inline Rates sample_rates() { return Rates{1'000'000, 200'000, 10'000, 5'000, 900'000, 100'000, 20'000, 50'000}; }

// A price sheet signed by `signer`, for the server `server_id` (default: the signer's own
// account; another id makes the forgery the verification tests expect to refuse).
inline SignedDoc signed_price_sheet(const KeyPair& signer, TimeMs issued_at = 1'700'000'000'000,
                                    const Rates& rates = sample_rates(), const std::string& server_id = "") {
  const PriceSheet sheet{server_id.empty() ? signer.account_id() : server_id, issued_at, rates};
  return *SignedDoc::sign(kPriceSheetType, to_json(sheet), signer);
}

// The owner's signed consent to be named by the server `server`, as the "owner_consent" field of
// a server's registration wants it.
inline Json owner_consent_json(const KeyPair& owner, const KeyPair& server, TimeMs issued_at = 1'700'000'000'000) {
  return sign_owner_consent(owner, server.account_id(), issued_at)->to_json();
}

}  // namespace xop::testing
