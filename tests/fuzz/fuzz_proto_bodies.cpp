// Fuzz target: every protocol decoder (*_from_json) and verifier on arbitrary JSON. Decoded
// values that can be re-encoded must decode again to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proto/advert.h"
#include "proto/charge.h"
#include "proto/owner_consent.h"
#include "proto/price_sheet.h"
#include "proto/purchase_order.h"
#include "proto/search.h"
#include "proto/session_spec.h"
#include "proto/usage_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xop;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_json(text);
  if (!parsed) return 0;
  const Json& j = *parsed;

  if (auto r = rates_from_json(j, "rates")) {
    if (auto again = rates_from_json(to_json(*r), "rates"); !again || *again != *r) std::abort();
    // Rates accepted on the wire are within the bounds compute_charge accepts.
    if (!hourly_reservation_price(*r, Resources{1000, 1 << 30, 1 << 30, 1'000'000})) std::abort();
  }
  if (auto p = price_sheet_from_json(j)) {
    if (auto again = price_sheet_from_json(to_json(*p)); !again || *again != *p) std::abort();
  }
  if (auto po = purchase_order_from_json(j)) {
    auto again = purchase_order_from_json(to_json(*po));
    if (!again || again->po_id != po->po_id || again->max_amount != po->max_amount) std::abort();
  }
  if (auto u = usage_record_from_json(j, "rec")) {
    if (auto again = usage_record_from_json(to_json(*u), "rec"); !again || *again != *u) std::abort();
    (void)compute_charge(Rates{1, 1, 1, 1, 1, 1, 1, 1}, u->reserved, u->used, u->period_end - u->period_start);
  }
  if (auto b = usage_batch_from_json(j)) {
    auto again = usage_batch_from_json(to_json(*b));
    if (!again || again->records != b->records) std::abort();
  }
  if (auto a = advert_from_json(j)) {
    auto again = advert_from_json(to_json(*a));
    if (!again || again->server != a->server || again->location != a->location) std::abort();
  }
  if (auto q = search_query_from_json(j)) {
    auto again = search_query_from_json(to_json(*q));
    if (!again || again->count != q->count || again->min != q->min) std::abort();
  }
  (void)search_result_from_json(j);
  if (auto s = session_spec_from_json(j)) {
    if (auto again = session_spec_from_json(to_json(*s)); !again || *again != *s) std::abort();
  }
  (void)create_session_request_from_json(j);
  if (auto c = owner_consent_from_json(j)) {
    if (auto again = owner_consent_from_json(to_json(*c)); !again || *again != *c) std::abort();
  }
  (void)geo_from_json(j, "geo");
  // Wrapped forms: the same body as a signed document's body (signature will not verify).
  for (const char* type : {kPriceSheetType, kAdvertType, kPurchaseOrderType, kUsageBatchType, kOwnerConsentType}) {
    SignedDoc d;
    d.type = type;
    d.body = j;
    (void)verify_price_sheet(d);
    (void)verify_advert(d);
    (void)verify_usage_batch(d);
    (void)verify_owner_consent(d, d.signer, "a" + std::string(40, '1'));
  }
  return 0;
}
