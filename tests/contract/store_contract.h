// The fault matrix shared by the store contract suites (store_contract_test.cpp): a store under
// test says how to open it, build a committed state, run one write and describe its durable state;
// run_fault_matrix() then runs that write under every injected fault at every injection point and
// checks the all-or-nothing contract, in the process and after closing and reopening from disk.
//
// Backends: each suite lists its store's backends (SQLite today) as factories; a backend that
// cannot inject faults (PostgreSQL, when it comes) runs the durability cases and skips the matrix.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "support/fault_vfs.h"

namespace xop::testing {

enum class Fault {
  kIoError,     // writes fail with SQLITE_IOERR_WRITE
  kFullDisk,    // writes fail with SQLITE_FULL
  kFailedSync,  // fsync fails
  kTornWrite,   // a write persists only a prefix, then the machine "crashes"
};
const char* fault_name(Fault f);

class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  virtual Status open(const std::string& dir) = 0;
  virtual void close() = 0;
  // Builds the committed state the write starts from (on an open store).
  virtual Status setup() = 0;
  // The write under test.
  virtual Status write() = 0;
  // Everything durable, in a canonical form; also checks invariants (the ledger balances) and
  // fails when they do not hold.
  virtual Result<std::string> snapshot() = 0;
};

// For every fault and every injection point k = 0, 1, ... until the write no longer reaches it:
// a fresh directory under `root`, setup(), the fault armed at the k-th write (or fsync), write(),
// then
//   - in the process (faults off again, unless crashed): the state is the one before or after the
//     write, and a write reported as success is applied;
//   - after close() and open() from what is on disk: the same; a write that failed with an error
//     before anything was durable (I/O error, full disk) is not applied; nothing committed by
//     setup() is lost;
//   - a full disk's error says so.
// Reports failures with gtest assertions; returns the number of injected runs.
int run_fault_matrix(StoreUnderTest& store, FaultVfs& vfs, const std::string& root);

}  // namespace xop::testing
