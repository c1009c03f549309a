// The server's content-addressed image store: OCI blobs by SHA-256 digest (every blob checked
// against its digest on the way in), layers unpacked once and shared read-only, and per-session
// root filesystems as an overlay of those layers with a private writable layer.
//
// Ownership and access (docs/operating.md, "Image store"): every blob records the accounts that
// uploaded it (a blob uploaded by two users has two owners); an image (a manifest) is public once
// an owner of all its blobs marks it so. The metadata lives in <dir>/index.db and survives restarts.
//
// Quotas: the blobs an account owns count in full against its byte and blob-count quotas; the
// store as a whole holds at most max_store_bytes of blobs and unpacked layers.
//
// Garbage collection: a blob or unpacked layer is "in use" while a session's root filesystem
// (prepare_rootfs .. release_rootfs, recorded durably so re-adopted sessions keep theirs) needs
// it. collect_garbage() removes what is not in use and has been idle (not uploaded, read or used
// by a session start) for gc_idle_ms; when the store is still above max_store_bytes it removes
// further unused items, least recently used first, down to 90% of the cap, sparing items used in
// the last min(gc_idle_ms, 10 minutes) (an upload in progress of a deployment). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "storage/sqlite_db.h"

namespace xop {

inline constexpr size_t kMaxBlobBytes = 512u << 20;
inline constexpr size_t kMaxListedImages = 1000;

// What the image config says about how to run it.
struct ImageConfig {
  std::string manifest_digest;
  std::vector<std::string> layers;  // layer digests, bottom first
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string working_dir = "/";
  std::string user;  // the config's User: empty (root) or USER[:GROUP], resolved per session (image/image_user.h)
};

struct ImageStoreOptions {
  int64_t quota_bytes_per_user = int64_t{4} << 30;  // bytes of blobs one account may own
  int64_t quota_blobs_per_user = 1000;              // blobs one account may own
  int64_t max_store_bytes = int64_t{40} << 30;      // blobs + unpacked layers, all accounts
  int64_t gc_idle_ms = int64_t{24} * 3600 * 1000;   // unused this long: collected
  // How prepare_rootfs() builds a session's root file system: true mounts an overlay of the
  // unpacked layers with a private writable layer (needs root; what a server does); false copies
  // the layers, bottom first, into a plain directory (whiteouts remove what they hide; opaque
  // directories are not honoured), so the mock runtime, tests and the simulator run without root.
  bool mount_rootfs = true;
  // Code only, never from a config file: how the index (index.db) commits; the daemon syncs, the
  // in-process simulated platform does not (ServerSeams::storage, storage/sqlite_db.h).
  SqliteDurability index_durability = SqliteDurability::kSynced;
};

struct GcReport {
  int64_t blobs_removed = 0;
  int64_t layers_removed = 0;
  int64_t bytes_freed = 0;
  int64_t bytes_kept = 0;  // blobs + unpacked layers after the pass
};

struct StoreUsage {
  int64_t blob_bytes = 0;
  int64_t layer_bytes = 0;
  int64_t blobs = 0;
  int64_t layers = 0;
};

class ImageStore {
 public:
  virtual ~ImageStore() = default;
  // `clock` (default: the system clock) dates uploads and uses for the GC policy.
  static Result<std::unique_ptr<ImageStore>> open(const std::string& dir, ImageStoreOptions opts = {},
                                                  const Clock* clock = nullptr);

  [[nodiscard]] virtual bool has_blob(const std::string& digest) const = 0;
  // Stores a blob if `data` hashes to `digest` (kInvalidArgument otherwise) and records `owner`
  // (an account id; empty: the server's own copy, owned by nobody) as one of its owners. The
  // owner's quotas and the store cap are checked before anything is written (kPayloadTooLarge for
  // the owner's quota, kResourceExhausted for a full store). Atomic.
  virtual Status put_blob(const std::string& owner, const std::string& digest, std::string_view data) = 0;
  Status put_blob(const std::string& digest, std::string_view data) { return put_blob("", digest, data); }
  // Whether `owner` may add a blob of `size` bytes now (quotas, store cap): the check put_blob
  // makes, for callers that know the size before they have the bytes (e.g. Content-Length).
  virtual Status admit_blob(const std::string& owner, const std::string& digest, int64_t size) = 0;
  // The same for a blob already in a file (a streamed upload): hashes the file and, if it has
  // `digest` and the owner's quotas allow it, moves it into the store. The file may be gone
  // afterwards, on success or not; the caller removes it if it is still there.
  virtual Status put_blob_file(const std::string& owner, const std::string& digest, const std::string& path) = 0;
  virtual Result<std::string> read_blob(const std::string& digest) const = 0;
  // The path of a stored blob's file, for streaming it out (kNotFound when absent). The file is
  // never rewritten in place, so an open descriptor keeps reading the blob even if GC removes it.
  [[nodiscard]] virtual Result<std::string> blob_file(const std::string& digest) const = 0;

  // Access. `account` owns `digest` (uploaded it).
  [[nodiscard]] virtual bool is_owner(const std::string& account, const std::string& digest) const = 0;
  // Some owner marked an image that contains `digest` public.
  [[nodiscard]] virtual bool is_public(const std::string& digest) const = 0;
  // Marks (or unmarks) the image `manifest_digest` public on behalf of `account`, who must own
  // the manifest, its config and every layer here (kNotFound otherwise: a stranger learns
  // nothing). The image stays public while any owner's mark stands.
  virtual Status set_public(const std::string& account, const std::string& manifest_digest, bool is_public) = 0;
  // Whether `account` may run the image: every blob of it is present and owned by `account` or
  // public. Otherwise kNotFound naming the blobs, with the words used for missing ones (a blob
  // that is there but not the caller's reads as missing).
  virtual Status check_use(const std::string& account, const std::string& manifest_digest) const = 0;
  // What `account` owns: bytes and blob count (what the quotas count).
  [[nodiscard]] virtual StoreUsage usage_of(const std::string& account) const = 0;
  // The whole store.
  [[nodiscard]] virtual StoreUsage usage() const = 0;

  // Parses the manifest and config; errors name missing blobs.
  virtual Result<ImageConfig> image(const std::string& manifest_digest) const = 0;
  // Unpacks missing layers and mounts an overlay in session_dir; returns the rootfs path. The
  // image's blobs and layers are in use for session_dir from the start of this call until
  // release_rootfs(session_dir), across restarts.
  virtual Result<std::string> prepare_rootfs(const std::string& manifest_digest, const std::string& session_dir) = 0;
  // Unmounts what prepare_rootfs mounted and ends the use. Idempotent.
  virtual Status release_rootfs(const std::string& session_dir) = 0;
  // Public images whose blobs are all present, at most kMaxListedImages in digest order (what
  // /v1/info and adverts list: private images are not revealed, and no upload flood can grow it).
  [[nodiscard]] virtual std::vector<std::string> images() const = 0;

  // One pass of the garbage-collection policy above.
  virtual Result<GcReport> collect_garbage() = 0;
};

}  // namespace xop
