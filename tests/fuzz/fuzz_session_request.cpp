// Fuzz target: create_session_request_from_json(parse_json(...)), the body of POST /v1/sessions,
// on arbitrary bytes. An accepted request must survive a round trip through its JSON form
// unchanged; anything else must be an error value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/json_reader.h"
#include "proto/session_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto j = xop::parse_json(text);
  if (!j) return 0;
  auto r = xop::create_session_request_from_json(*j);
  if (!r) {
    if (r.error().message.empty()) std::abort();
    return 0;
  }
  if (r->spec.resources.cpu_millis < 1 || r->spec.resources.memory_bytes < (4 << 20)) std::abort();
  if (r->spec.pids < 1 || r->spec.pids > xop::kMaxPids) std::abort();
  auto again = xop::create_session_request_from_json(xop::to_json(*r));
  if (!again || !(again->spec == r->spec) || again->purchase_order.body != r->purchase_order.body) std::abort();
  return 0;
}
