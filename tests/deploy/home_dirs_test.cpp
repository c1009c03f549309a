#include "deploy/home_dirs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "support/test_support.h"

namespace xop {
namespace {

// Sets environment variables for one test and restores them after.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& vars) {
    for (const auto& [k, v] : vars) {
      const char* old = std::getenv(k.c_str());
      saved_[k] = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
      if (v.empty()) {
        ::unsetenv(k.c_str());
      } else {
        ::setenv(k.c_str(), v.c_str(), 1);
      }
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(HomeDirs, XdgDirectoriesPerProfile) {
  ScopedEnv env({{"XOP_HOME", ""},
                 {"HOME", "/home/zed"},
                 {"XDG_CONFIG_HOME", "/x/config"},
                 {"XDG_STATE_HOME", "/x/state"},
                 {"XDG_CACHE_HOME", "/x/cache"}});
  auto d = resolve_home_dirs("", "");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->profile, "default");
  EXPECT_EQ(d->config, "/x/config/xop");
  EXPECT_EQ(d->state, "/x/state/xop");
  EXPECT_EQ(d->cache, "/x/cache/xop");
  d = resolve_home_dirs("", "work");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->config, "/x/config/xop/profiles/work");
  EXPECT_EQ(d->state, "/x/state/xop/profiles/work");
  EXPECT_EQ(d->cache, "/x/cache/xop/profiles/work");
}

TEST(HomeDirs, HomeFallbacksAndRelativeXdgIgnored) {
  ScopedEnv env({{"XOP_HOME", ""},
                 {"HOME", "/home/zed"},
                 {"XDG_CONFIG_HOME", ""},
                 {"XDG_STATE_HOME", "rel"},
                 {"XDG_CACHE_HOME", ""}});
  auto d = resolve_home_dirs("", "");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->config, "/home/zed/.config/xop");
  EXPECT_EQ(d->state, "/home/zed/.local/state/xop");
  EXPECT_EQ(d->cache, "/home/zed/.cache/xop");
}

TEST(HomeDirs, XopHomeAndHomeFlagPutEverythingInOneDir) {
  ScopedEnv env({{"XOP_HOME", "/h"}, {"XDG_CONFIG_HOME", "/x/config"}});
  auto d = resolve_home_dirs("", "");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->config, "/h");
  EXPECT_EQ(d->state, "/h");
  EXPECT_EQ(d->cache, "/h");
  d = resolve_home_dirs("/flag", "dev");  // the flag wins over $XOP_HOME
  ASSERT_TRUE(d);
  EXPECT_EQ(d->config, "/flag/profiles/dev");
  EXPECT_EQ(d->state, "/flag/profiles/dev");
}

TEST(HomeDirs, OldHomeKeepsItsSessions) {
  testing::TempDir t;
  ScopedEnv env({{"XOP_HOME", ""}, {"XDG_CONFIG_HOME", t.file("c")}, {"XDG_STATE_HOME", t.file("s")}});
  testing::write_file(t.file("c/xop/sessions.json"), "{\"sessions\":[]}");
  auto d = resolve_home_dirs("", "");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, t.file("c/xop"));
}

// A sibling profile lives on the same bases as the one it is derived from, whatever they are.
TEST(HomeDirs, SiblingProfilesShareTheBases) {
  ScopedEnv env({{"XOP_HOME", ""},
                 {"XDG_CONFIG_HOME", "/x/config"},
                 {"XDG_STATE_HOME", "/x/state"},
                 {"XDG_CACHE_HOME", "/x/cache"}});
  for (const char* from : {"dev", "default", "work"}) {
    auto d = resolve_home_dirs("", from);
    ASSERT_TRUE(d);
    auto s = sibling_profile_dirs(*d, "dev-owner");
    ASSERT_TRUE(s) << from;
    auto want = resolve_home_dirs("", "dev-owner");
    EXPECT_EQ(s->profile, "dev-owner");
    EXPECT_EQ(s->config, want->config) << from;
    EXPECT_EQ(s->state, want->state) << from;
    EXPECT_EQ(s->cache, want->cache) << from;
    auto back = sibling_profile_dirs(*s, "default");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->config, "/x/config/xop");
  }
  auto one = sibling_profile_dirs(HomeDirs::single("/flag", "dev"), "dev-owner");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->config, "/flag/profiles/dev-owner");
  EXPECT_EQ(one->cache, "/flag/profiles/dev-owner");
  EXPECT_FALSE(sibling_profile_dirs(HomeDirs::single("/flag", "dev"), "../x"));
}

TEST(HomeDirs, ProfileNamesAreChecked) {
  for (const char* bad : {"../x", "a/b", ".hidden", "with space", "\xc3\xa9", "x\n"}) {
    EXPECT_FALSE(check_profile_name(bad)) << bad;
    EXPECT_FALSE(resolve_home_dirs("/h", bad)) << bad;
  }
  EXPECT_FALSE(check_profile_name(std::string(65, 'a')));
  for (const char* good : {"dev", "work-eu", "a.b", "A_1"}) EXPECT_TRUE(check_profile_name(good)) << good;
}

}  // namespace
}  // namespace xop
