// Feeds arbitrary bytes to XenoCorp's request-body decoders (proto/corp_requests.h): each input
// is parsed as JSON and given to every decoder. They must return a Result, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proto/corp_requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = xop::parse_json(text);
  if (!j) return 0;
  (void)xop::decode_register_account(*j);
  (void)xop::decode_deposit(*j);
  (void)xop::decode_payout(*j);
  (void)xop::decode_create_po(*j);
  (void)xop::decode_usage(*j);
  (void)xop::decode_extend_po(*j);
  return 0;
}
