#include "deploy/user_home.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "support/test_support.h"

namespace xop {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(UserHomeTest, DefaultDirFollowsXopHomeThenHome) {
  const char* old_xop = std::getenv("XOP_HOME");
  const std::string saved_xop = old_xop != nullptr ? old_xop : "";
  const char* old_home = std::getenv("HOME");
  const std::string saved_home = old_home != nullptr ? old_home : "";
  ::setenv("XOP_HOME", "/tmp/xop-home-test", 1);
  EXPECT_EQ(UserHome::default_dir(), "/tmp/xop-home-test");
  ::setenv("XOP_HOME", "", 1);
  ::setenv("HOME", "/home/zed", 1);
  EXPECT_EQ(UserHome::default_dir(), "/home/zed/.config/xop");
  if (old_xop != nullptr) {
    ::setenv("XOP_HOME", saved_xop.c_str(), 1);
  } else {
    ::unsetenv("XOP_HOME");
  }
  if (old_home != nullptr) ::setenv("HOME", saved_home.c_str(), 1);
}

TEST(UserHomeTest, KeyRoundTripWithPrivateMode) {
  TempDir t;
  UserHome home(t.file("xop"));
  auto none = home.load_key();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  EXPECT_NE(none.error().message.find("xop account create"), std::string::npos);

  const KeyPair k = KeyPair::generate();
  ASSERT_TRUE(home.save_key(k));
  auto back = home.load_key();
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->public_key(), k.public_key());
  EXPECT_EQ(back->seed_base64(), k.seed_base64());
  struct stat st {};
  ASSERT_EQ(::stat(home.key_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(home.dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST(UserHomeTest, MalformedKeyFilesAreRefused) {
  TempDir t;
  UserHome home(t.path());
  write_file(home.key_path(), "not json");
  EXPECT_FALSE(home.load_key());
  write_file(home.key_path(), R"({"seed":"AAAA"})");
  EXPECT_FALSE(home.load_key());
  write_file(home.key_path(), R"({"seed":")" + KeyPair::generate().seed_base64() + R"(","extra":1})");
  auto extra = home.load_key();
  ASSERT_FALSE(extra);
  EXPECT_NE(extra.error().message.find("extra"), std::string::npos);
  // A public key that does not belong to the seed.
  write_file(home.key_path(), R"({"seed":")" + KeyPair::generate().seed_base64() + R"(","public_key":")" +
                                  KeyPair::generate().public_key().base64() + R"("})");
  auto mismatch = home.load_key();
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("does not match"), std::string::npos);
}

TEST(UserHomeTest, ConfigRoundTripAndErrors) {
  TempDir t;
  UserHome home(t.file("h"));
  auto none = home.load_config();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(home.save_config(UserConfig{"http://127.0.0.1:7000", "http://127.0.0.1:7001"}));
  auto c = home.load_config();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->corp_url, "http://127.0.0.1:7000");
  EXPECT_EQ(c->xis_url, "http://127.0.0.1:7001");
  // Quotes and backslashes survive the TOML round trip.
  ASSERT_TRUE(home.save_config(UserConfig{"http://a\"b\\c", ""}));
  EXPECT_EQ(home.load_config()->corp_url, "http://a\"b\\c");

  write_file(home.dir() + "/config.toml", "corp_url = \"x\"\ncolour = \"red\"\n");
  auto unknown = home.load_config();
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("colour"), std::string::npos);
  write_file(home.dir() + "/config.toml", "corp_url = 5\n");
  auto wrong = home.load_config();
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("corp_url"), std::string::npos);
  write_file(home.dir() + "/config.toml", "corp_url = \"unterminated\n");
  auto broken = home.load_config();
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ErrorCode::kInvalidArgument);
}

TEST(UserHomeTest, SessionsRoundTrip) {
  TempDir t;
  UserHome home(t.file("h"));
  auto empty = home.load_sessions();
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  std::vector<DeployedSession> in = {
      {"s" + std::string(32, 'a'), "a" + std::string(40, 'b'), "paris-1", "Paris", "http://127.0.0.1:1", "po1", "web"},
      {"s" + std::string(32, 'c'), "a" + std::string(40, 'd'), "tokyo-1", "Tokyo", "http://127.0.0.1:2", "po2", ""},
  };
  ASSERT_TRUE(home.save_sessions(in));
  auto out = home.load_sessions();
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 2u);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ((*out)[i].session, in[i].session);
    EXPECT_EQ((*out)[i].server, in[i].server);
    EXPECT_EQ((*out)[i].name, in[i].name);
    EXPECT_EQ((*out)[i].city, in[i].city);
    EXPECT_EQ((*out)[i].endpoint, in[i].endpoint);
    EXPECT_EQ((*out)[i].po_id, in[i].po_id);
    EXPECT_EQ((*out)[i].label, in[i].label);
  }
  ASSERT_TRUE(home.save_sessions({}));
  EXPECT_TRUE(home.load_sessions()->empty());
}

TEST(UserHomeTest, MalformedSessionsFileIsRefused) {
  TempDir t;
  UserHome home(t.path());
  const std::string path = t.file("sessions.json");
  auto expect_bad = [&](const std::string& content, const std::string& words) {
    write_file(path, content);
    auto r = home.load_sessions();
    ASSERT_FALSE(r) << content;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
  };
  expect_bad("{not json", "");
  expect_bad("", "");
  expect_bad("[]", "sessions.json");
  expect_bad(R"({"sessions": {}})", "sessions");
  expect_bad(R"({"sessions": [], "more": 1})", "more");
  expect_bad(R"({"sessions": [5]})", "entry");
  expect_bad(R"({"sessions": [{"session": "s"}]})", "server");
  const std::string entry = R"({"session":"s1","server":"a1","name":"n","city":"c","endpoint":"e","po_id":"p")";
  expect_bad(R"({"sessions": [)" + entry + R"(,"label":7}]})", "label");
  expect_bad(R"({"sessions": [)" + entry + R"(,"extra":"x"}]})", "extra");
  const std::string long_name = R"({"sessions":[{"session":"s1","server":"a1","name":")" + std::string(200, 'n') +
                                R"(","city":"c","endpoint":"e","po_id":"p"}]})";
  expect_bad(long_name, "name");
  // A well-formed file still loads after all that.
  write_file(path, R"({"sessions": [)" + entry + "}]}");
  auto ok = home.load_sessions();
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->size(), 1u);
}

}  // namespace
}  // namespace xop

namespace xop {
namespace {

DeployedSession record(int i) {
  return DeployedSession{"s" + std::to_string(i), "xs-id", "xs-0", "London", "http://127.0.0.1:1", "po", "app"};
}

// Appends from many threads (each its own lock acquisition, as separate processes would) all land;
// a torn last line is skipped and the next append starts a fresh line.
TEST(UserHomeJournalTest, ConcurrentAppendsAllLandAndATornLineIsSkipped) {
  testing::TempDir t;
  UserHome home(t.file("home"));
  ASSERT_TRUE(home.save_sessions({record(100)}));
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i) {
    ts.emplace_back([&, i] { EXPECT_TRUE(home.append_session(record(i))); });
  }
  for (auto& th : ts) th.join();
  auto all = home.load_sessions();
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->size(), 9u);
  // A crash mid-append leaves half a record.
  const std::string journal = t.file("home/sessions.jsonl");
  write_file(journal, testing::read_file(journal) + "{\"session\": \"half");
  ASSERT_TRUE(home.load_sessions());
  EXPECT_EQ(home.load_sessions()->size(), 9u);
  ASSERT_TRUE(home.append_session(record(9)));
  EXPECT_EQ(home.load_sessions()->size(), 10u);
  // Compaction keeps everything and empties the journal.
  ASSERT_TRUE(home.save_sessions(*home.load_sessions()));
  EXPECT_EQ(home.load_sessions()->size(), 10u);
}

TEST(UserHomeJournalTest, EachScratchIsPrivateAndRemoved) {
  testing::TempDir t;
  UserHome home(t.file("home"));
  std::string a_path;
  {
    auto a = home.make_scratch();
    auto b = home.make_scratch();
    ASSERT_TRUE(a && b);
    EXPECT_NE((*a)->path(), (*b)->path());
    write_file((*a)->path() + "/layout/x", "data");
    a_path = (*a)->path();
  }
  EXPECT_FALSE(std::filesystem::exists(a_path));
}

}  // namespace
}  // namespace xop
