#include "proto/price_sheet.h"

namespace xop {

const Schema<Rates>& rates_schema() {
  static const auto s = Schema<Rates>("rates")
                            .i64("cpu_reserve_per_core_hour_micros", &Rates::cpu_reserve_per_core_hour, 0, kMaxRate)
                            .i64("memory_reserve_per_gib_hour_micros", &Rates::memory_reserve_per_gib_hour, 0, kMaxRate)
                            .i64("disk_reserve_per_gib_hour_micros", &Rates::disk_reserve_per_gib_hour, 0, kMaxRate)
                            .i64("net_reserve_per_mbps_hour_micros", &Rates::net_reserve_per_mbps_hour, 0, kMaxRate)
                            .i64("cpu_use_per_core_hour_micros", &Rates::cpu_use_per_core_hour, 0, kMaxRate)
                            .i64("memory_use_per_gib_hour_micros", &Rates::memory_use_per_gib_hour, 0, kMaxRate)
                            .i64("disk_io_per_gib_micros", &Rates::disk_io_per_gib, 0, kMaxRate)
                            .i64("net_io_per_gib_micros", &Rates::net_io_per_gib, 0, kMaxRate);
  return s;
}

const Schema<PriceSheet>& price_sheet_schema() {
  static const auto s =
      Schema<PriceSheet>("price_sheet")
          .str("server", &PriceSheet::server, 64)
          .i64("issued_at", &PriceSheet::issued_at, 0)
          .object("rates", &PriceSheet::rates, rates_schema())
          .check([](const PriceSheet& p) { return is_account_id(p.server) ? "" : ".server: not an account id"; });
  return s;
}

Json to_json(const Rates& r) { return rates_schema().encode(r); }
Result<Rates> rates_from_json(const Json& j, const std::string& where) { return rates_schema().decode(j, where); }
Json to_json(const PriceSheet& p) { return price_sheet_schema().encode(p); }
Result<PriceSheet> price_sheet_from_json(const Json& j) { return price_sheet_schema().decode(j); }

Result<PriceSheet> verify_price_sheet(const SignedDoc& doc) {
  if (doc.type != kPriceSheetType) return invalid("not a price sheet");
  XOP_RETURN_IF_ERROR(doc.verify());
  XOP_ASSIGN_OR_RETURN(auto p, price_sheet_from_json(doc.body));
  if (doc.signer.account_id() != p.server) {
    return make_error(ErrorCode::kUnauthenticated, "price sheet is not signed by the server it names");
  }
  return p;
}

}  // namespace xop
