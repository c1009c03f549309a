#include "server/cgroup.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>

#include "support/test_support.h"

namespace xop {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::write_file;

void mkdirs(const std::string& p) { std::filesystem::create_directories(p); }

TEST(CgroupLayoutTest, DetectsHybridV1WithSeparateCpuAndCpuacct) {
  TempDir t;
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "blkio", "devices", "systemd"}) mkdirs(t.file(c));
  write_file(t.file("unified/cgroup.controllers"), "hugetlb\n");
  auto l = detect_cgroup_layout(t.path());
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->mode, CgroupMode::kHybrid);
  EXPECT_EQ(l->v1.at("cpu"), t.file("cpu"));
  EXPECT_EQ(l->v1.at("cpuacct"), t.file("cpuacct"));
  EXPECT_EQ(l->v2_dir, t.file("unified"));
  EXPECT_EQ(l->v2_controllers, std::vector<std::string>{"hugetlb"});
  EXPECT_EQ(l->v1_hierarchies.size(), 7u);
}

TEST(CgroupLayoutTest, DetectsComountedCpuCpuacct) {
  TempDir t;
  for (const char* c : {"cpu,cpuacct", "memory", "pids"}) mkdirs(t.file(c));
  auto l = detect_cgroup_layout(t.path());
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->mode, CgroupMode::kV1);
  EXPECT_EQ(l->v1.at("cpu"), t.file("cpu,cpuacct"));
  EXPECT_EQ(l->v1.at("cpuacct"), t.file("cpu,cpuacct"));
  EXPECT_FALSE(l->v1.contains("blkio"));
}

TEST(CgroupLayoutTest, DetectsV2AndRequiresControllers) {
  TempDir t;
  write_file(t.file("cgroup.controllers"), "cpuset cpu io memory pids\n");
  auto l = detect_cgroup_layout(t.path());
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->mode, CgroupMode::kV2);
  EXPECT_EQ(l->v2_dir, t.path());

  TempDir t2;
  write_file(t2.file("cgroup.controllers"), "cpu io pids\n");
  auto bad = detect_cgroup_layout(t2.path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("memory"), std::string::npos);
}

TEST(CgroupLayoutTest, MissingV1ControllerOrRootIsAnError) {
  TempDir t;
  for (const char* c : {"cpu", "memory", "pids"}) mkdirs(t.file(c));
  auto l = detect_cgroup_layout(t.path());
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("cpuacct"), std::string::npos);
  EXPECT_FALSE(detect_cgroup_layout(t.file("nope")));
}

TEST(CgroupSessionTest, V1CreateWritesLimitsAndBlkioRule) {
  TempDir t;
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "blkio"}) mkdirs(t.file(c));
  auto l = detect_cgroup_layout(t.path());
  ASSERT_TRUE(l);
  CgroupLimits lim{64 << 20, 50000, 100000, 64, "254:0"};
  ASSERT_TRUE(create_session_cgroup(*l, "xop/s1", lim));
  EXPECT_EQ(read_file(t.file("memory/xop/s1/memory.limit_in_bytes")), "67108864");
  EXPECT_EQ(read_file(t.file("cpu/xop/s1/cpu.cfs_quota_us")), "50000");
  EXPECT_EQ(read_file(t.file("cpu/xop/s1/cpu.cfs_period_us")), "100000");
  EXPECT_EQ(read_file(t.file("pids/xop/s1/pids.max")), "64");
  EXPECT_EQ(read_file(t.file("blkio/xop/s1/blkio.throttle.write_bps_device")), "254:0 1000000000000000");
  EXPECT_TRUE(std::filesystem::is_directory(t.file("cpuacct/xop/s1")));
}

TEST(CgroupSessionTest, V2CreateEnablesControllersDownThePath) {
  TempDir t;
  write_file(t.file("cgroup.controllers"), "cpuset cpu io memory pids\n");
  auto l = detect_cgroup_layout(t.path());
  ASSERT_TRUE(l);
  ASSERT_TRUE(create_session_cgroup(*l, "xop/s1", CgroupLimits{64 << 20, 50000, 100000, 64, ""}));
  EXPECT_EQ(read_file(t.file("cgroup.subtree_control")), "+cpu +memory +pids +io");
  EXPECT_EQ(read_file(t.file("xop/cgroup.subtree_control")), "+cpu +memory +pids +io");
  EXPECT_EQ(read_file(t.file("xop/s1/cgroup.subtree_control")), "+cpu +memory +pids +io");
  EXPECT_EQ(read_file(t.file("xop/s1/cpu.max")), "50000 100000");
  EXPECT_EQ(read_file(t.file("xop/s1/memory.max")), "67108864");
  EXPECT_EQ(read_file(t.file("xop/s1/pids.max")), "64");
}

TEST(CgroupUsageTest, ReadsV1Counters) {
  TempDir t;
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "blkio"}) mkdirs(t.file(c));
  auto l = detect_cgroup_layout(t.path());
  ASSERT_TRUE(l);
  EXPECT_EQ(read_session_usage(*l, "xop/s1").error().code, ErrorCode::kNotFound);
  write_file(t.file("cpuacct/xop/s1/cpuacct.usage"), "1037174185\n");
  write_file(t.file("memory/xop/s1/memory.usage_in_bytes"), "4096\n");
  write_file(
      t.file("blkio/xop/s1/blkio.throttle.io_service_bytes_recursive"),
      "254:0 Read 100\n254:0 Write 23\n254:0 Sync 0\n254:0 Async 123\n254:0 Discard 0\n254:0 Total 123\nTotal 123\n");
  auto u = read_session_usage(*l, "xop/s1");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->cpu_ns, 1037174185);
  EXPECT_EQ(u->memory_bytes, 4096);
  EXPECT_EQ(u->disk_bytes, 123);
}

TEST(CgroupUsageTest, ReadsV2Counters) {
  TempDir t;
  write_file(t.file("cgroup.controllers"), "cpu io memory pids\n");
  auto l = detect_cgroup_layout(t.path());
  ASSERT_TRUE(l);
  write_file(t.file("xop/s1/cpu.stat"), "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
  write_file(t.file("xop/s1/memory.current"), "8192\n");
  write_file(t.file("xop/s1/io.stat"),
             "254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=5 dios=1\n8:0 rbytes=1 wbytes=2\n");
  auto u = read_session_usage(*l, "xop/s1");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->cpu_ns, 1500000);
  EXPECT_EQ(u->memory_bytes, 8192);
  EXPECT_EQ(u->disk_bytes, 33);
}

TEST(CgroupParseTest, RejectsMalformedCounters) {
  EXPECT_EQ(*parse_cgroup_int("42\n"), 42);
  EXPECT_FALSE(parse_cgroup_int("max\n"));
  EXPECT_FALSE(parse_cgroup_int(""));
  EXPECT_FALSE(parse_cgroup_int("-1"));
  EXPECT_FALSE(parse_cgroup_int("99999999999999999999999"));
  EXPECT_FALSE(parse_v1_blkio_total("254:0 Read 1\n"));
  EXPECT_FALSE(parse_v1_blkio_total("Total x\n"));
  EXPECT_EQ(*parse_v1_blkio_total("Total 0\n"), 0);
  EXPECT_FALSE(parse_v2_cpu_usage_ns("user_usec 5\n"));
  EXPECT_FALSE(parse_v2_cpu_usage_ns("usage_usec 9223372036854776\n"));  // * 1000 overflows
  EXPECT_FALSE(parse_v2_io_bytes("254:0 rbytes\n"));
  EXPECT_FALSE(parse_v2_io_bytes("254:0 rbytes=9223372036854775807 wbytes=1\n"));
  EXPECT_EQ(*parse_v2_io_bytes(""), 0);
}

// Issue 14 (9): 19 digits pass the length check but may exceed INT64_MAX; parse_nonneg overflowed
// (signed overflow, in practice a negative counter) instead of refusing them.
TEST(CgroupParseTest, RefusesCountersBeyondInt64) {
  EXPECT_EQ(*parse_cgroup_int("9223372036854775807\n"), INT64_MAX);
  EXPECT_FALSE(parse_cgroup_int("9223372036854775808\n"));
  EXPECT_FALSE(parse_cgroup_int("9999999999999999999\n"));
  EXPECT_FALSE(parse_v1_blkio_total("Total 9999999999999999999\n"));
  EXPECT_FALSE(parse_v2_cpu_usage_ns("usage_usec 9999999999999999999\n"));
  EXPECT_FALSE(parse_v2_io_bytes("254:0 rbytes=9999999999999999999 wbytes=0\n"));
  EXPECT_EQ(*parse_v2_io_bytes("254:0 rbytes=9223372036854775806 wbytes=1\n"), INT64_MAX);
}

TEST(CgroupDeviceTest, BlockDeviceOfRootIsWholeDiskOrEmpty) {
  const std::string d = block_device_of("/");
  if (!d.empty()) {
    EXPECT_NE(d.find(':'), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists("/sys/dev/block/" + d + "/partition"));
  }
  EXPECT_EQ(block_device_of("/proc/self"), "");
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

TEST(CgroupParentTest, EmptyParentIsRemovedOneWithSessionsStays) {
  testing::TempDir t;
  for (const char* c : {"cpu", "cpuacct", "memory", "pids"}) std::filesystem::create_directories(t.file(c));
  auto l = detect_cgroup_layout(t.path());
  ASSERT_TRUE(l) << l.error().message;
  std::filesystem::create_directories(t.file("cpu/xop-a"));
  std::filesystem::create_directories(t.file("memory/xop-a"));
  std::filesystem::create_directories(t.file("cpuacct/xop-a/s1"));  // a session left running
  remove_parent_cgroup_if_empty(*l, "xop-a");
  EXPECT_FALSE(std::filesystem::exists(t.file("cpu/xop-a")));
  EXPECT_FALSE(std::filesystem::exists(t.file("memory/xop-a")));
  EXPECT_TRUE(std::filesystem::exists(t.file("cpuacct/xop-a/s1")));
  remove_parent_cgroup_if_empty(*l, "xop-a");  // idempotent where nothing is left
  EXPECT_TRUE(std::filesystem::exists(t.file("cpuacct/xop-a")));
}

}  // namespace
}  // namespace xop
