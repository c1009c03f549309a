// Reading an OCI image layout (a directory with oci-layout, index.json and blobs/sha256/..., or
// a tar archive of one) on the client side, to upload its blobs to servers.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace xop {

struct OciBlobRef {
  std::string digest;  // "sha256:..."
  std::string path;    // file holding it
  int64_t size = 0;
};

struct OciLayout {
  std::string manifest_digest;
  std::vector<OciBlobRef> blobs;  // manifest, config and layers
};

// Opens the layout at `path` (directory, or .tar which is extracted under `scratch_dir`), picks
// the single image manifest of index.json, and lists its blobs, verifying every digest.
Result<OciLayout> read_oci_layout(const std::string& path, const std::string& scratch_dir);

}  // namespace xop
