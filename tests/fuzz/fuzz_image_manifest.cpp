// Fuzzes the OCI document parsers (image manifest, image config, image index); the cgroup counter
// parsers have their own target (fuzz_cgroup_stat). Every input goes through every parser: they
// must return a value or an error, never crash, and what they accept must satisfy their stated
// invariants.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/digest.h"
#include "image/oci_image.h"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto m = xop::parse_oci_manifest(in)) {
    check(xop::is_oci_digest(m->config.digest) && m->config.size >= 0);
    check(!m->layers.empty() && m->layers.size() <= xop::kMaxOciLayers);
    for (const auto& l : m->layers) check(xop::is_oci_digest(l.desc.digest) && l.desc.size >= 0);
  }
  if (auto c = xop::parse_oci_image_config(in)) {
    check(!c->working_dir.empty() && c->working_dir[0] == '/');
    for (const auto& e : c->env) check(e.find('=') != std::string::npos);
  }
  if (auto i = xop::parse_oci_index(in)) {
    for (const auto& d : *i) check(xop::is_oci_digest(d.digest));
  }
  return 0;
}
