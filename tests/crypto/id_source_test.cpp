// SeededIds repeats its stream for a seed and never repeats an id; RandomIds differs each time.
// Both mint the format random_id() does: prefix and 32 lowercase hex digits.
#include "crypto/id_source.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace xop {
namespace {

bool well_formed(const std::string& id, const std::string& prefix) {
  if (id.size() != prefix.size() + 32 || id.compare(0, prefix.size(), prefix) != 0) return false;
  for (size_t i = prefix.size(); i < id.size(); ++i) {
    const char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(IdSourceTest, ASeedRepeatsItsStreamAndAnotherSeedDoesNot) {
  SeededIds a(42);
  SeededIds b(42);
  SeededIds c(43);
  for (int i = 0; i < 100; ++i) {
    const std::string x = a.next("po");
    EXPECT_TRUE(well_formed(x, "po")) << x;
    EXPECT_EQ(x, b.next("po"));
    EXPECT_NE(x, c.next("po"));
  }
}

TEST(IdSourceTest, IdsOfOneSourceNeverRepeatEvenAcrossThreads) {
  SeededIds ids(7);
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got) {
    threads.emplace_back([&ids, &g] {
      for (int i = 0; i < 5000; ++i) g.push_back(ids.next("s"));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(IdSourceTest, RandomIdsAreWellFormedAndDistinct) {
  const std::string x = random_ids().next("tx");
  const std::string y = ids_or_random(nullptr).next("tx");
  EXPECT_TRUE(well_formed(x, "tx")) << x;
  EXPECT_TRUE(well_formed(y, "tx")) << y;
  EXPECT_NE(x, y);
  SeededIds s(1);
  EXPECT_EQ(&ids_or_random(&s), &s);
}

}  // namespace
}  // namespace xop
