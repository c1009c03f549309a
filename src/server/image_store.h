// The server's content-addressed image store: OCI blobs by SHA-256 digest (every blob checked
// against its digest on the way in), layers unpacked once and shared read-only, and per-session
// root filesystems as an overlay of those layers with a private writable layer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace xop {

inline constexpr size_t kMaxBlobBytes = 512u << 20;

// What the image config says about how to run it.
struct ImageConfig {
  std::string manifest_digest;
  std::vector<std::string> layers;  // layer digests, bottom first
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string working_dir = "/";
};

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  static Result<std::unique_ptr<ImageStore>> open(const std::string& dir);

  [[nodiscard]] virtual bool has_blob(const std::string& digest) const = 0;
  // Stores a blob if `data` hashes to `digest`; kInvalidArgument otherwise. Atomic.
  virtual Status put_blob(const std::string& digest, std::string_view data) = 0;
  // The same for a blob already in a file (a streamed upload): hashes the file and, if it has
  // `digest`, moves it into the store (the file is gone afterwards; on error it is left alone).
  virtual Status put_blob_file(const std::string& digest, const std::string& path) = 0;
  virtual Result<std::string> read_blob(const std::string& digest) const = 0;
  // Parses the manifest and config; errors name missing blobs.
  virtual Result<ImageConfig> image(const std::string& manifest_digest) const = 0;
  // Unpacks missing layers and mounts an overlay in session_dir; returns the rootfs path.
  virtual Result<std::string> prepare_rootfs(const std::string& manifest_digest, const std::string& session_dir) = 0;
  // Unmounts what prepare_rootfs mounted. Idempotent.
  virtual Status release_rootfs(const std::string& session_dir) = 0;
  // Manifest digests whose blobs are all present.
  [[nodiscard]] virtual std::vector<std::string> images() const = 0;
};

}  // namespace xop
