#include "server/image_store.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/oci_image.h"
#include "core/log.h"
#include "crypto/digest.h"
#include "crypto/keys.h"
#include "server/image_layer.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

// The overlay mount option string must fit in one page.
constexpr size_t kMaxMountData = 4000;

Status write_fully(int fd, std::string_view data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::kInternal, path + ": write: " + std::strerror(errno));
    }
    off += static_cast<size_t>(w);
  }
  return ok_status();
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

bool is_mountpoint(const std::string& path) {
  struct stat st {};
  struct stat parent {};
  if (::lstat(path.c_str(), &st) != 0) return false;
  if (::lstat((path + "/..").c_str(), &parent) != 0) return false;
  return st.st_dev != parent.st_dev;
}

class FsImageStore final : public ImageStore {
 public:
  explicit FsImageStore(std::string dir) : dir_(std::move(dir)) {}

  [[nodiscard]] bool has_blob(const std::string& digest) const override {
    if (!is_oci_digest(digest)) return false;
    std::error_code ec;
    return fs::is_regular_file(blob_path(digest), ec);
  }

  Status put_blob(const std::string& digest, std::string_view data) override {
    if (!is_oci_digest(digest)) return invalid("\"" + digest + "\" is not a sha256 digest");
    if (data.size() > kMaxBlobBytes) {
      return make_error(ErrorCode::kPayloadTooLarge, "blob larger than " + std::to_string(kMaxBlobBytes) + " bytes");
    }
    const std::string actual = oci_digest(data);
    if (actual != digest) return invalid("blob content hashes to " + actual + ", not " + digest);
    if (has_blob(digest)) return ok_status();
    const std::string tmp = dir_ + "/tmp/blob-" + random_id("t");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(ErrorCode::kInternal, tmp + ": " + std::strerror(errno));
    auto st = write_fully(fd, data, tmp);
    if (st && ::fsync(fd) != 0) st = make_error(ErrorCode::kInternal, tmp + ": fsync: " + std::strerror(errno));
    ::close(fd);
    if (st && ::rename(tmp.c_str(), blob_path(digest).c_str()) != 0) {
      st = make_error(ErrorCode::kInternal, "rename blob: " + std::string(std::strerror(errno)));
    }
    if (!st) {
      ::unlink(tmp.c_str());
      return st;
    }
    fsync_dir(dir_ + "/blobs/sha256");
    return ok_status();
  }

  Status put_blob_file(const std::string& digest, const std::string& path) override {
    if (!is_oci_digest(digest)) return invalid("\"" + digest + "\" is not a sha256 digest");
    struct stat sb {};
    if (::stat(path.c_str(), &sb) != 0) return make_error(ErrorCode::kInternal, path + ": " + std::strerror(errno));
    if (static_cast<uint64_t>(sb.st_size) > kMaxBlobBytes) {
      return make_error(ErrorCode::kPayloadTooLarge, "blob larger than " + std::to_string(kMaxBlobBytes) + " bytes");
    }
    XOP_ASSIGN_OR_RETURN(auto actual, oci_digest_of_file(path));
    if (actual != digest) return invalid("blob content hashes to " + actual + ", not " + digest);
    if (has_blob(digest)) return ok_status();
    // Into the store's own tmp first (the file may be on another file system), then rename.
    const std::string tmp = dir_ + "/tmp/blob-" + random_id("t");
    if (::rename(path.c_str(), tmp.c_str()) != 0) {
      if (errno != EXDEV) return make_error(ErrorCode::kInternal, "rename blob: " + std::string(std::strerror(errno)));
      std::error_code ec;
      std::filesystem::copy_file(path, tmp, ec);
      if (ec) {
        ::unlink(tmp.c_str());
        return make_error(ErrorCode::kInternal, "copy blob: " + ec.message());
      }
      ::unlink(path.c_str());
    }
    const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    Status st = ok_status();
    if (fd < 0 || ::fsync(fd) != 0) st = make_error(ErrorCode::kInternal, tmp + ": fsync: " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    if (st && ::rename(tmp.c_str(), blob_path(digest).c_str()) != 0) {
      st = make_error(ErrorCode::kInternal, "rename blob: " + std::string(std::strerror(errno)));
    }
    if (!st) {
      ::unlink(tmp.c_str());
      return st;
    }
    ::chmod(blob_path(digest).c_str(), 0644);
    fsync_dir(dir_ + "/blobs/sha256");
    return ok_status();
  }

  Result<std::string> read_blob(const std::string& digest) const override {
    if (!is_oci_digest(digest)) return invalid("\"" + digest + "\" is not a sha256 digest");
    return read_limited(digest, kMaxBlobBytes);
  }

  Result<ImageConfig> image(const std::string& manifest_digest) const override {
    return load(manifest_digest).map([](Loaded l) { return std::move(l.config); });
  }

  Result<std::string> prepare_rootfs(const std::string& manifest_digest, const std::string& session_dir) override {
    XOP_ASSIGN_OR_RETURN(Loaded img, load(manifest_digest));
    std::vector<std::string> lower;  // bottom first
    for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
      XOP_ASSIGN_OR_RETURN(std::string dir, ensure_layer(img.manifest.layers[i], i == 0));
      lower.push_back(std::move(dir));
    }
    const std::string rootfs = session_dir + "/rootfs";
    std::error_code ec;
    for (const char* d : {"/upper", "/work", "/rootfs"}) {
      fs::create_directories(session_dir + d, ec);
      if (ec) return make_error(ErrorCode::kInternal, session_dir + d + ": " + ec.message());
    }
    if (is_mountpoint(rootfs)) return rootfs;  // already prepared
    std::string data = "lowerdir=";
    for (auto it = lower.rbegin(); it != lower.rend(); ++it) {  // overlay lists the top layer first
      if (it != lower.rbegin()) data += ':';
      data += *it;
    }
    data += ",upperdir=" + session_dir + "/upper,workdir=" + session_dir + "/work";
    if (data.size() > kMaxMountData) return invalid("image has too many layers to mount");
    if (::mount("overlay", rootfs.c_str(), "overlay", 0, data.c_str()) != 0) {
      return make_error(ErrorCode::kInternal, "mount overlay at " + rootfs + ": " + std::strerror(errno));
    }
    return rootfs;
  }

  Status release_rootfs(const std::string& session_dir) override {
    const std::string rootfs = session_dir + "/rootfs";
    while (is_mountpoint(rootfs)) {
      if (::umount2(rootfs.c_str(), MNT_DETACH) != 0) {
        if (errno == EINVAL || errno == ENOENT) break;
        return make_error(ErrorCode::kInternal, "umount " + rootfs + ": " + std::strerror(errno));
      }
    }
    return ok_status();
  }

  [[nodiscard]] std::vector<std::string> images() const override {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ + "/blobs/sha256", ec)) {
      if (!e.is_regular_file(ec) || e.file_size(ec) > kMaxOciDocumentBytes) continue;
      const std::string digest = "sha256:" + e.path().filename().string();
      if (!is_oci_digest(digest)) continue;
      if (load(digest)) out.push_back(digest);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  Status init() {
    std::error_code ec;
    for (const char* d : {"/blobs/sha256", "/layers", "/tmp"}) {
      fs::create_directories(dir_ + d, ec);
      if (ec) return make_error(ErrorCode::kInternal, dir_ + d + ": " + ec.message());
    }
    // Leftovers of interrupted writes and unpacks.
    for (const auto& e : fs::directory_iterator(dir_ + "/tmp", ec)) fs::remove_all(e.path(), ec);
    return ok_status();
  }

 private:
  struct Loaded {
    OciManifest manifest;
    ImageConfig config;
  };

  [[nodiscard]] std::string blob_path(const std::string& digest) const {
    return dir_ + "/blobs/sha256/" + digest.substr(7);
  }

  Result<std::string> read_limited(const std::string& digest, size_t max) const {
    const std::string path = blob_path(digest);
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) return make_error(ErrorCode::kNotFound, "blob " + digest + " is not in the store");
    if (size > max) return make_error(ErrorCode::kPayloadTooLarge, "blob " + digest + " is too large");
    std::ifstream in(path, std::ios::binary);
    std::string data(size, '\0');
    in.read(data.data(), static_cast<std::streamsize>(size));
    if (static_cast<size_t>(in.gcount()) != size)
      return make_error(ErrorCode::kInternal, "blob " + digest + ": short read");
    return data;
  }

  Result<Loaded> load(const std::string& manifest_digest) const {
    if (!is_oci_digest(manifest_digest)) return invalid("\"" + manifest_digest + "\" is not a sha256 digest");
    auto mtext = read_limited(manifest_digest, kMaxOciDocumentBytes);
    if (!mtext) {
      if (mtext.error().code == ErrorCode::kNotFound) {
        return make_error(ErrorCode::kNotFound, "manifest blob " + manifest_digest + " is missing");
      }
      return tl::make_unexpected(mtext.error());
    }
    XOP_ASSIGN_OR_RETURN(OciManifest m, parse_oci_manifest(*mtext));
    auto ctext = read_limited(m.config.digest, kMaxOciDocumentBytes);
    if (!ctext) {
      if (ctext.error().code == ErrorCode::kNotFound) {
        return make_error(ErrorCode::kNotFound, "config blob " + m.config.digest + " is missing");
      }
      return tl::make_unexpected(ctext.error());
    }
    if (static_cast<int64_t>(ctext->size()) != m.config.size) {
      return invalid("config blob " + m.config.digest + ": size differs from the manifest");
    }
    XOP_ASSIGN_OR_RETURN(OciImageConfig c, parse_oci_image_config(*ctext));
    if (c.has_rootfs && c.diff_ids.size() != m.layers.size()) {
      return invalid("image config lists " + std::to_string(c.diff_ids.size()) + " layers, the manifest " +
                     std::to_string(m.layers.size()));
    }
    std::string missing;
    for (const auto& l : m.layers) {
      if (!has_blob(l.desc.digest)) missing += (missing.empty() ? "" : ", ") + l.desc.digest;
    }
    if (!missing.empty()) return make_error(ErrorCode::kNotFound, "layer blobs missing: " + missing);
    Loaded out;
    out.config.manifest_digest = manifest_digest;
    for (const auto& l : m.layers) out.config.layers.push_back(l.desc.digest);
    out.config.entrypoint = std::move(c.entrypoint);
    out.config.cmd = std::move(c.cmd);
    out.config.env = std::move(c.env);
    out.config.working_dir = std::move(c.working_dir);
    out.manifest = std::move(m);
    return out;
  }

  // Unpacks a layer once into layers/<hex> (via a private tmp dir and rename, so concurrent
  // preparers never see a partial layer; the loser of a race discards its copy).
  Result<std::string> ensure_layer(const OciLayerRef& layer, bool lowest) {
    const std::string hex = layer.desc.digest.substr(7);
    // The lowest layer drops whiteouts; the same blob higher up keeps them: different trees.
    const std::string final_dir = dir_ + "/layers/" + hex + (lowest ? "" : ".upper");
    std::error_code ec;
    if (fs::is_directory(final_dir, ec)) return final_dir;
    const std::string blob = blob_path(layer.desc.digest);
    const auto size = fs::file_size(blob, ec);
    if (ec || static_cast<int64_t>(size) != layer.desc.size) {
      return invalid("layer " + layer.desc.digest + ": size differs from the manifest");
    }
    XOP_ASSIGN_OR_RETURN(std::string actual, oci_digest_of_file(blob));
    if (actual != layer.desc.digest) {
      return make_error(ErrorCode::kInternal, "layer blob " + layer.desc.digest + " is corrupt on disk");
    }
    const std::string tmp = dir_ + "/tmp/layer-" + hex.substr(0, 16) + "-" + random_id("t");
    fs::create_directories(tmp, ec);
    if (ec) return make_error(ErrorCode::kInternal, tmp + ": " + ec.message());
    ::chmod(tmp.c_str(), 0755);
    auto st = unpack_layer(blob, layer.compression, tmp, lowest);
    if (!st) {
      fs::remove_all(tmp, ec);
      return make_error(st.error().code, "layer " + layer.desc.digest + ": " + st.error().message);
    }
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
      const int err = errno;
      fs::remove_all(tmp, ec);
      if ((err == EEXIST || err == ENOTEMPTY) && fs::is_directory(final_dir, ec)) return final_dir;
      return make_error(ErrorCode::kInternal, "rename layer: " + std::string(std::strerror(err)));
    }
    XOP_LOG_INFO("image layer unpacked digest={}", layer.desc.digest);
    return final_dir;
  }

  std::string dir_;
};

}  // namespace

Result<std::unique_ptr<ImageStore>> ImageStore::open(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') return invalid("image store directory must be an absolute path");
  auto store = std::make_unique<FsImageStore>(dir);
  XOP_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<ImageStore>(std::move(store));
}

}  // namespace xop
