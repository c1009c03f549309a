// Parsers for the OCI image documents that arrive from outside (image index, image manifest and
// image config; Docker v2 schema2 media types accepted too). Pure functions of their input:
// strict size and count limits, strict types, clear errors naming the offending field. Used by
// the client (reading an OCI layout) and by the server's image store. Fuzzed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace xop {

// Caps on the documents (far above what real images use).
inline constexpr size_t kMaxOciDocumentBytes = 1u << 20;  // index, manifest, config: 1 MiB each
inline constexpr size_t kMaxOciLayers = 128;
inline constexpr size_t kMaxOciIndexManifests = 256;

inline constexpr std::string_view kOciManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndexMediaType = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfigMediaType = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerManifestMediaType = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfigMediaType = "application/vnd.docker.container.image.v1+json";

enum class LayerCompression { kNone, kGzip, kZstd };

// A content descriptor: what a blob is, its digest and its exact size.
struct OciDescriptor {
  std::string media_type;
  std::string digest;  // "sha256:<64 hex>"
  int64_t size = 0;
};

struct OciLayerRef {
  OciDescriptor desc;
  LayerCompression compression = LayerCompression::kNone;
};

struct OciManifest {
  OciDescriptor config;
  std::vector<OciLayerRef> layers;  // bottom first
};

// How to run the image (the "config" object of the image config) plus its layer diff ids.
struct OciImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string working_dir = "/";
  std::string user;                   // "User": empty (root) or USER[:GROUP] (syntax checked, image/image_user.h)
  bool has_rootfs = false;            // the config has a rootfs section (then diff_ids is authoritative)
  std::vector<std::string> diff_ids;  // uncompressed layer digests, bottom first
};

// Image manifest (OCI or Docker schema2). Refuses unknown media types, foreign layers (urls),
// bad digests, negative sizes, more than kMaxOciLayers layers and unknown fields.
Result<OciManifest> parse_oci_manifest(std::string_view text);

// Image config. Fields it does not use (history, created, author, ...) are ignored, but those it
// uses are type- and size-checked; os must be "linux" when present.
Result<OciImageConfig> parse_oci_image_config(std::string_view text);

// Image index (index.json of a layout): the manifest descriptors it lists.
Result<std::vector<OciDescriptor>> parse_oci_index(std::string_view text);

// Maps a layer media type to its compression; kUnsupportedMedia for anything else.
Result<LayerCompression> layer_compression(std::string_view media_type);

}  // namespace xop
