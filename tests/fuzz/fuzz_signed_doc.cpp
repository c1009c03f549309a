// Fuzz target: SignedDoc::from_json on arbitrary JSON, for every document type. A document that
// parses must verify, and must survive its own wire form unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/signed_doc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = xop::parse_json(text);
  if (!j) return 0;
  for (const char* type : {"price_sheet", "advert", "purchase_order", "usage_batch", "thing"}) {
    auto doc = xop::SignedDoc::from_json(*j, type);
    if (!doc) continue;
    if (!doc->verify()) std::abort();
    auto again = xop::SignedDoc::from_json(doc->to_json(), type);
    if (!again || again->digest() != doc->digest()) std::abort();
  }
  return 0;
}
