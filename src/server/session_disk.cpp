#include "server/session_disk.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/file_util.h"
#include "core/ignore_error.h"
#include "server/sandbox_process.h"

namespace xop {
namespace {

namespace fs = std::filesystem;

constexpr auto kMkfsDeadline = std::chrono::seconds(60);
constexpr int kLoopAttempts = 16;  // a free device can be taken by someone else between the two calls

std::string image_path(const std::string& dir) { return dir + "/disk.img"; }
std::string mount_path(const std::string& dir) { return dir + "/disk"; }

Error sys_error(const std::string& what) { return Error{ErrorCode::kInternal, what + ": " + std::strerror(errno)}; }

bool is_mount_point(const std::string& path) {
  struct stat st {};
  struct stat parent {};
  if (::stat(path.c_str(), &st) != 0) return false;
  if (::stat((path + "/..").c_str(), &parent) != 0) return false;
  return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino;
}

// Attaches `image` to a free loop device that detaches itself when its last user goes; returns
// the open device (the caller mounts it, then closes the descriptor) and its path.
Result<std::pair<int, std::string>> attach_loop(const std::string& image) {
  const int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) return tl::make_unexpected(sys_error("/dev/loop-control"));
  const int backing = ::open(image.c_str(), O_RDWR | O_CLOEXEC);
  if (backing < 0) {
    ::close(ctl);
    return tl::make_unexpected(sys_error(image));
  }
  Error last{ErrorCode::kInternal, "no free loop device"};
  for (int attempt = 0; attempt < kLoopAttempts; ++attempt) {
    const int n = ::ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) {
      last = sys_error("LOOP_CTL_GET_FREE");
      break;
    }
    const std::string dev = "/dev/loop" + std::to_string(n);
    const int fd = ::open(dev.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      last = sys_error(dev);
      continue;
    }
    loop_config cfg{};
    cfg.fd = static_cast<uint32_t>(backing);
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    std::strncpy(reinterpret_cast<char*>(cfg.info.lo_file_name), image.c_str(), LO_NAME_SIZE - 1);
    if (::ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
      ::close(backing);
      ::close(ctl);
      return std::make_pair(fd, dev);
    }
    last = sys_error("LOOP_CONFIGURE " + dev);
    ::close(fd);
    if (errno != EBUSY) break;
  }
  ::close(backing);
  ::close(ctl);
  return tl::make_unexpected(last);
}

// The block device name ("loop3") of the file system mounted on `mnt`.
Result<std::string> device_name_of(const std::string& mnt) {
  struct stat st {};
  if (::stat(mnt.c_str(), &st) != 0) return make_error(ErrorCode::kNotFound, mnt + ": no session disk");
  // A device number names one device for as long as it exists (loop N is 7:N): resolved once,
  // not per sample (the symlink walk was a good part of an idle server's sampling).
  static std::mutex mu;
  static std::map<dev_t, std::string> names;
  {
    std::lock_guard lock(mu);
    if (auto it = names.find(st.st_dev); it != names.end()) return it->second;
  }
  const std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  std::error_code ec;
  const fs::path target = fs::canonical(sys, ec);
  if (ec) return make_error(ErrorCode::kNotFound, mnt + ": not on a block device");
  std::lock_guard lock(mu);
  return names[st.st_dev] = target.filename().string();
}

}  // namespace

Status check_session_disk_support() {
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) {
    return make_error(ErrorCode::kUnavailable, "session disks need loop devices: /dev/loop-control is not usable (" +
                                                   std::string(std::strerror(errno)) +
                                                   "); load the loop module (modprobe loop)");
  }
  std::ifstream fss("/proc/filesystems");
  std::string line;
  bool ext4 = false;
  while (std::getline(fss, line)) ext4 = ext4 || line.find("\text4") != std::string::npos;
  if (!ext4) return make_error(ErrorCode::kUnavailable, "session disks need ext4, which this kernel does not offer");
  if (find_program("mkfs.ext4").empty()) {
    return make_error(ErrorCode::kUnavailable, "session disks need mkfs.ext4 on PATH (install e2fsprogs)");
  }
  return ok_status();
}

bool session_disk_mounted(const std::string& dir) { return is_mount_point(mount_path(dir)); }

Status create_session_disk(const std::string& dir, int64_t bytes) {
  const std::string img = image_path(dir);
  const std::string mnt = mount_path(dir);
  if (session_disk_mounted(dir)) return ok_status();
  bytes = std::max(bytes, kMinSessionDiskBytes);
  std::error_code ec;
  fs::create_directories(mnt, ec);
  if (ec) return make_error(ErrorCode::kInternal, mnt + ": " + ec.message());
  auto fail = [&](Error e) -> Status {
    fs::remove(img, ec);
    return tl::make_unexpected(std::move(e));
  };
  {
    const int fd = ::open(img.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail(sys_error(img));
    const int rc = ::ftruncate(fd, bytes);
    const int err = errno;
    ::close(fd);
    errno = err;
    if (rc != 0) return fail(sys_error("truncate " + img));
  }
  auto mkfs = run_command({"mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", "-E",
                           "lazy_itable_init=0,lazy_journal_init=0,nodiscard,root_owner=0:0", img},
                          kMkfsDeadline);
  if (!mkfs) return fail(mkfs.error());
  if (mkfs->exit_code != 0) {
    return fail(Error{ErrorCode::kInternal, "mkfs.ext4 " + img + " failed: " + mkfs->err.substr(0, 500)});
  }
  auto loop = attach_loop(img);
  if (!loop) return fail(loop.error());
  const auto [fd, dev] = *loop;
  const int rc = ::mount(dev.c_str(), mnt.c_str(), "ext4", MS_NODEV | MS_NOSUID, "");
  const int err = errno;
  ::close(fd);  // the mount holds the device now; without one, autoclear detaches it here
  if (rc != 0) {
    errno = err;
    return fail(sys_error("mount " + dev + " on " + mnt));
  }
  return ok_status();
}

Result<int64_t> session_disk_written_bytes(const std::string& dir, bool flush) {
  const std::string mnt = mount_path(dir);
  if (!is_mount_point(mnt)) return make_error(ErrorCode::kNotFound, mnt + ": no session disk mounted");
  if (flush) {
    const int fd = ::open(mnt.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ignore_errno(::syncfs(fd),
                   "the write count is read unflushed: low by what is cached, the next sample catches up");
      ::close(fd);
    }
  }
  XOP_ASSIGN_OR_RETURN(std::string dev, device_name_of(mnt));
  const std::string path = "/sys/fs/ext4/" + dev + "/session_write_kbytes";
  XOP_ASSIGN_OR_RETURN(std::string text, read_file_capped(path, 64));
  int64_t kib = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && i < 18; ++i) kib = kib * 10 + (text[i] - '0');
  if (i == 0) return make_error(ErrorCode::kInternal, path + ": unexpected content");
  return kib * 1024;
}

Status remove_session_disk(const std::string& dir) {
  const std::string mnt = mount_path(dir);
  while (is_mount_point(mnt)) {
    if (::umount2(mnt.c_str(), 0) == 0) continue;
    if (errno == EBUSY) {
      // Held elsewhere (a mount namespace not yet gone): detach it; the device goes with its last user.
      if (::umount2(mnt.c_str(), MNT_DETACH) == 0) continue;
    }
    if (errno == EINVAL || errno == ENOENT) break;
    return tl::make_unexpected(sys_error("umount " + mnt));
  }
  std::error_code ec;
  fs::remove(image_path(dir), ec);
  if (ec) return make_error(ErrorCode::kInternal, image_path(dir) + ": " + ec.message());
  fs::remove(mnt, ec);  // only when empty: a directory disk (no loop) keeps its content for the caller
  return ok_status();
}

std::vector<std::string> mounts_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  const std::string base = fs::weakly_canonical(dir, ec).string();
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string id, parent, devno, root, point;
    if (!(ss >> id >> parent >> devno >> root >> point)) continue;
    if (point == base || point.rfind(base + "/", 0) == 0) out.push_back(point);
  }
  return out;
}

std::vector<std::string> loop_devices_backed_under(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  const std::string prefix = fs::weakly_canonical(dir, ec).string() + "/";
  for (const auto& e : fs::directory_iterator("/sys/block", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("loop", 0) != 0) continue;
    auto f = read_file_capped(e.path().string() + "/loop/backing_file", 4096);
    if (f && f->rfind(prefix, 0) == 0) out.push_back(name);
  }
  return out;
}

}  // namespace xop
