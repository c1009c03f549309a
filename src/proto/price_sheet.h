// A server's price sheet: integer rates in micro-credits, each per a stated quantum. It travels
// as a SignedDoc of type "price_sheet" signed by the server's key, and is bound into every
// purchase order, so both sides charge from the same, signed numbers.
#pragma once

#include <cstdint>

#include "core/json_reader.h"
#include "core/schema.h"
#include "core/time.h"
#include "crypto/signed_doc.h"

namespace xop {

inline constexpr const char* kPriceSheetType = "price_sheet";

struct Rates {
  // Reservation rates: micro-credits per unit-hour of what is held.
  int64_t cpu_reserve_per_core_hour = 0;  // per 1000 milli-cores
  int64_t memory_reserve_per_gib_hour = 0;
  int64_t disk_reserve_per_gib_hour = 0;
  int64_t net_reserve_per_mbps_hour = 0;  // per 10^6 bits/s
  // Usage rates: micro-credits per unit used.
  int64_t cpu_use_per_core_hour = 0;    // per 3.6e12 CPU-nanoseconds
  int64_t memory_use_per_gib_hour = 0;  // per GiB-hour of resident memory
  int64_t disk_io_per_gib = 0;          // per GiB read or written
  int64_t net_io_per_gib = 0;           // per GiB sent or received

  friend bool operator==(const Rates&, const Rates&) = default;
};

inline constexpr int64_t kMaxRate = 1'000'000'000'000;  // 10^6 credits per unit: a sanity bound

struct PriceSheet {
  std::string server;  // account id of the server key
  TimeMs issued_at = 0;
  Rates rates;

  friend bool operator==(const PriceSheet&, const PriceSheet&) = default;
};

// The wire forms, declared once (core/schema.h; docs/formats.md).
const Schema<Rates>& rates_schema();
const Schema<PriceSheet>& price_sheet_schema();
Json to_json(const Rates& r);
Result<Rates> rates_from_json(const Json& j, const std::string& where);
Json to_json(const PriceSheet& p);
Result<PriceSheet> price_sheet_from_json(const Json& j);

// Verifies a signed price sheet and that its signer is the server it names.
Result<PriceSheet> verify_price_sheet(const SignedDoc& doc);

}  // namespace xop
