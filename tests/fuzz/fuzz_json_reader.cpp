// Fuzz target: parse_json with its depth limit, the strict JsonReader accessors, the resource
// decoders and canonical_json. Must never crash, hang or leak on any input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json_reader.h"
#include "core/resources.h"
#include "crypto/canonical.h"

namespace {

// Reads every field of an object with every accessor, as hostile-input decoders do.
void walk(const xop::Json& j, int depth) {
  if (depth > 40) std::abort();  // parse_json must have refused this nesting
  if (!j.is_object()) {
    if (j.is_array()) {
      for (const auto& e : j) walk(e, depth + 1);
    }
    return;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = it.key();
    xop::JsonReader r(j, "doc");
    (void)r.opt_str(key.c_str(), 64);
    xop::JsonReader r2(j, "doc");
    (void)r2.opt_i64(key.c_str(), -1000, 1000);
    xop::JsonReader r3(j, "doc");
    (void)r3.opt_bool(key.c_str());
    xop::JsonReader r4(j, "doc");
    (void)r4.number(key.c_str(), -1e9, 1e9);
    xop::JsonReader r5(j, "doc");
    (void)r5.str_array(key.c_str(), 8, 16);
    xop::JsonReader r6(j, "doc");
    (void)r6.array(key.c_str(), 8);
    (void)r6.finish();
    walk(it.value(), depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto j = xop::parse_json(text);
  if (!j) return 0;
  walk(*j, 0);
  (void)xop::resources_from_json(*j, "r");
  (void)xop::usage_from_json(*j, "u");
  auto c = xop::canonical_json(*j);
  if (c) {
    // Canonical output is valid JSON that canonicalises to itself.
    auto again = xop::parse_json(*c, 64);
    if (!again) std::abort();
    auto c2 = xop::canonical_json(*again);
    if (!c2 || *c2 != *c) std::abort();
  }
  return 0;
}
