// Builds the busybox "burner" OCI layout with scripts/build-image into a directory (tests only).
#pragma once

#include <cstdlib>
#include <string>

#include "image/oci_layout.h"
#include "server/image_store.h"
#include "support/test_support.h"

namespace xop::testing {

// Returns the manifest digest, or an empty string when the script failed.
inline std::string build_burner_image(const std::string& out_dir) {
  const std::string cmd =
      std::string(XOP_SOURCE_DIR) + "/scripts/build-image '" + out_dir + "' > '" + out_dir + ".digest' 2>&1";
  if (std::system(cmd.c_str()) != 0) return "";
  std::string d = read_file(out_dir + ".digest");
  while (!d.empty() && d.back() == '\n') d.pop_back();
  return d;
}

// Copies every blob of a layout into the store; returns false on any error.
inline bool load_layout(const OciLayout& layout, ImageStore& store) {
  for (const auto& b : layout.blobs) {
    if (!store.put_blob(b.digest, read_file(b.path))) return false;
  }
  return true;
}

}  // namespace xop::testing
