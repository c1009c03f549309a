#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace xop {

Status write_file_atomic(const std::string& path, std::string_view content, unsigned mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error(ErrorCode::kInternal, "cannot write " + path + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // the umask may have narrowed it; never widen beyond `mode`
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(ErrorCode::kInternal, "cannot write " + path + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kInternal, "cannot write " + path + ": " + why);
  }
  return {};
}

Status write_file_new(const std::string& path, std::string_view content, unsigned mode) {
  const std::string tmp = path + ".new." + std::to_string(::getpid());
  XOP_RETURN_IF_ERROR(write_file_atomic(tmp, content, mode));
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && err == EEXIST) return make_error(ErrorCode::kConflict, path + " exists; not overwriting it");
  if (linked != 0) return make_error(ErrorCode::kInternal, "cannot write " + path + ": " + std::strerror(err));
  return {};
}

Result<std::string> read_file_capped(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, "cannot read " + path);
  // Read in chunks: the cap bounds what is kept, not what is allocated up front (a 512 MiB cap
  // used to zero-fill 512 MiB for every small blob).
  std::string text;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size <= max_bytes) text.reserve(static_cast<size_t>(size));
  std::array<char, 64 * 1024> chunk;  // not zero-filled: read() fills what is used
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n > max_bytes - text.size()) {
      return invalid(path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    text.append(chunk.data(), n);
  }
  return text;
}

std::string find_program(const std::string& name) {
  auto executable = [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return executable(name) ? name : "";
  const char* env = std::getenv("PATH");
  const std::string path = env != nullptr ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find(':', start), path.size());
    const std::string dir = path.substr(start, end - start);
    if (!dir.empty() && executable(dir + "/" + name)) return dir + "/" + name;
    start = end + 1;
  }
  return "";
}

}  // namespace xop
