// The fault matrix shared by the store contract suites (store_contract_test.cpp): a store under
// test says how to open it, build a committed state, run one write and describe its durable state;
// run_fault_matrix() then runs that write under every injected fault at every injection point and
// checks the all-or-nothing contract, in the process and after closing and reopening from disk.
//
// Backends: each suite lists its store's backends (SQLite today) as factories; a backend that
// cannot inject faults (PostgreSQL, when it comes) runs the durability cases and skips the matrix.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

// The usual store under test, from functions: how to open a store of type S kept in a directory,
// the committed state a write starts from, and the canonical description of what it holds.
template <class S>
struct StoreSteps {
  std::function<Result<std::unique_ptr<S>>(const std::string& dir)> open;
  std::function<Status(S&)> setup;
  std::function<Result<std::string>(S&)> describe;
};
template <class S>
using NamedWrites = std::vector<std::pair<std::string, std::function<Status(S&)>>>;

// Runs each named write through run_fault_matrix (in `root`/<name>) and expects more than
// `min_runs` injected runs for each; prints the counts, labelled `label`.
template <class S>
void run_writes_under_faults(const StoreSteps<S>& steps, const NamedWrites<S>& writes, FaultVfs& vfs,
                             const std::string& root, const std::string& label, int min_runs) {
  class Adapted final : public StoreUnderTest {
   public:
    Adapted(const StoreSteps<S>& st, const std::function<Status(S&)>& w) : steps_(st), write_(w) {}
    Status open(const std::string& dir) override {
      XOP_ASSIGN_OR_RETURN(store_, steps_.open(dir));
      return ok_status();
    }
    void close() override { store_.reset(); }
    Status setup() override { return steps_.setup(*store_); }
    Status write() override { return write_(*store_); }
    Result<std::string> snapshot() override { return steps_.describe(*store_); }

   private:
    const StoreSteps<S>& steps_;
    const std::function<Status(S&)>& write_;
    std::unique_ptr<S> store_;
  };
  for (const auto& [name, write] : writes) {
    SCOPED_TRACE(name);
    Adapted store(steps, write);
    const int runs = run_fault_matrix(store, vfs, root + "/" + name);
    EXPECT_GT(runs, min_runs) << "no fault was injected into " << name;
    std::printf("%s %s: %d injected runs\n", label.c_str(), name.c_str(), runs);
  }
}

}  // namespace xop::testing
