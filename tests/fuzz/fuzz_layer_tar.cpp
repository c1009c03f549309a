// Fuzz target: unpack_layer (server/image_layer.h) on arbitrary bytes as an uncompressed layer
// tar (libarchive reads the headers; our code decides paths, links, whiteouts and limits). Each
// input is unpacked into a fresh directory next to an empty sibling; whatever the input, the
// unpacking must stay inside its directory (the sibling stays empty, nothing appears beside them),
// and never write through a symlink out of it.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "server/image_layer.h"

namespace {

namespace fs = std::filesystem;

void check(bool ok) {
  if (!ok) std::abort();
}

const fs::path& root() {
  static const fs::path r = [] {
    std::string tmpl = (fs::temp_directory_path() / "xop-fuzz-layer-XXXXXX").string();
    check(::mkdtemp(tmpl.data()) != nullptr);
    return fs::path(tmpl);
  }();
  static const bool cleanup = [] {
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(root(), ec);
    });
    return true;
  }();
  (void)cleanup;
  return r;
}

size_t entries(const fs::path& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path& r = root();
  const fs::path blob = r / "layer.tar", dest = r / "dest", canary = r / "canary";
  std::error_code ec;
  fs::remove_all(dest, ec);
  fs::create_directory(dest);
  fs::create_directory(canary);
  {
    std::ofstream out(blob, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  xop::LayerLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_entries = 256;
  for (bool lowest : {true, false}) {
    fs::remove_all(dest, ec);
    fs::create_directory(dest);
    (void)xop::unpack_layer(blob.string(), xop::LayerCompression::kNone, dest.string(), lowest, limits);
    check(fs::is_empty(canary));
    check(entries(r) == 2 + entries(dest) + 1);  // layer.tar, canary, dest and what is in dest
  }
  fs::remove_all(dest, ec);
  return 0;
}
