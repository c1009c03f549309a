#include "image/rootfs_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xop {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

// Without openat2: every component opened with O_NOFOLLOW, so a symlink anywhere fails (ELOOP or
// ENOTDIR).
int open_nofollow(int root_fd, const std::string& rel) {
  int dir = ::dup(root_fd);
  if (dir < 0) return -1;
  size_t pos = 0;
  while (true) {
    const size_t slash = rel.find('/', pos);
    const std::string part = rel.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    const bool last = slash == std::string::npos;
    if (part == "..") {
      ::close(dir);
      errno = EXDEV;
      return -1;
    }
    if (part.empty() || part == ".") {
      if (last) {
        ::close(dir);
        errno = EISDIR;
        return -1;
      }
      pos = slash + 1;
      continue;
    }
    const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? O_NONBLOCK : O_DIRECTORY);
    const int next = ::openat(dir, part.c_str(), flags);
    const int err = errno;
    ::close(dir);
    if (next < 0) {
      errno = err;
      return -1;
    }
    if (last) return next;
    dir = next;
    pos = slash + 1;
  }
}

}  // namespace

Result<std::optional<std::string>> read_file_in_root(const std::string& root, const std::string& path,
                                                     size_t max_bytes) {
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
    return invalid("image path \"" + path + "\": expected an absolute path");
  }
  Fd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) {
    return make_error(ErrorCode::kInternal, "open image root " + root + ": " + std::strerror(errno));
  }
  const std::string rel = path.substr(1);
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;  // O_NONBLOCK: a FIFO planted there does not block
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd.get(), rel.c_str(), &how, sizeof how));
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) fd = open_nofollow(root_fd.get(), rel);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return std::optional<std::string>{};
    if (err == ELOOP || err == ENOTDIR || err == EXDEV) {
      return invalid("image file " + path + ": cannot be resolved inside the image (" + std::strerror(err) + ")");
    }
    return make_error(ErrorCode::kInternal, "open image file " + path + ": " + std::strerror(err));
  }
  Fd file(fd);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    return make_error(ErrorCode::kInternal, "stat image file " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return invalid("image file " + path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return invalid("image file " + path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(file.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::kInternal, "read image file " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return invalid("image file " + path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return std::optional<std::string>(std::move(out));
}

}  // namespace xop
