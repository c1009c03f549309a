#include "cli/suggest.h"

#include <gtest/gtest.h>

namespace xop {
namespace {

const std::vector<std::string> kVerbs{"account", "search", "deploy", "sessions", "logs", "stop", "statement"};

TEST(Suggest, TyposFindTheVerb) {
  EXPECT_EQ(closest_match("acount", kVerbs), "account");
  EXPECT_EQ(closest_match("accuont", kVerbs), "account");  // a swap is one edit
  EXPECT_EQ(closest_match("deplyo", kVerbs), "deploy");
  EXPECT_EQ(closest_match("sesions", kVerbs), "sessions");
  EXPECT_EQ(closest_match("stpo", kVerbs), "stop");
  EXPECT_EQ(closest_match("--al", {"--all", "--json"}), "--all");
  EXPECT_EQ(closest_match("stat", kVerbs), "statement");  // a prefix
}

TEST(Suggest, NothingCloseIsNoSuggestion) {
  EXPECT_EQ(closest_match("xyzzy", kVerbs), "");
  EXPECT_EQ(closest_match("", kVerbs), "");
  EXPECT_EQ(closest_match("account", kVerbs), "");  // the word itself is not a suggestion
  EXPECT_EQ(closest_match("ab", kVerbs), "");
  EXPECT_EQ(closest_match(std::string(1000, 'a'), kVerbs), "");
  EXPECT_EQ(closest_match("acount", {}), "");
}

}  // namespace
}  // namespace xop
