// Id prefixes, the STATUS and AGE columns and log tails of `xop sessions` / `xop logs`.
#include <gtest/gtest.h>

#include "cli/id_match.h"
#include "cli/log_tail.h"
#include "cli/session_status.h"

namespace xop {
namespace {

const std::vector<std::string> kIds{"s0a1b2c3d4e5f60718293a4b5c6d7e8f9", "s0a1ffffffffffffffffffffffffffff",
                                    "s9bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"};

TEST(IdMatch, UniquePrefixExactAndAmbiguous) {
  EXPECT_EQ(*match_id(kIds, "s9"), 2u);
  EXPECT_EQ(*match_id(kIds, "s0a1b"), 0u);
  EXPECT_EQ(*match_id(kIds, kIds[1]), 1u);
  auto amb = match_id(kIds, "s0a1");
  ASSERT_FALSE(amb);
  EXPECT_EQ(amb.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(amb.error().message.find("ambiguous"), std::string::npos);
  EXPECT_NE(amb.error().message.find(kIds[0]), std::string::npos);
  EXPECT_NE(amb.error().message.find(kIds[1]), std::string::npos);
  EXPECT_EQ(amb.error().message.find(kIds[2]), std::string::npos);
  auto none = match_id(kIds, "s7");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(match_id(kIds, ""));
  EXPECT_FALSE(match_id({}, "s"));
  // An exact id wins even when it is the prefix of another.
  EXPECT_EQ(*match_id({"sab", "sabc"}, "sab"), 0u);
  // The same id twice (recorded twice) is not ambiguous.
  EXPECT_EQ(*match_id({"sx1", "sx1"}, "sx"), 0u);
  EXPECT_EQ(short_id(kIds[0]), "s0a1b2c3d4e5");
  EXPECT_EQ(short_id("s1"), "s1");
}

TEST(SessionStatus, Phrases) {
  EXPECT_EQ(session_status({"running", "", "", std::nullopt}), "running");
  EXPECT_EQ(session_status({"stopped", "workload ended", "exited", 3}), "exited (3)");
  EXPECT_EQ(session_status({"stopped", "workload ended", "exited", 0}), "exited (0)");
  EXPECT_EQ(session_status({"stopped", "", "signaled", 137}), "killed (signal 9)");
  EXPECT_EQ(session_status({"stopped", "killed", "oom-killed", 137}), "oom-killed");
  EXPECT_EQ(session_status({"stopped", "purchase order exhausted", "signaled", 143}), "out of funds");
  EXPECT_EQ(session_status({"stopped", "funds-exhausted", "signaled", 143}), "out of funds");
  EXPECT_EQ(session_status({"frozen", "", "", std::nullopt}), "frozen: top up");
  EXPECT_EQ(session_status({"frozen", "", "", std::nullopt, true}), "frozen: top up");
  EXPECT_EQ(session_status({"running", "", "", std::nullopt, true}), "running: low funds");
  EXPECT_EQ(session_status({"running", "", "", std::nullopt, false}), "running");
  EXPECT_EQ(session_status({"stopped", "purchase order closed", "signaled", 143}), "killed (signal 15)");
  EXPECT_EQ(session_status({"frozen", "", "", std::nullopt}), "frozen: top up");
  EXPECT_EQ(session_status({"stopped", "stopped by user", "", std::nullopt}), "stopped");
  EXPECT_EQ(session_status({"failed", "image missing", "", std::nullopt}), "failed");
  // Servers since 2026-12-04 name who stopped a session in exit_reason.
  EXPECT_EQ(session_status({"stopped", "stopped by the user", "stopped", 143}), "stopped");
  EXPECT_EQ(session_status({"stopped", "evicted by the server's owner", "evicted", 143}), "evicted");
  EXPECT_EQ(session_status({"stopped", "purchase order closed", "po-exhausted", 143}), "po closed");
  EXPECT_EQ(session_status({"stopped", "funds-exhausted", "po-exhausted", 143}), "out of funds");
  EXPECT_EQ(session_status({"stopped", "funds-exhausted", "oom-killed", 137}), "out of funds");
  EXPECT_EQ(session_status({"", "", "", std::nullopt}), "unknown");
  EXPECT_TRUE(session_is_live("running"));
  EXPECT_TRUE(session_is_live("starting"));
  EXPECT_FALSE(session_is_live("stopped"));
  EXPECT_FALSE(session_is_live("failed"));
}

TEST(SessionStatus, Age) {
  const TimeMs now = 1'800'000'000'000;
  EXPECT_EQ(session_age(now - 5'000, now), "5s");
  EXPECT_EQ(session_age(now - 59'999, now), "59s");
  EXPECT_EQ(session_age(now - 180'000, now), "3m");
  EXPECT_EQ(session_age(now - 2 * 3'600'000, now), "2h");
  EXPECT_EQ(session_age(now - 4 * 86'400'000LL, now), "4d");
  EXPECT_EQ(session_age(0, now), "-");
  EXPECT_EQ(session_age(now + 1, now), "-");
}

TEST(LogTail, LastLines) {
  EXPECT_EQ(last_lines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(last_lines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(last_lines("a\nb\nc\n", 10), "a\nb\nc\n");
  EXPECT_EQ(last_lines("a\nb\nc\n", 0), "");
  EXPECT_EQ(last_lines("", 3), "");
  EXPECT_EQ(last_lines("\n\n\n", 1), "\n");
}

TEST(LogTail, Delta) {
  EXPECT_EQ(log_delta("", "hello\n"), "hello\n");
  EXPECT_EQ(log_delta("a\n", "a\nb\n"), "b\n");
  EXPECT_EQ(log_delta("a\nb\n", "a\nb\n"), "");
  // The window moved: "a\n" fell out, "c\n" is new.
  EXPECT_EQ(log_delta("a\nb\n", "b\nc\n"), "c\n");
  EXPECT_EQ(log_delta("xyz", "123"), "123");  // no overlap: all new
  // Linear on long, repetitive text.
  const std::string prev(65536, 'a');
  EXPECT_EQ(log_delta(prev, std::string(65535, 'a') + "b"), "b");
  EXPECT_EQ(log_delta(std::string(65536, 'a') + "b", std::string(65536, 'a') + "c"), std::string(65536, 'a') + "c");
}

}  // namespace
}  // namespace xop
