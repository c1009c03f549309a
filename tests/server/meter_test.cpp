#include "server/meter.h"

#include <gtest/gtest.h>

namespace xop {
namespace {

UsageSample sample(int64_t cpu, int64_t mem, int64_t disk, int64_t net) {
  UsageSample s;
  s.cpu_ns = cpu;
  s.memory_bytes = mem;
  s.disk_bytes = disk;
  s.net_bytes = net;
  return s;
}

TEST(MeterTest, CountersAreDifferencesSinceStart) {
  Meter m;
  m.start(1000, sample(500, 0, 10, 20));
  m.add(2000, sample(1500, 0, 110, 220));
  m.add(3000, sample(4500, 0, 120, 230));
  const Usage u = m.take();
  EXPECT_EQ(u.cpu_ns, 4000);
  EXPECT_EQ(u.disk_bytes, 110);
  EXPECT_EQ(u.net_bytes, 210);
  EXPECT_EQ(u.memory_byte_seconds, 0);
  EXPECT_EQ(m.last_time(), 3000);
  EXPECT_EQ(m.last_sample().cpu_ns, 4500);
}

TEST(MeterTest, MemoryIsLeftRiemannSumOfLevels) {
  Meter m;
  m.start(0, sample(0, 100, 0, 0));
  m.add(2000, sample(0, 1000, 0, 0));  // 100 B held for 2 s
  m.add(2500, sample(0, 7, 0, 0));     // 1000 B held for 0.5 s
  m.add(5500, sample(0, 0, 0, 0));     // 7 B held for 3 s
  EXPECT_EQ(m.take().memory_byte_seconds, 200 + 500 + 21);
}

TEST(MeterTest, SubSecondRemainderCarriesAcrossTake) {
  Meter m;
  m.start(0, sample(0, 3, 0, 0));
  m.add(500, sample(0, 3, 0, 0));              // 1500 byte-ms
  EXPECT_EQ(m.take().memory_byte_seconds, 1);  // 500 byte-ms carried
  m.add(1000, sample(0, 3, 0, 0));             // +1500 -> 2000
  EXPECT_EQ(m.take().memory_byte_seconds, 2);
  m.add(1333, sample(0, 3, 0, 0));  // 999 byte-ms
  EXPECT_EQ(m.take().memory_byte_seconds, 0);
  m.add(1334, sample(0, 3, 0, 0));  // +3 -> 1002
  EXPECT_EQ(m.take().memory_byte_seconds, 1);
  // Across many intervals nothing is lost: 3 B for 1.334 s = 4.002 byte-seconds.
  EXPECT_EQ(m.total().memory_byte_seconds, 4);
}

TEST(MeterTest, ManySmallIntervalsSumExactly) {
  Meter m;
  m.start(0, sample(0, 999, 0, 0));
  int64_t sum = 0;
  for (int i = 1; i <= 1000; ++i) {
    m.add(i * 7, sample(0, 999, 0, 0));
    sum += m.take().memory_byte_seconds;
  }
  // 999 B for 7 s exactly.
  EXPECT_EQ(sum, 999 * 7);
  EXPECT_EQ(m.total().memory_byte_seconds, 999 * 7);
}

TEST(MeterTest, HugeMemoryTimesLongTimeDoesNotOverflow) {
  Meter m;
  const int64_t mem = int64_t{1} << 40;  // 1 TiB
  m.start(0, sample(0, mem, 0, 0));
  m.add(24 * 3600 * 1000, sample(0, mem, 0, 0));  // a day: 2^40 * 8.64e7 byte-ms > INT64_MAX
  EXPECT_EQ(m.take().memory_byte_seconds, mem * 86400);
}

TEST(MeterTest, CounterGoingBackwardsContributesNothingAndRestarts) {
  Meter m;
  m.start(0, sample(1000, 0, 1000, 1000));
  m.add(1000, sample(200, 0, 50, 10));  // reset: nothing, and restart from the new value
  Usage u = m.take();
  EXPECT_EQ(u.cpu_ns, 0);
  EXPECT_EQ(u.disk_bytes, 0);
  EXPECT_EQ(u.net_bytes, 0);
  m.add(2000, sample(700, 0, 80, 15));
  u = m.take();
  EXPECT_EQ(u.cpu_ns, 500);
  EXPECT_EQ(u.disk_bytes, 30);
  EXPECT_EQ(u.net_bytes, 5);
}

TEST(MeterTest, NegativeMemoryLevelCountsAsZero) {
  Meter m;
  m.start(0, sample(0, -500, 0, 0));
  m.add(10'000, sample(0, 0, 0, 0));
  EXPECT_EQ(m.take().memory_byte_seconds, 0);
}

TEST(MeterTest, SamplesFromThePastAreIgnored) {
  Meter m;
  m.start(5000, sample(100, 10, 0, 0));
  m.add(4000, sample(900, 1'000'000, 900, 900));  // earlier than the last: ignored
  EXPECT_EQ(m.last_time(), 5000);
  EXPECT_EQ(m.last_sample().cpu_ns, 100);
  m.add(6000, sample(300, 10, 0, 0));
  const Usage u = m.take();
  EXPECT_EQ(u.cpu_ns, 200);
  EXPECT_EQ(u.memory_byte_seconds, 10);
  EXPECT_EQ(u.disk_bytes, 0);
}

TEST(MeterTest, SampleAtSameTimeAddsCountersButNoMemory) {
  Meter m;
  m.start(1000, sample(0, 1 << 20, 0, 0));
  m.add(1000, sample(50, 1 << 30, 0, 0));
  const Usage u = m.take();
  EXPECT_EQ(u.cpu_ns, 50);
  EXPECT_EQ(u.memory_byte_seconds, 0);
}

TEST(MeterTest, TakeResetsButTotalKeepsGrowing) {
  Meter m;
  m.start(0, sample(0, 1000, 0, 0));
  m.add(1000, sample(10, 1000, 1, 2));
  const Usage a = m.take();
  EXPECT_EQ(a.cpu_ns, 10);
  EXPECT_EQ(a.memory_byte_seconds, 1000);
  const Usage empty = m.take();
  EXPECT_EQ(empty, Usage{});
  m.add(3000, sample(25, 1000, 4, 8));
  const Usage b = m.take();
  EXPECT_EQ(b.cpu_ns, 15);
  EXPECT_EQ(b.disk_bytes, 3);
  EXPECT_EQ(b.net_bytes, 6);
  EXPECT_EQ(b.memory_byte_seconds, 2000);
  EXPECT_EQ(m.total().cpu_ns, 25);
  EXPECT_EQ(m.total().disk_bytes, 4);
  EXPECT_EQ(m.total().net_bytes, 8);
  EXPECT_EQ(m.total().memory_byte_seconds, 3000);
}

TEST(MeterTest, AddWithoutStartStartsAtThatSample) {
  Meter m;
  m.add(100, sample(1000, 5, 5, 5));  // acts as start: no usage before it
  EXPECT_EQ(m.take(), Usage{});
  m.add(1100, sample(1100, 5, 5, 5));
  const Usage u = m.take();
  EXPECT_EQ(u.cpu_ns, 100);
  EXPECT_EQ(u.memory_byte_seconds, 5);
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

TEST(MeterUntake, UsageGivenBackGoesIntoTheNextTake) {
  Meter m;
  m.start(0, UsageSample{});
  m.add(1000, UsageSample{.cpu_ns = 500, .memory_bytes = 2000, .disk_bytes = 7, .net_bytes = 3});
  m.add(2500, UsageSample{.cpu_ns = 900, .memory_bytes = 2000, .disk_bytes = 9, .net_bytes = 4});
  const Usage first = m.take();
  EXPECT_EQ(first.cpu_ns, 900);
  m.untake(first);
  m.add(3000, UsageSample{.cpu_ns = 1000, .memory_bytes = 0, .disk_bytes = 9, .net_bytes = 4});
  const Usage second = m.take();
  EXPECT_EQ(second.cpu_ns, 1000);
  EXPECT_EQ(second.disk_bytes, 9);
  EXPECT_EQ(second.net_bytes, 4);
  // 0 B for 1 s, then 2000 B for 2 s = 4000 byte-seconds, all of it, none lost.
  EXPECT_EQ(second.memory_byte_seconds, 4000);
}

}  // namespace
}  // namespace xop
