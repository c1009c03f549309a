// A fault-injecting SQLite VFS for store contract tests, in the manner of leveldb's
// FaultInjectionTestEnv: it wraps the default VFS and, for files under a scope directory, can
//   - fail writes (SQLITE_IOERR_WRITE) or report a full disk (SQLITE_FULL) from the Nth write on
//     (or for the next few writes only),
//   - fail fsyncs (SQLITE_IOERR_FSYNC) from the Nth on,
//   - tear the Nth write (only a prefix reaches the file) and "crash": from then on every write,
//     sync, truncate and delete fails and changes nothing, so what is on disk stays as it was at the
//     crash; the test closes the store, calls reset() and reopens from what is on disk.
// Counters start at zero at every arm_*() call. Files outside the scope pass through untouched.
// Registered as the default VFS while it lives (so stores that open by path use it); one at a
// time. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace xop::testing {

class FaultVfs {
 public:
  explicit FaultVfs(std::string scope_dir);
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  static constexpr const char* kName = "xop-fault";

  // The (n+1)th write from now and every later one fail with `rc` (SQLITE_IOERR_WRITE or SQLITE_FULL);
  // with count >= 0 only `count` writes from the (n+1)th fail and later ones pass again (a
  // transient fault: e.g. count 1 fails the one transaction that reaches it).
  void arm_write_failure(int64_t n, int rc, int64_t count = -1);
  // The (n+1)th fsync from now and every later one fail with SQLITE_IOERR_FSYNC.
  void arm_sync_failure(int64_t n);
  // The (n+1)th write from now persists only its first `keep` bytes; then the "machine" crashes.
  void arm_torn_write(int64_t n, int64_t keep);
  // Ends every fault and the crash: later I/O reaches the files again.
  void reset();

  [[nodiscard]] bool crashed() const;
  // Writes and syncs seen in scope since the last arm_*() or reset(), and faults injected.
  [[nodiscard]] int64_t writes() const;
  [[nodiscard]] int64_t syncs() const;
  [[nodiscard]] int64_t faults() const;

  struct State;

 private:
  State* state_;
};

}  // namespace xop::testing
