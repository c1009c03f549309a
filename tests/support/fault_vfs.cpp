#include "support/fault_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace xop::testing {

struct FaultVfs::State {
  std::mutex mu;
  std::string scope;
  sqlite3_vfs* real = nullptr;
  sqlite3_vfs vfs{};
  // Faults: -1 = not armed.
  int64_t write_fail_at = -1;
  int64_t write_fail_count = -1;  // how many writes from write_fail_at fail; -1: all
  int write_rc = SQLITE_IOERR_WRITE;
  int64_t sync_fail_at = -1;
  int64_t tear_at = -1;
  int64_t tear_keep = 0;
  bool crashed = false;
  int64_t writes = 0;
  int64_t syncs = 0;
  int64_t faults = 0;

  void disarm() {
    write_fail_at = sync_fail_at = tear_at = write_fail_count = -1;
    writes = syncs = faults = 0;
  }
};

namespace {

FaultVfs::State* g_state = nullptr;

struct FaultFile {
  sqlite3_file base;
  bool in_scope;
  sqlite3_file* real;
};

sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->real; }
bool in_scope(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->in_scope; }

int f_close(sqlite3_file* f) {
  sqlite3_file* r = real_of(f);
  return r->pMethods != nullptr ? r->pMethods->xClose(r) : SQLITE_OK;
}
int f_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}
int f_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  if (in_scope(f)) {
    std::lock_guard lock(g_state->mu);
    auto& s = *g_state;
    if (s.crashed) return SQLITE_IOERR_WRITE;
    const int64_t i = s.writes++;
    if (s.tear_at >= 0 && i >= s.tear_at) {
      ++s.faults;
      s.crashed = true;
      const int keep = static_cast<int>(std::min<int64_t>(s.tear_keep, n));
      if (keep > 0) (void)real_of(f)->pMethods->xWrite(real_of(f), buf, keep, off);
      return SQLITE_IOERR_WRITE;
    }
    if (s.write_fail_at >= 0 && i >= s.write_fail_at &&
        (s.write_fail_count < 0 || i < s.write_fail_at + s.write_fail_count)) {
      ++s.faults;
      return s.write_rc;
    }
  }
  return real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
}
int f_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (in_scope(f)) {
    std::lock_guard lock(g_state->mu);
    if (g_state->crashed) return SQLITE_IOERR_TRUNCATE;
  }
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
int f_sync(sqlite3_file* f, int flags) {
  if (in_scope(f)) {
    std::lock_guard lock(g_state->mu);
    auto& s = *g_state;
    if (s.crashed) return SQLITE_IOERR_FSYNC;
    const int64_t i = s.syncs++;
    if (s.sync_fail_at >= 0 && i >= s.sync_fail_at) {
      ++s.faults;
      return SQLITE_IOERR_FSYNC;
    }
  }
  return real_of(f)->pMethods->xSync(real_of(f), flags);
}
int f_size(sqlite3_file* f, sqlite3_int64* out) { return real_of(f)->pMethods->xFileSize(real_of(f), out); }
int f_lock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xLock(real_of(f), l); }
int f_unlock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xUnlock(real_of(f), l); }
int f_check_lock(sqlite3_file* f, int* out) { return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out); }
int f_control(sqlite3_file* f, int op, void* arg) { return real_of(f)->pMethods->xFileControl(real_of(f), op, arg); }
int f_sector(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int f_device(sqlite3_file* f) { return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f)); }
int f_shm_map(sqlite3_file* f, int pg, int sz, int extend, void volatile** pp) {
  return real_of(f)->pMethods->xShmMap(real_of(f), pg, sz, extend, pp);
}
int f_shm_lock(sqlite3_file* f, int off, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), off, n, flags);
}
void f_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int f_shm_unmap(sqlite3_file* f, int del) { return real_of(f)->pMethods->xShmUnmap(real_of(f), del); }
int f_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** pp) {
  return real_of(f)->pMethods->xFetch(real_of(f), off, n, pp);
}
int f_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

const sqlite3_io_methods kMethods = {
    3,         f_close,  f_read,   f_write,   f_truncate, f_sync,        f_size,      f_lock,  f_unlock, f_check_lock,
    f_control, f_sector, f_device, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch, f_unfetch};

int v_open(sqlite3_vfs* /*vfs*/, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* ff = reinterpret_cast<FaultFile*>(f);
  ff->real = reinterpret_cast<sqlite3_file*>(ff + 1);
  ff->real->pMethods = nullptr;
  {
    std::lock_guard lock(g_state->mu);
    ff->in_scope = name != nullptr && std::strncmp(name, g_state->scope.c_str(), g_state->scope.size()) == 0;
  }
  const int rc = g_state->real->xOpen(g_state->real, name, ff->real, flags, out_flags);
  ff->base.pMethods = ff->real->pMethods != nullptr ? &kMethods : nullptr;
  return rc;
}
int v_delete(sqlite3_vfs* /*vfs*/, const char* name, int sync_dir) {
  {
    std::lock_guard lock(g_state->mu);
    if (g_state->crashed && std::strncmp(name, g_state->scope.c_str(), g_state->scope.size()) == 0) {
      return SQLITE_IOERR_DELETE;
    }
  }
  return g_state->real->xDelete(g_state->real, name, sync_dir);
}
int v_access(sqlite3_vfs* /*vfs*/, const char* name, int flags, int* out) {
  return g_state->real->xAccess(g_state->real, name, flags, out);
}
int v_full_pathname(sqlite3_vfs* /*vfs*/, const char* name, int n, char* out) {
  return g_state->real->xFullPathname(g_state->real, name, n, out);
}

}  // namespace

FaultVfs::FaultVfs(std::string scope_dir) : state_(new State) {
  if (g_state != nullptr) throw std::logic_error("one FaultVfs at a time");
  state_->scope = std::move(scope_dir);
  state_->real = sqlite3_vfs_find(nullptr);
  state_->vfs = *state_->real;  // time, randomness, dlopen, ...: the real VFS's
  state_->vfs.pNext = nullptr;
  state_->vfs.zName = kName;
  state_->vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + state_->real->szOsFile;
  state_->vfs.xOpen = v_open;
  state_->vfs.xDelete = v_delete;
  state_->vfs.xAccess = v_access;
  state_->vfs.xFullPathname = v_full_pathname;
  g_state = state_;
  sqlite3_vfs_register(&state_->vfs, /*makeDflt=*/1);
}

FaultVfs::~FaultVfs() {
  sqlite3_vfs_unregister(&state_->vfs);
  sqlite3_vfs_register(state_->real, 1);
  g_state = nullptr;
  delete state_;
}

void FaultVfs::arm_write_failure(int64_t n, int rc, int64_t count) {
  std::lock_guard lock(state_->mu);
  state_->disarm();
  state_->write_fail_at = n;
  state_->write_fail_count = count;
  state_->write_rc = rc;
}
void FaultVfs::arm_sync_failure(int64_t n) {
  std::lock_guard lock(state_->mu);
  state_->disarm();
  state_->sync_fail_at = n;
}
void FaultVfs::arm_torn_write(int64_t n, int64_t keep) {
  std::lock_guard lock(state_->mu);
  state_->disarm();
  state_->tear_at = n;
  state_->tear_keep = keep;
}
void FaultVfs::reset() {
  std::lock_guard lock(state_->mu);
  state_->disarm();
  state_->crashed = false;
}
bool FaultVfs::crashed() const {
  std::lock_guard lock(state_->mu);
  return state_->crashed;
}
int64_t FaultVfs::writes() const {
  std::lock_guard lock(state_->mu);
  return state_->writes;
}
int64_t FaultVfs::syncs() const {
  std::lock_guard lock(state_->mu);
  return state_->syncs;
}
int64_t FaultVfs::faults() const {
  std::lock_guard lock(state_->mu);
  return state_->faults;
}

}  // namespace xop::testing
