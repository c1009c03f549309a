// Fuzz target: parse_toml and TomlReader over every key with every accessor, recursively.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/toml_reader.h"

namespace {

void walk(const toml::table& t, int depth) {
  if (depth > 300) return;
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    xop::TomlReader r(t, "config");
    (void)r.opt_str(key.c_str());
    (void)r.finish();
    xop::TomlReader r2(t, "config");
    (void)r2.opt_i64(key.c_str(), -1000, 1000);
    xop::TomlReader r3(t, "config");
    (void)r3.opt_double(key.c_str(), -1e6, 1e6);
    xop::TomlReader r4(t, "config");
    (void)r4.opt_bool(key.c_str());
    xop::TomlReader r5(t, "config");
    if (const auto* sub = r5.opt_table(key.c_str())) walk(*sub, depth + 1);
    (void)r5.finish();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = xop::parse_toml(text, "fuzz.toml");
  if (!t) return 0;
  walk(*t, 0);
  return 0;
}
