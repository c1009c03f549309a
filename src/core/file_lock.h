// An advisory lock on a lock file (flock(2)), held for the object's lifetime. Every process that
// touches a shared file takes the same lock first: exclusive to change it, shared to read it.
// The lock file is created (mode 0600) when missing and never removed.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace xop {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Blocks until the lock is granted.
  static Result<FileLock> acquire(const std::string& path, Mode mode);
  // Does not wait: nullopt when another open file description holds a conflicting lock.
  static Result<std::optional<FileLock>> try_acquire(const std::string& path, Mode mode);
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace xop
