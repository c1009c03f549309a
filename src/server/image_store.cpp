#include "server/image_store.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "core/ignore_error.h"
#include "core/json_reader.h"
#include "core/log.h"
#include "crypto/digest.h"
#include "crypto/keys.h"
#include "image/oci_image.h"
#include "server/image_layer.h"
#include "storage/sqlite_db.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

// The overlay mount option string must fit in one page.
constexpr size_t kMaxMountData = 4000;

// Recently used items are spared by the LRU pass for at most this long (an upload in progress).
constexpr int64_t kLruSpareMs = 10 * 60 * 1000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS blobs (
  digest TEXT PRIMARY KEY, size INTEGER NOT NULL, stored_at INTEGER NOT NULL, used_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS owners (
  digest TEXT NOT NULL, account TEXT NOT NULL, since INTEGER NOT NULL, PRIMARY KEY (digest, account));
CREATE INDEX IF NOT EXISTS owners_by_account ON owners (account);
CREATE TABLE IF NOT EXISTS public_marks (
  manifest TEXT NOT NULL, account TEXT NOT NULL, PRIMARY KEY (manifest, account));
CREATE TABLE IF NOT EXISTS public_blobs (
  manifest TEXT NOT NULL, blob TEXT NOT NULL, PRIMARY KEY (manifest, blob));
CREATE INDEX IF NOT EXISTS public_by_blob ON public_blobs (blob);
CREATE TABLE IF NOT EXISTS layers (
  name TEXT PRIMARY KEY, blob TEXT NOT NULL, bytes INTEGER NOT NULL, used_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS uses (
  session_dir TEXT PRIMARY KEY, manifest TEXT NOT NULL, blobs TEXT NOT NULL, layers TEXT NOT NULL,
  since INTEGER NOT NULL);
)sql";

int64_t tree_bytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += static_cast<int64_t>(it->file_size(ec));
  }
  return total;
}

std::string mib(int64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

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
  FsImageStore(std::string dir, ImageStoreOptions opts, const Clock& clock, SqliteDb db)
      : dir_(std::move(dir)), opts_(opts), clock_(clock), db_(std::move(db)) {}
  using ImageStore::put_blob;

  [[nodiscard]] bool has_blob(const std::string& digest) const override {
    if (!is_oci_digest(digest)) return false;
    std::error_code ec;
    return fs::is_regular_file(blob_path(digest), ec);
  }

  Status put_blob(const std::string& owner, const std::string& digest, std::string_view data) override {
    if (!is_oci_digest(digest)) return invalid("\"" + digest + "\" is not a sha256 digest");
    if (data.size() > kMaxBlobBytes) {
      return make_error(ErrorCode::kPayloadTooLarge, "blob larger than " + std::to_string(kMaxBlobBytes) + " bytes");
    }
    const auto size = static_cast<int64_t>(data.size());
    const std::string actual = oci_digest(data);
    if (actual != digest) return invalid("blob content hashes to " + actual + ", not " + digest);
    {
      std::lock_guard lock(mu_);
      XOP_RETURN_IF_ERROR(admit_locked(owner, digest, size));
      if (has_blob(digest)) return record_locked(owner, digest, size);
    }
    const std::string tmp = dir_ + "/tmp/blob-" + random_id("t");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(ErrorCode::kInternal, tmp + ": " + std::strerror(errno));
    auto st = write_fully(fd, data, tmp);
    if (st && ::fsync(fd) != 0) st = make_error(ErrorCode::kInternal, tmp + ": fsync: " + std::strerror(errno));
    ::close(fd);
    if (st) st = commit_file(owner, digest, size, tmp);
    if (!st) ::unlink(tmp.c_str());
    return st;
  }

  Status admit_blob(const std::string& owner, const std::string& digest, int64_t size) override {
    if (!is_oci_digest(digest)) return invalid("\"" + digest + "\" is not a sha256 digest");
    if (size < 0 || size > static_cast<int64_t>(kMaxBlobBytes)) {
      return make_error(ErrorCode::kPayloadTooLarge, "blob larger than " + std::to_string(kMaxBlobBytes) + " bytes");
    }
    std::lock_guard lock(mu_);
    return admit_locked(owner, digest, size);
  }

  [[nodiscard]] bool is_owner(const std::string& account, const std::string& digest) const override {
    if (account.empty() || !is_oci_digest(digest)) return false;
    std::lock_guard lock(mu_);
    return owner_locked(account, digest);
  }

  [[nodiscard]] bool is_public(const std::string& digest) const override {
    if (!is_oci_digest(digest)) return false;
    std::lock_guard lock(mu_);
    return public_locked(digest);
  }

  Status set_public(const std::string& account, const std::string& manifest_digest, bool make_public) override {
    const auto not_found = [&] { return make_error(ErrorCode::kNotFound, "no such image: " + manifest_digest); };
    if (!is_oci_digest(manifest_digest)) return invalid("\"" + manifest_digest + "\" is not a sha256 digest");
    // Only an owner of the manifest hears more than "no such image" (e.g. that it does not parse).
    if (!is_owner(account, manifest_digest)) return not_found();
    auto img = load(manifest_digest);
    if (!img) return img.error().code == ErrorCode::kNotFound ? not_found() : Status(tl::make_unexpected(img.error()));
    const auto blobs = closure(*img);
    std::lock_guard lock(mu_);
    for (const auto& b : blobs) {
      if (!owner_locked(account, b)) return not_found();
    }
    SqliteTxn txn(db_);
    XOP_RETURN_IF_ERROR(txn.begin());
    if (make_public) {
      XOP_ASSIGN_OR_RETURN(auto mark,
                           db_.prepare("INSERT OR IGNORE INTO public_marks (manifest, account) VALUES (?, ?)"));
      XOP_RETURN_IF_ERROR(mark.bind(1, manifest_digest).bind(2, account).run());
      for (const auto& b : blobs) {
        XOP_ASSIGN_OR_RETURN(auto pb, db_.prepare("INSERT OR IGNORE INTO public_blobs (manifest, blob) VALUES (?, ?)"));
        XOP_RETURN_IF_ERROR(pb.bind(1, manifest_digest).bind(2, b).run());
      }
    } else {
      XOP_ASSIGN_OR_RETURN(auto del, db_.prepare("DELETE FROM public_marks WHERE manifest = ? AND account = ?"));
      XOP_RETURN_IF_ERROR(del.bind(1, manifest_digest).bind(2, account).run());
      XOP_RETURN_IF_ERROR(drop_unmarked_locked(manifest_digest));
    }
    return txn.commit();
  }

  Status check_use(const std::string& account, const std::string& manifest_digest) const override {
    if (!is_oci_digest(manifest_digest)) return invalid("\"" + manifest_digest + "\" is not a sha256 digest");
    auto usable = [&](const std::string& digest) {
      std::lock_guard lock(mu_);
      return has_blob(digest) && (owner_locked(account, digest) || public_locked(digest));
    };
    if (!usable(manifest_digest)) {
      return make_error(ErrorCode::kNotFound, "manifest blob " + manifest_digest + " is missing");
    }
    XOP_ASSIGN_OR_RETURN(auto mtext, read_limited(manifest_digest, kMaxOciDocumentBytes));
    XOP_ASSIGN_OR_RETURN(OciManifest m, parse_oci_manifest(mtext));
    if (!usable(m.config.digest)) {
      return make_error(ErrorCode::kNotFound, "config blob " + m.config.digest + " is missing");
    }
    std::string missing;
    for (const auto& l : m.layers) {
      if (!usable(l.desc.digest)) missing += (missing.empty() ? "" : ", ") + l.desc.digest;
    }
    if (!missing.empty()) return make_error(ErrorCode::kNotFound, "layer blobs missing: " + missing);
    return ok_status();
  }

  Status put_blob_file(const std::string& owner, const std::string& digest, const std::string& path) override {
    if (!is_oci_digest(digest)) return invalid("\"" + digest + "\" is not a sha256 digest");
    struct stat sb {};
    if (::stat(path.c_str(), &sb) != 0) return make_error(ErrorCode::kInternal, path + ": " + std::strerror(errno));
    if (static_cast<uint64_t>(sb.st_size) > kMaxBlobBytes) {
      return make_error(ErrorCode::kPayloadTooLarge, "blob larger than " + std::to_string(kMaxBlobBytes) + " bytes");
    }
    const auto size = static_cast<int64_t>(sb.st_size);
    XOP_ASSIGN_OR_RETURN(auto actual, oci_digest_of_file(path));
    if (actual != digest) return invalid("blob content hashes to " + actual + ", not " + digest);
    {
      std::lock_guard lock(mu_);
      XOP_RETURN_IF_ERROR(admit_locked(owner, digest, size));
      if (has_blob(digest)) return record_locked(owner, digest, size);
    }
    // Into the store's own tmp first (the file may be on another file system), then into place.
    const std::string tmp = dir_ + "/tmp/blob-" + random_id("t");
    if (::rename(path.c_str(), tmp.c_str()) != 0) {
      if (errno != EXDEV) return make_error(ErrorCode::kInternal, "rename blob: " + std::string(std::strerror(errno)));
      std::error_code ec;
      std::filesystem::copy_file(path, tmp, ec);
      if (ec) {
        ::unlink(tmp.c_str());
        return make_error(ErrorCode::kInternal, "copy blob: " + ec.message());
      }
    }
    const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    Status st = ok_status();
    if (fd < 0 || ::fsync(fd) != 0) st = make_error(ErrorCode::kInternal, tmp + ": fsync: " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    if (st) {
      ::chmod(tmp.c_str(), 0644);
      st = commit_file(owner, digest, size, tmp);
    }
    if (!st) ::unlink(tmp.c_str());
    return st;
  }

  [[nodiscard]] StoreUsage usage_of(const std::string& account) const override {
    std::lock_guard lock(mu_);
    return usage_of_locked(account);
  }

  [[nodiscard]] StoreUsage usage() const override {
    std::lock_guard lock(mu_);
    return usage_locked();
  }

  Result<GcReport> collect_garbage() override {
    std::lock_guard lock(mu_);
    return gc_locked();
  }

  Result<std::string> blob_file(const std::string& digest) const override {
    if (!has_blob(digest)) return make_error(ErrorCode::kNotFound, "no such blob: " + digest);
    return blob_path(digest);
  }

  Result<std::string> read_blob(const std::string& digest) const override {
    if (!is_oci_digest(digest)) return invalid("\"" + digest + "\" is not a sha256 digest");
    return read_limited(digest, kMaxBlobBytes);
  }

  // Admission is a use: it dates the image's blobs so that GC spares them until the session starts.
  Result<ImageConfig> image(const std::string& manifest_digest) const override {
    XOP_ASSIGN_OR_RETURN(Loaded img, load(manifest_digest));
    {
      std::lock_guard lock(mu_);
      touch_locked(closure(img), {});
    }
    return std::move(img.config);
  }

  Result<std::string> prepare_rootfs(const std::string& manifest_digest, const std::string& session_dir) override {
    Loaded img;
    {
      // Loading and recording the use under the lock: GC never sees the image unused in between.
      std::lock_guard lock(mu_);
      XOP_ASSIGN_OR_RETURN(img, load(manifest_digest));
      XOP_RETURN_IF_ERROR(begin_use_locked(session_dir, img));
    }
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
    if (!opts_.mount_rootfs) {
      XOP_RETURN_IF_ERROR(copy_layers(lower, session_dir));
      return rootfs;
    }
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
    std::lock_guard lock(mu_);
    return end_use_locked(session_dir);
  }

  [[nodiscard]] std::vector<std::string> images() const override {
    std::vector<std::string> marked;
    {
      std::lock_guard lock(mu_);
      auto st = db_.prepare("SELECT DISTINCT manifest FROM public_marks ORDER BY manifest");
      if (!st) return {};
      marked = collect_rows<std::string>(*st, [](const SqliteStmt& q) {
                 return q.str(0);
               }).value_or(std::vector<std::string>{});
    }
    std::vector<std::string> out;
    for (const auto& digest : marked) {
      if (out.size() >= kMaxListedImages) break;
      if (load(digest)) out.push_back(digest);
    }
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
    XOP_RETURN_IF_ERROR(db_.exec(kSchema));
    std::lock_guard lock(mu_);
    return reconcile_locked();
  }

 private:
  struct Loaded {
    OciManifest manifest;
    ImageConfig config;
  };

  // The unmounted form of a root file system (ImageStoreOptions::mount_rootfs = false): each
  // unpacked layer copied over the ones below it into session_dir/rootfs; a whiteout (a 0/0
  // character device) removes the path it hides. Done once per session directory (a marker
  // file records completion), so a second call, as after a restart, changes nothing.
  static Status copy_layers(const std::vector<std::string>& lower, const std::string& session_dir) {
    const std::string rootfs = session_dir + "/rootfs";
    const std::string done = session_dir + "/rootfs.copied";
    std::error_code ec;
    if (fs::exists(done, ec)) return ok_status();
    for (const auto& layer : lower) {
      for (auto it = fs::recursive_directory_iterator(layer, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        // Lexically: fs::relative() would resolve the layer's own symlinks (and aim outside).
        const fs::path rel = it->path().lexically_relative(layer);
        if (rel.empty() || rel.is_absolute() || *rel.begin() == "..") {
          return make_error(ErrorCode::kInternal, "layer entry " + it->path().string() + " is outside " + layer);
        }
        const fs::path to = fs::path(rootfs) / rel;
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) continue;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
          fs::remove_all(to, ec);
          ec.clear();
          continue;
        }
        if (S_ISDIR(st.st_mode)) {
          if (fs::is_symlink(to, ec) || (fs::exists(to, ec) && !fs::is_directory(to, ec))) fs::remove(to, ec);
          fs::create_directories(to, ec);
          ::chmod(to.c_str(), st.st_mode & 07777);
        } else {
          // Whatever was there goes first, never written through: a lower layer's symlink must not
          // redirect an upper layer's file out of the root (parents are real directories: the walk
          // is pre-order and replaces a symlinked directory by a directory above).
          if (fs::symlink_status(to, ec).type() != fs::file_type::not_found) fs::remove_all(to, ec);
          ec.clear();
          fs::copy(it->path(), to, fs::copy_options::copy_symlinks, ec);
        }
        if (ec) return make_error(ErrorCode::kInternal, "copy layer into " + to.string() + ": " + ec.message());
      }
      if (ec) return make_error(ErrorCode::kInternal, "read layer " + layer + ": " + ec.message());
    }
    std::ofstream(done).put('\n');
    return ok_status();
  }

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
    out.config.user = std::move(c.user);
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
    XOP_LOGN_INFO("server", "image layer unpacked digest={}", layer.desc.digest);
    std::lock_guard lock(mu_);
    XOP_RETURN_IF_ERROR(
        record_layer_locked(layer_name(layer.desc.digest, lowest), layer.desc.digest, tree_bytes(final_dir)));
    return final_dir;
  }

  // Every blob of an image: manifest, config, layers.
  static std::vector<std::string> closure(const Loaded& img) {
    std::vector<std::string> out{img.config.manifest_digest, img.manifest.config.digest};
    for (const auto& l : img.manifest.layers) out.push_back(l.desc.digest);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  static std::string layer_name(const std::string& digest, bool lowest) {
    return digest.substr(7) + (lowest ? "" : ".upper");
  }

  bool owner_locked(const std::string& account, const std::string& digest) const {
    if (account.empty()) return false;
    auto st = db_.prepare("SELECT 1 FROM owners WHERE digest = ? AND account = ?");
    if (!st) return false;
    st->bind(1, digest).bind(2, account);
    return st->step().value_or(false);
  }
  bool public_locked(const std::string& digest) const {
    auto st = db_.prepare("SELECT 1 FROM public_blobs WHERE blob = ? LIMIT 1");
    if (!st) return false;
    st->bind(1, digest);
    return st->step().value_or(false);
  }
  StoreUsage usage_of_locked(const std::string& account) const {
    StoreUsage u;
    auto st = db_.prepare(
        "SELECT COALESCE(SUM(b.size), 0), COUNT(*) FROM owners o JOIN blobs b ON b.digest = o.digest WHERE o.account = "
        "?");
    if (st && st->bind(1, account).step().value_or(false)) {
      u.blob_bytes = st->i64(0);
      u.blobs = st->i64(1);
    }
    return u;
  }
  StoreUsage usage_locked() const {
    StoreUsage u;
    auto b = db_.prepare("SELECT COALESCE(SUM(size), 0), COUNT(*) FROM blobs");
    if (b && b->step().value_or(false)) {
      u.blob_bytes = b->i64(0);
      u.blobs = b->i64(1);
    }
    auto l = db_.prepare("SELECT COALESCE(SUM(bytes), 0), COUNT(*) FROM layers");
    if (l && l->step().value_or(false)) {
      u.layer_bytes = l->i64(0);
      u.layers = l->i64(1);
    }
    return u;
  }

  // The quotas of `owner` and the store cap, for adding `digest` of `size` bytes. A full store
  // first collects garbage.
  Status admit_locked(const std::string& owner, const std::string& digest, int64_t size) {
    if (!owner.empty() && !owner_locked(owner, digest)) {
      const StoreUsage u = usage_of_locked(owner);
      if (u.blob_bytes + size > opts_.quota_bytes_per_user) {
        return make_error(ErrorCode::kPayloadTooLarge,
                          "upload quota exceeded: your blobs on this server take " + std::to_string(u.blob_bytes) +
                              " bytes; " + std::to_string(size) + " more would pass the quota of " +
                              std::to_string(opts_.quota_bytes_per_user) + " bytes per user");
      }
      if (u.blobs + 1 > opts_.quota_blobs_per_user) {
        return make_error(ErrorCode::kPayloadTooLarge, "upload quota exceeded: you own " + std::to_string(u.blobs) +
                                                           " blobs on this server, the most a user may own");
      }
    }
    if (has_blob(digest)) return ok_status();
    auto over = [&] {
      const StoreUsage u = usage_locked();
      return u.blob_bytes + u.layer_bytes + size > opts_.max_store_bytes;
    };
    if (over()) {
      auto gc = gc_locked(size);
      if (!gc) XOP_LOGN_WARN("server", "image store garbage collection failed: {}", gc.error().message);
      if (over()) {
        return make_error(ErrorCode::kResourceExhausted,
                          "the image store is full (" + mib(opts_.max_store_bytes) + "); try another server");
      }
    }
    return ok_status();
  }

  // Adds `owner` to a stored blob (and dates its use).
  Status record_locked(const std::string& owner, const std::string& digest, int64_t size) {
    const TimeMs now = clock_.now_ms();
    SqliteTxn txn(db_);
    XOP_RETURN_IF_ERROR(txn.begin());
    XOP_ASSIGN_OR_RETURN(auto b, db_.prepare("INSERT INTO blobs (digest, size, stored_at, used_at) VALUES (?, ?, ?, ?) "
                                             "ON CONFLICT (digest) DO UPDATE SET used_at = excluded.used_at"));
    XOP_RETURN_IF_ERROR(b.bind(1, digest).bind(2, size).bind(3, now).bind(4, now).run());
    if (!owner.empty()) {
      XOP_ASSIGN_OR_RETURN(auto o,
                           db_.prepare("INSERT OR IGNORE INTO owners (digest, account, since) VALUES (?, ?, ?)"));
      XOP_RETURN_IF_ERROR(o.bind(1, digest).bind(2, owner).bind(3, now).run());
    }
    return txn.commit();
  }

  // Moves a verified temporary file into place (re-checking the quotas: uploads run in parallel).
  Status commit_file(const std::string& owner, const std::string& digest, int64_t size, const std::string& tmp) {
    std::lock_guard lock(mu_);
    XOP_RETURN_IF_ERROR(admit_locked(owner, digest, size));
    if (has_blob(digest)) {
      ::unlink(tmp.c_str());
      return record_locked(owner, digest, size);
    }
    // The row first, then the file: a failed or torn index write leaves the blob out entirely
    // (its temporary file goes), and a crash between the two leaves a row without a file, which
    // reconcile_locked() forgets at the next start. The other order would leave an unowned file
    // that reconciliation adopts: a put that failed would still have stored bytes.
    XOP_RETURN_IF_ERROR(record_locked(owner, digest, size));
    if (::rename(tmp.c_str(), blob_path(digest).c_str()) != 0) {
      const std::string why = std::strerror(errno);
      if (auto undo = forget_blob_locked(digest); !undo) {
        XOP_LOGN_ERROR("server", "image store: {} has an index row but no file until the next start: {}", digest,
                       undo.error().message);
      }
      return make_error(ErrorCode::kInternal, "rename blob: " + why);
    }
    fsync_dir(dir_ + "/blobs/sha256");
    return ok_status();
  }

  void touch_locked(const std::vector<std::string>& blobs, const std::vector<std::string>& layers) const {
    const TimeMs now = clock_.now_ms();
    for (const auto& b : blobs) {
      if (auto st = db_.prepare("UPDATE blobs SET used_at = ? WHERE digest = ?"))
        ignore_error(st->bind(1, now).bind(2, b).run(), "used_at only orders garbage collection");
    }
    for (const auto& l : layers) {
      if (auto st = db_.prepare("UPDATE layers SET used_at = ? WHERE name = ?"))
        ignore_error(st->bind(1, now).bind(2, l).run(), "used_at only orders garbage collection");
    }
  }

  Status begin_use_locked(const std::string& session_dir, const Loaded& img) {
    const auto blobs = closure(img);
    Json layers = Json::array();
    for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
      layers.push_back(layer_name(img.manifest.layers[i].desc.digest, i == 0));
    }
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT INTO uses (session_dir, manifest, blobs, layers, since) VALUES "
                                              "(?, ?, ?, ?, ?) ON CONFLICT (session_dir) DO UPDATE SET "
                                              "manifest = excluded.manifest, blobs = excluded.blobs, layers = "
                                              "excluded.layers"));
    XOP_RETURN_IF_ERROR(st.bind(1, session_dir)
                            .bind(2, img.config.manifest_digest)
                            .bind(3, Json(blobs).dump())
                            .bind(4, layers.dump())
                            .bind(5, clock_.now_ms())
                            .run());
    touch_locked(blobs, layers.get<std::vector<std::string>>());
    return ok_status();
  }

  Status end_use_locked(const std::string& session_dir) {
    XOP_ASSIGN_OR_RETURN(auto q, db_.prepare("SELECT blobs, layers FROM uses WHERE session_dir = ?"));
    q.bind(1, session_dir);
    XOP_ASSIGN_OR_RETURN(bool found, q.step());
    if (!found) return ok_status();
    // The end of a use dates it too: idleness counts from here.
    touch_locked(string_list(q.str(0)), string_list(q.str(1)));
    XOP_ASSIGN_OR_RETURN(auto del, db_.prepare("DELETE FROM uses WHERE session_dir = ?"));
    return del.bind(1, session_dir).run();
  }

  static std::vector<std::string> string_list(const std::string& json) {
    std::vector<std::string> out;
    const Json j = Json::parse(json, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& e : j) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
    return out;
  }

  Status drop_unmarked_locked(const std::string& manifest) {
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM public_blobs WHERE manifest = ?1 AND NOT EXISTS "
                                              "(SELECT 1 FROM public_marks WHERE manifest = ?1)"));
    return st.bind(1, manifest).run();
  }

  Status record_layer_locked(const std::string& name, const std::string& blob, int64_t bytes) {
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT OR REPLACE INTO layers (name, blob, bytes, used_at) VALUES "
                                              "(?, ?, ?, ?)"));
    return st.bind(1, name).bind(2, blob).bind(3, bytes).bind(4, clock_.now_ms()).run();
  }

  // Brings the metadata in line with the files: blobs and layers without a row (written before
  // a crash, or by an older version) are recorded as unowned and used now; rows without a file go.
  Status reconcile_locked() {
    const TimeMs now = clock_.now_ms();
    SqliteTxn txn(db_);
    XOP_RETURN_IF_ERROR(txn.begin());
    std::error_code ec;
    std::set<std::string> on_disk;
    for (const auto& e : fs::directory_iterator(dir_ + "/blobs/sha256", ec)) {
      const std::string digest = "sha256:" + e.path().filename().string();
      if (!is_oci_digest(digest) || !e.is_regular_file(ec)) continue;
      on_disk.insert(digest);
      XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT OR IGNORE INTO blobs (digest, size, stored_at, used_at) "
                                                "VALUES (?, ?, ?, ?)"));
      XOP_RETURN_IF_ERROR(
          st.bind(1, digest).bind(2, static_cast<int64_t>(e.file_size(ec))).bind(3, now).bind(4, now).run());
    }
    XOP_ASSIGN_OR_RETURN(auto all, db_.prepare("SELECT digest FROM blobs"));
    XOP_ASSIGN_OR_RETURN(auto rows, collect_rows<std::string>(all, [](const SqliteStmt& s) { return s.str(0); }));
    for (const auto& d : rows) {
      if (!on_disk.count(d)) XOP_RETURN_IF_ERROR(forget_blob_locked(d));
    }
    std::set<std::string> layer_dirs;
    for (const auto& e : fs::directory_iterator(dir_ + "/layers", ec)) {
      if (!e.is_directory(ec)) continue;
      const std::string name = e.path().filename().string();
      layer_dirs.insert(name);
      XOP_ASSIGN_OR_RETURN(auto has, db_.prepare("SELECT 1 FROM layers WHERE name = ?"));
      has.bind(1, name);
      XOP_ASSIGN_OR_RETURN(bool known, has.step());
      if (!known) XOP_RETURN_IF_ERROR(record_layer_locked(name, "sha256:" + name.substr(0, 64), tree_bytes(e.path())));
    }
    XOP_ASSIGN_OR_RETURN(auto ls, db_.prepare("SELECT name FROM layers"));
    XOP_ASSIGN_OR_RETURN(auto names, collect_rows<std::string>(ls, [](const SqliteStmt& s) { return s.str(0); }));
    for (const auto& n : names) {
      if (!layer_dirs.count(n)) XOP_RETURN_IF_ERROR(forget_layer_locked(n));
    }
    return txn.commit();
  }

  Status forget_blob_locked(const std::string& digest) {
    for (const char* sql : {"DELETE FROM blobs WHERE digest = ?", "DELETE FROM owners WHERE digest = ?",
                            "DELETE FROM public_blobs WHERE blob = ?", "DELETE FROM public_marks WHERE manifest = ?"}) {
      XOP_ASSIGN_OR_RETURN(auto st, db_.prepare(sql));
      XOP_RETURN_IF_ERROR(st.bind(1, digest).run());
    }
    // An image that lost a blob is no longer public as a whole; its other blobs lose the mark.
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM public_blobs WHERE manifest = ?"));
    return st.bind(1, digest).run();
  }
  Status forget_layer_locked(const std::string& name) {
    XOP_ASSIGN_OR_RETURN(auto st, db_.prepare("DELETE FROM layers WHERE name = ?"));
    return st.bind(1, name).run();
  }

  struct Item {
    bool layer = false;
    std::string key;  // layer name or blob digest
    int64_t bytes = 0;
    TimeMs used_at = 0;
  };

  Status remove_item_locked(const Item& it) {
    std::error_code ec;
    if (it.layer) {
      fs::remove_all(dir_ + "/layers/" + it.key, ec);
      if (ec) return make_error(ErrorCode::kInternal, "remove layer " + it.key + ": " + ec.message());
      XOP_LOGN_DEBUG("server", "image layer collected name={}", it.key);
      return forget_layer_locked(it.key);
    }
    fs::remove(blob_path(it.key), ec);
    if (ec) return make_error(ErrorCode::kInternal, "remove blob " + it.key + ": " + ec.message());
    XOP_LOGN_DEBUG("server", "image blob collected digest={}", it.key);
    return forget_blob_locked(it.key);
  }

  // `need`: bytes about to be added (an upload that found the store full).
  Result<GcReport> gc_locked(int64_t need = 0) {
    const TimeMs now = clock_.now_ms();
    std::set<std::string> used_blobs;
    std::set<std::string> used_layers;
    XOP_ASSIGN_OR_RETURN(auto uq, db_.prepare("SELECT blobs, layers FROM uses"));
    for (;;) {
      XOP_ASSIGN_OR_RETURN(bool row, uq.step());
      if (!row) break;
      for (auto& b : string_list(uq.str(0))) used_blobs.insert(std::move(b));
      for (auto& l : string_list(uq.str(1))) used_layers.insert(std::move(l));
    }
    std::vector<Item> items;
    XOP_ASSIGN_OR_RETURN(auto lq, db_.prepare("SELECT name, bytes, used_at, blob FROM layers"));
    for (;;) {
      XOP_ASSIGN_OR_RETURN(bool row, lq.step());
      if (!row) break;
      // A layer of a blob in use stays too (another session may unpack it any moment).
      if (used_layers.count(lq.str(0)) || used_blobs.count(lq.str(3))) continue;
      items.push_back(Item{true, lq.str(0), lq.i64(1), lq.i64(2)});
    }
    XOP_ASSIGN_OR_RETURN(auto bq, db_.prepare("SELECT digest, size, used_at FROM blobs"));
    for (;;) {
      XOP_ASSIGN_OR_RETURN(bool row, bq.step());
      if (!row) break;
      if (used_blobs.count(bq.str(0))) continue;
      items.push_back(Item{false, bq.str(0), bq.i64(1), bq.i64(2)});
    }
    // Least recently used first; at equal times layers first (they can be rebuilt from blobs).
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      return a.used_at != b.used_at ? a.used_at < b.used_at : a.layer > b.layer;
    });
    GcReport rep;
    const StoreUsage u = usage_locked();
    int64_t total = u.blob_bytes + u.layer_bytes;
    // Over the cap (counting what is about to be added): least recently used items go too,
    // down to the low-water mark, sparing recent ones.
    const bool over_cap = total + need > opts_.max_store_bytes;
    const int64_t low_water = opts_.max_store_bytes / 10 * 9;
    const int64_t spare_ms = std::min(opts_.gc_idle_ms, kLruSpareMs);
    std::set<std::string> removed_blobs;
    // One transaction for the pass (files go first: a crash in between leaves metadata without
    // files, which the next start-up drops).
    SqliteTxn txn(db_);
    XOP_RETURN_IF_ERROR(txn.begin());
    for (const auto& it : items) {
      const bool idle = now - it.used_at >= opts_.gc_idle_ms;
      const bool lru = over_cap && total + need > low_water && now - it.used_at >= spare_ms;
      if (!idle && !lru) continue;
      if (auto st = remove_item_locked(it); !st) {
        XOP_LOGN_WARN("server", "image store gc: {}", st.error().message);  // the next pass tries again
        continue;
      }
      if (it.layer) {
        ++rep.layers_removed;
      } else {
        ++rep.blobs_removed;
        removed_blobs.insert(it.key);
      }
      rep.bytes_freed += it.bytes;
      total -= it.bytes;
    }
    // Layers of removed blobs go with them (never in use: their blob was not).
    for (const auto& it : items) {
      if (!it.layer || !removed_blobs.count("sha256:" + it.key.substr(0, 64))) continue;
      std::error_code ec;
      if (!fs::exists(dir_ + "/layers/" + it.key, ec)) continue;
      if (auto st = remove_item_locked(it); !st) {
        XOP_LOGN_WARN("server", "image store gc: {}", st.error().message);  // the next pass tries again
        continue;
      }
      ++rep.layers_removed;
      rep.bytes_freed += it.bytes;
      total -= it.bytes;
    }
    XOP_RETURN_IF_ERROR(txn.commit());
    rep.bytes_kept = total;
    if (rep.blobs_removed + rep.layers_removed > 0) {
      XOP_LOGN_INFO("server", "image store gc: {} blobs and {} layers removed, {} bytes freed, {} bytes kept",
                    rep.blobs_removed, rep.layers_removed, rep.bytes_freed, rep.bytes_kept);
    }
    return rep;
  }

  std::string dir_;
  ImageStoreOptions opts_;
  const Clock& clock_;
  mutable std::mutex mu_;  // guards db_ and the decisions made on it
  mutable SqliteDb db_;
};

}  // namespace

Result<std::unique_ptr<ImageStore>> ImageStore::open(const std::string& dir, ImageStoreOptions opts,
                                                     const Clock* clock) {
  if (dir.empty() || dir[0] != '/') return invalid("image store directory must be an absolute path");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kInternal, dir + ": " + ec.message());
  XOP_ASSIGN_OR_RETURN(auto db, SqliteDb::open(dir + "/index.db", opts.index_durability));
  auto store =
      std::make_unique<FsImageStore>(dir, opts, clock != nullptr ? *clock : SystemClock::instance(), std::move(db));
  XOP_RETURN_IF_ERROR(store->init());
  return std::unique_ptr<ImageStore>(std::move(store));
}

}  // namespace xop
