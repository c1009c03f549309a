#include "core/file_lock.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace xop {
namespace {

// try_acquire never waits: a conflicting lock (even one of this process, through another open of
// the file) gives nullopt, and the lock is free again once its holder goes.
TEST(FileLockTest, TryAcquireReportsAHeldLockWithoutWaiting) {
  testing::TempDir t;
  const std::string path = t.file("lock");
  auto first = FileLock::try_acquire(path, FileLock::Mode::kExclusive);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(first->has_value());
  auto second = FileLock::try_acquire(path, FileLock::Mode::kExclusive);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->has_value());
  auto shared = FileLock::try_acquire(path, FileLock::Mode::kShared);
  ASSERT_TRUE(shared);
  EXPECT_FALSE(shared->has_value());
  first->reset();
  auto again = FileLock::try_acquire(path, FileLock::Mode::kShared);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->has_value());
  auto also = FileLock::try_acquire(path, FileLock::Mode::kShared);  // shared locks share
  ASSERT_TRUE(also);
  EXPECT_TRUE(also->has_value());
  EXPECT_FALSE(FileLock::try_acquire(t.file("no/such/dir/lock"), FileLock::Mode::kShared));
}

}  // namespace
}  // namespace xop
