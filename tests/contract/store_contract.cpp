#include "contract/store_contract.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

namespace xop::testing {

const char* fault_name(Fault f) {
  switch (f) {
    case Fault::kIoError:
      return "io-error";
    case Fault::kFullDisk:
      return "full-disk";
    case Fault::kFailedSync:
      return "failed-fsync";
    case Fault::kTornWrite:
      return "torn-write";
  }
  return "?";
}

namespace {

void arm(FaultVfs& vfs, Fault f, int64_t k) {
  switch (f) {
    case Fault::kIoError:
      vfs.arm_write_failure(k, SQLITE_IOERR_WRITE);
      break;
    case Fault::kFullDisk:
      vfs.arm_write_failure(k, SQLITE_FULL);
      break;
    case Fault::kFailedSync:
      vfs.arm_sync_failure(k);
      break;
    case Fault::kTornWrite:
      vfs.arm_torn_write(k, 1000);  // a WAL frame is 24 + 4096 bytes: this tears one
      break;
  }
}

constexpr int64_t kMaxPoints = 200;

}  // namespace

int run_fault_matrix(StoreUnderTest& store, FaultVfs& vfs, const std::string& root) {
  // The states before and after the write, without faults.
  const std::string clean = root + "/clean";
  std::filesystem::create_directories(clean);
  vfs.reset();
  EXPECT_TRUE(store.open(clean));
  EXPECT_TRUE(store.setup());
  const auto before = store.snapshot();
  EXPECT_TRUE(before) << before.error().message;
  EXPECT_TRUE(store.write());
  const auto after = store.snapshot();
  EXPECT_TRUE(after) << after.error().message;
  store.close();
  if (!before || !after) return 0;
  EXPECT_NE(*before, *after) << "the write changes nothing: the matrix would prove nothing";

  int runs = 0;
  for (const Fault f : {Fault::kIoError, Fault::kFullDisk, Fault::kFailedSync, Fault::kTornWrite}) {
    for (int64_t k = 0; k < kMaxPoints; ++k) {
      const std::string where = std::string(fault_name(f)) + " at point " + std::to_string(k);
      SCOPED_TRACE(where);
      const std::string dir = root + "/" + fault_name(f) + "-" + std::to_string(k);
      std::filesystem::create_directories(dir);
      vfs.reset();
      if (auto st = store.open(dir); !st) {
        ADD_FAILURE() << st.error().message;
        return runs;
      }
      if (auto st = store.setup(); !st) {
        ADD_FAILURE() << st.error().message;
        return runs;
      }
      arm(vfs, f, k);
      const Status result = store.write();
      const bool injected = vfs.faults() > 0;
      const bool crashed = vfs.crashed();
      if (!injected) {
        // The write finished before the k-th point: every point of this fault was covered.
        EXPECT_TRUE(result) << result.error().message;
        store.close();
        vfs.reset();
        break;
      }
      ++runs;
      if (!result && f == Fault::kFullDisk) {
        EXPECT_NE(result.error().message.find("full"), std::string::npos) << result.error().message;
      }
      if (!crashed) {
        vfs.reset();
        auto now = store.snapshot();
        EXPECT_TRUE(now) << now.error().message;
        if (now) {
          EXPECT_TRUE(*now == *before || *now == *after) << "partial state in the process:\n" << *now;
          if (result) {
            EXPECT_EQ(*now, *after) << "a write reported as success is not applied";
          }
        }
      }
      store.close();
      vfs.reset();
      if (auto st = store.open(dir); !st) {
        ADD_FAILURE() << "reopen after the fault: " << st.error().message;
        continue;
      }
      auto disk = store.snapshot();
      EXPECT_TRUE(disk) << disk.error().message;
      if (disk) {
        EXPECT_TRUE(*disk == *before || *disk == *after) << "partial state after reopen:\n" << *disk;
        if (result) {
          EXPECT_EQ(*disk, *after) << "a write reported as success is lost after reopen";
        }
        if (!result && (f == Fault::kIoError || f == Fault::kFullDisk)) {
          EXPECT_EQ(*disk, *before) << "a write that failed (" << result.error().message << ") is applied after reopen";
        }
      }
      store.close();
    }
  }
  return runs;
}

}  // namespace xop::testing
