// Fuzz target: corp_config_from_toml(parse_toml(...)) on arbitrary bytes. An accepted config must
// have a parseable listen address; anything else must be an error value with a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/toml_reader.h"
#include "corp/corp_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = xop::parse_toml(text, "fuzz.toml");
  if (!t) return 0;
  auto c = xop::corp_config_from_toml(*t);
  if (!c) {
    if (c.error().message.empty()) std::abort();
    return 0;
  }
  if (!xop::parse_listen_address(c->listen)) std::abort();
  return 0;
}
