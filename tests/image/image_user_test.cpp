// The image config's User resolved with the image's /etc/passwd and /etc/group: the forms docker
// accepts, and hostile files (malformed, huge, NUL bytes, bad ids, duplicate names) that must
// neither crash nor resolve to something the file does not say.
#include "image/image_user.h"

#include <gtest/gtest.h>

#include "image/oci_image.h"

namespace xop {
namespace {

const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "worker:x:1000:1001:Worker:/home/worker:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/:/bin/false\n";
const std::string kGroup =
    "root:x:0:\n"
    "staff:x:50:worker,other\n"
    "workers:x:1001:\n"
    "audio:x:29:other,worker\n"
    "nogroup:x:65534:\n";

ImageUser resolve_ok(const std::string& user, const std::optional<std::string>& passwd = kPasswd,
                     const std::optional<std::string>& group = kGroup) {
  auto u = resolve_image_user(user, passwd, group);
  EXPECT_TRUE(u) << user << ": " << u.error().message;
  return u.value_or(ImageUser{});
}

void expect_refused(const std::string& user, const std::string& needle,
                    const std::optional<std::string>& passwd = kPasswd,
                    const std::optional<std::string>& group = kGroup) {
  auto u = resolve_image_user(user, passwd, group);
  ASSERT_FALSE(u) << user;
  EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(u.error().message.find(needle), std::string::npos) << u.error().message;
}

TEST(ImageUserTest, EmptyIsRoot) { EXPECT_EQ(resolve_ok(""), (ImageUser{0, 0, {}})); }

TEST(ImageUserTest, NumericFormsNeedNoFiles) {
  EXPECT_EQ(resolve_ok("1000:1000", std::nullopt, std::nullopt), (ImageUser{1000, 1000, {}}));
  EXPECT_EQ(resolve_ok("4242", std::nullopt, std::nullopt), (ImageUser{4242, 0, {}}));
  EXPECT_EQ(resolve_ok("2147483647:0", std::nullopt, std::nullopt), (ImageUser{2147483647, 0, {}}));
}

TEST(ImageUserTest, NamesResolveThroughTheFiles) {
  // The passwd gid is the default group; groups naming the user are supplementary, sorted.
  EXPECT_EQ(resolve_ok("worker"), (ImageUser{1000, 1001, {29, 50}}));
  EXPECT_EQ(resolve_ok("worker:staff"), (ImageUser{1000, 50, {29}}));
  EXPECT_EQ(resolve_ok("worker:7"), (ImageUser{1000, 7, {29, 50}}));
  // A numeric uid with a passwd entry takes that entry's group and supplementary groups.
  EXPECT_EQ(resolve_ok("1000"), (ImageUser{1000, 1001, {29, 50}}));
  EXPECT_EQ(resolve_ok("1234:nogroup"), (ImageUser{1234, 65534, {}}));
}

TEST(ImageUserTest, MissingUsersAndGroupsAreClearErrors) {
  expect_refused("ghost", "no user \"ghost\" in the image's /etc/passwd");
  expect_refused("worker:ghosts", "no group \"ghosts\" in the image's /etc/group");
  expect_refused("worker", "has no /etc/passwd", std::nullopt, kGroup);
  expect_refused("1000:staff", "has no /etc/group", kPasswd, std::nullopt);
}

TEST(ImageUserTest, BadSyntaxIsRefused) {
  for (const std::string& u :
       std::vector<std::string>{":", "a:", ":b", "1:2:3", "-rf", "a b", "a\nb", std::string("a\0b", 3), "x/y",
                                "2147483648", "99999999999", "+1", "a:+1", std::string(300, 'a')}) {
    EXPECT_FALSE(validate_image_user(u)) << u;
    EXPECT_FALSE(resolve_image_user(u, kPasswd, kGroup)) << u;
  }
}

TEST(ImageUserTest, HostileFilesNeverResolveToWhatTheyDoNotSay) {
  // Malformed lines are skipped, never matched; a later well-formed line still counts.
  const std::string passwd =
      "evil\n"                                       // too few fields
      "evil:x:-1:0::/:/bin/sh\n"                     // negative uid
      "evil:x:4294967295:0::/:/bin/sh\n"             // out of range
      "evil:x:0x10:0::/:/bin/sh\n"                   // not decimal
      "evil:x: 5:0::/:/bin/sh\n"                     // spaces
      "evil:x:5:zero::/:/bin/sh\n"                   // bad gid
      + std::string("evil\0:x:0:0::/:", 15) + "\n"   // NUL byte
      + "evil:x:" + std::string(5000, '1') + ":0\n"  // an over-long line
      + ":x:0:0::/:\n"                               // empty name
      + "evil:x:77:88::/:/bin/sh\r\n"                // CRLF is fine
      + "evil:x:99:99::/:/bin/sh\n";                 // duplicates: the first valid one wins
  EXPECT_EQ(resolve_ok("evil", passwd, std::nullopt), (ImageUser{77, 88, {}}));
}

TEST(ImageUserTest, HostileFilesOnlyFail) {
  // No content makes the resolver crash, hang or accept garbage.
  const std::string garbage = std::string(3 << 20, ':');  // larger than the cap, one huge line
  expect_refused("worker", "no user", garbage, garbage);
  expect_refused("worker", "no user", std::string(100000, '\n'), kGroup);
  EXPECT_EQ(resolve_ok("1000:1000", garbage, garbage), (ImageUser{1000, 1000, {}}));
  // A group file listing the user in thousands of groups keeps at most kMaxAdditionalGids.
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "g" + std::to_string(i) + ":x:" + std::to_string(2000 + i) + ":worker\n";
  EXPECT_EQ(resolve_ok("worker", kPasswd, many).additional_gids.size(), kMaxAdditionalGids);
  // A member list that is one long comma run.
  EXPECT_EQ(resolve_ok("worker", kPasswd, "g:x:5:" + std::string(4000, ',') + "\n").additional_gids.size(), 0u);
}

// HOME as runc and docker pick it: the passwd entry's home field, else "/".
TEST(ImageUserTest, HomeComesFromThePasswdEntryElseSlash) {
  EXPECT_EQ(resolve_image_home("", kPasswd), "/root");  // no User: root, uid 0
  EXPECT_EQ(resolve_image_home("worker", kPasswd), "/home/worker");
  EXPECT_EQ(resolve_image_home("worker:staff", kPasswd), "/home/worker");
  EXPECT_EQ(resolve_image_home("1000", kPasswd), "/home/worker");
  EXPECT_EQ(resolve_image_home("1000:7", kPasswd), "/home/worker");
  EXPECT_EQ(resolve_image_home("65534", kPasswd), "/");
  // No entry, no file: "/".
  EXPECT_EQ(resolve_image_home("4242", kPasswd), "/");
  EXPECT_EQ(resolve_image_home("", std::nullopt), "/");
  EXPECT_EQ(resolve_image_home("1000:1000", std::nullopt), "/");
  EXPECT_EQ(resolve_image_home("", std::string("daemon:x:1:1::/usr/sbin:/bin/sh\n")), "/");
  // An entry without a home field, with an empty one or a relative one: "/".
  EXPECT_EQ(resolve_image_home("a", std::string("a:x:5:5\n")), "/");
  EXPECT_EQ(resolve_image_home("a", std::string("a:x:5:5::\n")), "/");
  EXPECT_EQ(resolve_image_home("a", std::string("a:x:5:5::home/a:/bin/sh\n")), "/");
  // Hostile lines are skipped as for the ids: a NUL byte, a bad uid, an over-long line.
  const std::string passwd = std::string("a:x:5:5::/nul\0:/bin/sh\n", 23) + "a:x:-5:5::/bad:/bin/sh\n" + "a:x:5:5::/" +
                             std::string(5000, 'l') + ":/bin/sh\n" + "a:x:5:5::/good:/bin/sh\n";
  EXPECT_EQ(resolve_image_home("a", passwd), "/good");
  EXPECT_EQ(resolve_image_home("5", passwd), "/good");
}

TEST(ImageUserTest, ImageConfigCarriesAndChecksUser) {
  auto c = parse_oci_image_config(R"({"config":{"User":"1000:1000"}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->user, "1000:1000");
  auto none = parse_oci_image_config(R"({"config":{}})");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->user, "");
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"User":1000}})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"User":"a b"}})"));
  EXPECT_FALSE(parse_oci_image_config(R"({"config":{"User":"1:2:3"}})"));
}

}  // namespace
}  // namespace xop
