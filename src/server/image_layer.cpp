#include "server/image_layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace xop {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

// Splits a member path into clean components; refuses absolute paths and "..".
Result<std::vector<std::string>> split_member(const std::string& raw) {
  if (raw.find('\0') != std::string::npos) return invalid("layer member has a NUL byte in its name");
  if (!raw.empty() && raw[0] == '/') return invalid("layer member \"" + raw + "\" has an absolute path");
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string::npos) end = raw.size();
    std::string part = raw.substr(start, end - start);
    if (part == "..") return invalid("layer member \"" + raw + "\" escapes the layer (\"..\")");
    if (!part.empty() && part != ".") {
      if (part.size() > 255) return invalid("layer member \"" + raw + "\": name component too long");
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  if (parts.size() > 256) return invalid("layer member \"" + raw + "\": nested too deep");
  return parts;
}

// True when `target`, read relative to the directory holding `parts` (absolute targets: relative
// to the layer root), stays inside the layer.
bool symlink_stays_inside(const std::vector<std::string>& parts, const std::string& target) {
  int depth = target.starts_with("/") ? 0 : static_cast<int>(parts.size()) - 1;
  size_t start = 0;
  while (start <= target.size()) {
    size_t end = target.find('/', start);
    if (end == std::string::npos) end = target.size();
    const std::string_view part(target.data() + start, end - start);
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = end + 1;
  }
  return true;
}

// Opens (creating as needed) the directory holding the last component, never following symlinks.
Result<Fd> open_parent(int root_fd, const std::vector<std::string>& parts, const std::string& name) {
  Fd cur(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (cur.get() < 0) return make_error(ErrorCode::kInternal, "dup failed");
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int fd = ::openat(cur.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(cur.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
        return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": mkdir: " + std::strerror(errno));
      }
      fd = ::openat(cur.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return invalid("layer member \"" + name + "\" goes through a symlink or a non-directory");
      }
      return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": " + std::strerror(errno));
    }
    cur = Fd(fd);
  }
  return cur;
}

// Removes whatever non-directory is at dir/leaf (later entries replace earlier ones).
// The result of a chown of a member to the owner the layer names. The owner matters (a session
// running as the image's User must own its files), so a failure is an error, except EPERM when
// not root: unpacking without privileges (tests, the simulator) leaves every file the caller's.
Status check_chown(int rc, const std::string& name) {
  if (rc == 0) return ok_status();
  const int err = errno;
  if (err == EPERM && ::geteuid() != 0) return ok_status();
  return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": chown: " + std::strerror(err));
}

Status clear_leaf(int dir, const std::string& leaf, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return ok_status();
  if (S_ISDIR(st.st_mode)) return invalid("layer member \"" + name + "\" would replace a directory");
  if (::unlinkat(dir, leaf.c_str(), 0) != 0) {
    return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": unlink: " + std::strerror(errno));
  }
  return ok_status();
}

Status write_contents(archive* a, int fd, const std::string& name, int64_t& total, const LayerLimits& limits) {
  char buf[1 << 16];
  while (true) {
    const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n == 0) return ok_status();
    if (n < 0) return invalid("layer member \"" + name + "\": " + archive_error_string(a));
    total += n;
    if (total > limits.max_bytes) {
      return invalid("layer is larger than " + std::to_string(limits.max_bytes) + " bytes uncompressed");
    }
    for (la_ssize_t off = 0; off < n;) {
      const ssize_t w = ::write(fd, buf + off, static_cast<size_t>(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": write: " + std::strerror(errno));
      }
      off += w;
    }
  }
}

}  // namespace

Status unpack_layer(const std::string& blob_path, LayerCompression compression, const std::string& dest,
                    bool lowest_layer, const LayerLimits& limits) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  switch (compression) {
    case LayerCompression::kNone:
      archive_read_support_filter_none(a.get());
      break;
    case LayerCompression::kGzip:
      archive_read_support_filter_gzip(a.get());
      break;
    case LayerCompression::kZstd:
      archive_read_support_filter_zstd(a.get());
      break;
  }
  if (archive_read_open_filename(a.get(), blob_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return invalid("layer " + blob_path + ": " + archive_error_string(a.get()));
  }
  Fd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (root.get() < 0) return make_error(ErrorCode::kInternal, dest + ": " + std::strerror(errno));

  int64_t total = 0;
  int64_t entries = 0;
  archive_entry* e = nullptr;
  while (true) {
    const int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return invalid("layer: " + std::string(archive_error_string(a.get())));
    if (++entries > limits.max_entries)
      return invalid("layer has more than " + std::to_string(limits.max_entries) + " entries");
    const char* raw_name = archive_entry_pathname(e);
    const std::string name = raw_name != nullptr ? raw_name : "";
    XOP_ASSIGN_OR_RETURN(std::vector<std::string> parts, split_member(name));
    if (parts.empty()) continue;  // the layer root itself
    const int64_t size = archive_entry_size(e);
    if (size < 0 || size > limits.max_bytes || total + size > limits.max_bytes) {
      return invalid("layer member \"" + name + "\" is too large (" + std::to_string(size) + " bytes)");
    }
    XOP_ASSIGN_OR_RETURN(Fd parent, open_parent(root.get(), parts, name));
    const std::string& leaf = parts.back();
    const auto uid = static_cast<uid_t>(archive_entry_uid(e));
    const auto gid = static_cast<gid_t>(archive_entry_gid(e));
    // Permission bits and sticky only: setuid/setgid are stripped.
    const mode_t mode = archive_entry_perm(e) & 01777;

    if (leaf.starts_with(kWhiteoutPrefix)) {
      if (lowest_layer) continue;  // nothing below to hide
      if (leaf == kOpaqueMarker) {
        if (::fsetxattr(parent.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
          return make_error(ErrorCode::kInternal,
                            "layer member \"" + name + "\": opaque xattr: " + std::strerror(errno));
        }
        continue;
      }
      const std::string hidden = leaf.substr(kWhiteoutPrefix.size());
      if (hidden.empty() || hidden == "." || hidden == "..")
        return invalid("layer member \"" + name + "\": bad whiteout");
      XOP_RETURN_IF_ERROR(clear_leaf(parent.get(), hidden, name));
      if (::mknodat(parent.get(), hidden.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
        return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": whiteout: " + std::strerror(errno));
      }
      continue;
    }

    const auto type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    if (hardlink != nullptr) {
      XOP_ASSIGN_OR_RETURN(std::vector<std::string> tparts, split_member(hardlink));
      if (tparts.empty()) return invalid("layer member \"" + name + "\": hard link to the layer root");
      XOP_ASSIGN_OR_RETURN(Fd tparent, open_parent(root.get(), tparts, hardlink));
      struct stat st {};
      if (::fstatat(tparent.get(), tparts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        return invalid("layer member \"" + name + "\": hard link target \"" + std::string(hardlink) +
                       "\" is not a regular file of this layer");
      }
      XOP_RETURN_IF_ERROR(clear_leaf(parent.get(), leaf, name));
      if (::linkat(tparent.get(), tparts.back().c_str(), parent.get(), leaf.c_str(), 0) != 0) {
        return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": link: " + std::strerror(errno));
      }
      continue;
    }

    switch (type) {
      case AE_IFDIR: {
        struct stat st {};
        if (::fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
          XOP_RETURN_IF_ERROR(clear_leaf(parent.get(), leaf, name));
        }
        if (::mkdirat(parent.get(), leaf.c_str(), 0700) != 0 && errno != EEXIST) {
          return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": mkdir: " + std::strerror(errno));
        }
        Fd d(::openat(parent.get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (d.get() < 0)
          return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": " + std::strerror(errno));
        XOP_RETURN_IF_ERROR(check_chown(::fchown(d.get(), uid, gid), name));
        ::fchmod(d.get(), mode);
        break;
      }
      case AE_IFREG: {
        XOP_RETURN_IF_ERROR(clear_leaf(parent.get(), leaf, name));
        Fd f(::openat(parent.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (f.get() < 0)
          return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": " + std::strerror(errno));
        XOP_RETURN_IF_ERROR(write_contents(a.get(), f.get(), name, total, limits));
        XOP_RETURN_IF_ERROR(check_chown(::fchown(f.get(), uid, gid), name));
        ::fchmod(f.get(), mode);  // after chown, which would clear setuid anyway
        break;
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (target == nullptr || *target == '\0') return invalid("layer member \"" + name + "\": empty symlink");
        if (!symlink_stays_inside(parts, target)) {
          return invalid("layer member \"" + name + "\": symlink to \"" + std::string(target) + "\" escapes the layer");
        }
        XOP_RETURN_IF_ERROR(clear_leaf(parent.get(), leaf, name));
        if (::symlinkat(target, parent.get(), leaf.c_str()) != 0) {
          return make_error(ErrorCode::kInternal, "layer member \"" + name + "\": symlink: " + std::strerror(errno));
        }
        XOP_RETURN_IF_ERROR(check_chown(::fchownat(parent.get(), leaf.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW), name));
        break;
      }
      case AE_IFCHR:
      case AE_IFBLK:
        return invalid("layer member \"" + name + "\" is a device node");
      default:
        break;  // FIFOs and sockets: skipped
    }
  }
  return ok_status();
}

}  // namespace xop
