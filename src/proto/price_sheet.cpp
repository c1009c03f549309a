#include "proto/price_sheet.h"

namespace xop {

Json to_json(const Rates& r) {
  return Json{{"cpu_reserve_per_core_hour", r.cpu_reserve_per_core_hour},
              {"memory_reserve_per_gib_hour", r.memory_reserve_per_gib_hour},
              {"disk_reserve_per_gib_hour", r.disk_reserve_per_gib_hour},
              {"net_reserve_per_mbps_hour", r.net_reserve_per_mbps_hour},
              {"cpu_use_per_core_hour", r.cpu_use_per_core_hour},
              {"memory_use_per_gib_hour", r.memory_use_per_gib_hour},
              {"disk_io_per_gib", r.disk_io_per_gib},
              {"net_io_per_gib", r.net_io_per_gib}};
}

Result<Rates> rates_from_json(const Json& j, const std::string& where) {
  JsonReader r(j, where);
  Rates out;
  out.cpu_reserve_per_core_hour = r.i64("cpu_reserve_per_core_hour", 0, kMaxRate);
  out.memory_reserve_per_gib_hour = r.i64("memory_reserve_per_gib_hour", 0, kMaxRate);
  out.disk_reserve_per_gib_hour = r.i64("disk_reserve_per_gib_hour", 0, kMaxRate);
  out.net_reserve_per_mbps_hour = r.i64("net_reserve_per_mbps_hour", 0, kMaxRate);
  out.cpu_use_per_core_hour = r.i64("cpu_use_per_core_hour", 0, kMaxRate);
  out.memory_use_per_gib_hour = r.i64("memory_use_per_gib_hour", 0, kMaxRate);
  out.disk_io_per_gib = r.i64("disk_io_per_gib", 0, kMaxRate);
  out.net_io_per_gib = r.i64("net_io_per_gib", 0, kMaxRate);
  XOP_RETURN_IF_ERROR(r.finish());
  return out;
}

Json to_json(const PriceSheet& p) {
  return Json{{"server", p.server}, {"issued_at", p.issued_at}, {"rates", to_json(p.rates)}};
}

Result<PriceSheet> price_sheet_from_json(const Json& j) {
  JsonReader r(j, "price_sheet");
  PriceSheet p;
  p.server = r.str("server", 64);
  p.issued_at = r.i64("issued_at", 0);
  const Json& rates = r.object("rates");
  if (r.ok()) {
    auto rr = rates_from_json(rates, "price_sheet.rates");
    r.absorb(rr.map([](const Rates&) {}));
    if (rr) p.rates = *rr;
  }
  XOP_RETURN_IF_ERROR(r.finish());
  if (!is_account_id(p.server)) return invalid("price_sheet.server: not an account id");
  return p;
}

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
