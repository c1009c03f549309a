// Several XIS instances share adverts through NATS (issue 6, "Beyond one machine"): a real
// `nats-server` with JetStream (started here, on a free port, its store in a temporary
// directory) and real `xop xis` processes. Adverts sent to one instance are found on another; one
// instance is killed and the service goes on; an instance started late catches up from the
// bucket; what a hostile writer puts into the bucket is refused and changes nothing; an instance
// started while NATS is down serves alone and shares once NATS is back. Skipped, saying so, where
// nats-server is not installed (scripts/setup installs it).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <map>

#include "client/api_client.h"
#include "core/file_util.h"
#include "crypto/keys.h"
#include "proto/advert.h"
#include "proto/xis_answers.h"
#include "proto/xis_bodies.h"
#include "support/builders.h"
#include "support/test_support.h"

namespace xop::testing {
namespace {

using std::chrono::seconds;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A nats-server with JetStream on 127.0.0.1. Port 0: any free port (found in its ports file).
class NatsServer {
 public:
  NatsServer(const TempDir& dir, std::string name, int port = 0) : dir_(dir), name_(std::move(name)) {
    std::filesystem::create_directories(dir_.file(name_ + "-ports"));
    const std::string bin = find_program("nats-server");
    child_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{bin, "-a", "127.0.0.1", "-p", port == 0 ? "-1" : std::to_string(port), "-js", "-sd",
                                 dir_.file(name_ + "-store"), "--ports_file_dir", dir_.file(name_ + "-ports")},
        dir_.file(name_ + ".log"));
    const std::string ports = dir_.file(name_ + "-ports") + "/nats-server_" + std::to_string(child_->pid()) + ".ports";
    poll_until(
        [&] {
          auto j = parse_json(read_file(ports));
          if (j && j->contains("nats") && (*j)["nats"].is_array() && !(*j)["nats"].empty()) {
            url_ = (*j)["nats"][0].get<std::string>();
          }
          return !url_.empty() || !child_->running();
        },
        seconds(20));
  }
  [[nodiscard]] const std::string& url() const { return url_; }
  [[nodiscard]] int port() const { return std::stoi(url_.substr(url_.rfind(':') + 1)); }
  void kill() {
    ::kill(child_->pid(), SIGKILL);
    (void)child_->stop(std::chrono::milliseconds(2000));
  }
  [[nodiscard]] std::string log() const { return child_->log(); }

 private:
  const TempDir& dir_;
  std::string name_;
  std::unique_ptr<ChildProcess> child_;
  std::string url_;
};

struct Xis {
  std::unique_ptr<ChildProcess> child;
  std::string url;
};

Xis start_xis(const TempDir& dir, const std::string& name, const std::string& nats_url) {
  Xis x;
  x.child = std::make_unique<ChildProcess>(
      std::vector<std::string>{XOP_BINARY, "xis", "--listen", "127.0.0.1:0", "--open", "--nats-url", nats_url,
                               "--port-file", dir.file(name + ".url"), "--log-level", "debug"},
      dir.file(name + ".log"));
  poll_until(
      [&] {
        x.url = trimmed(read_file(dir.file(name + ".url")));
        return !x.url.empty() || !x.child->running();
      },
      seconds(20));
  return x;
}

SignedDoc advert(const KeyPair& k, int i, TimeMs issued_at) {
  Advert a;
  a.server = k.account_id();
  a.name = "shared" + std::to_string(i);
  a.endpoint = fmt::format("http://127.0.0.1:{}", 20000 + i);
  a.city = "Lisbon";
  a.location = GeoPoint{38'722'200, -9'139'300};
  a.capacity = Resources{4'000, 8LL << 30, 100LL << 30, 1'000'000'000};
  a.free = a.capacity;
  a.price_sheet = signed_price_sheet(k, issued_at, Rates{});
  a.sandboxes = {"runc"};
  a.issued_at = issued_at;
  a.ttl_ms = 60'000;
  return *SignedDoc::sign(kAdvertType, to_json(a), k);
}

bool post(const std::string& url, const KeyPair& k, const SignedDoc& doc, std::string* why = nullptr) {
  ApiClient c(*parse_endpoint(url), k);
  auto r = c.call("POST", "/v1/adverts", Json{{"advert", doc.to_json()}});
  if (!r && why) *why = r.error().message;
  return r.has_value();
}

// server id -> issued_at of the live adverts `url` holds (each signature checked here); empty
// when it cannot be asked.
std::map<std::string, TimeMs> held(const std::string& url) {
  std::map<std::string, TimeMs> out;
  ApiClient c(*parse_endpoint(url), std::nullopt);
  auto r = c.call("GET", "/v1/adverts");
  if (!r) return out;
  auto docs = decode_adverts_answer(*r);
  if (!docs) return out;
  for (const SignedDoc& d : *docs) {
    auto a = verify_advert(d);
    if (a) out[a->server] = a->issued_at;
  }
  return out;
}

// Whether `url` holds exactly `want` (server -> issued_at), within the deadline.
bool holds(const std::string& url, const std::map<std::string, TimeMs>& want, std::map<std::string, TimeMs>* got) {
  return poll_until(
      [&] {
        *got = held(url);
        return *got == want;
      },
      seconds(30));
}

// Puts raw bytes into the shared bucket as a writer that is not a healthy XIS would.
bool put_raw(const std::string& nats_url, const std::string& key, const std::string& value) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  kvStore* kv = nullptr;
  bool ok = natsConnection_ConnectTo(&nc, nats_url.c_str()) == NATS_OK &&
            natsConnection_JetStream(&js, nc, nullptr) == NATS_OK && js_KeyValue(&kv, js, "xop_adverts") == NATS_OK;
  uint64_t rev = 0;
  ok = ok && kvStore_Put(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size())) == NATS_OK;
  if (kv) kvStore_Destroy(kv);
  if (js) jsCtx_Destroy(js);
  if (nc) natsConnection_Destroy(nc);
  return ok;
}

std::string skip_reason() {
  if (find_program("nats-server").empty()) return "nats-server is not installed (scripts/setup installs it)";
  return "";
}

TEST(XisSharingTest, AdvertsSentToOneInstanceAreFoundOnAnotherWhichGoesOnWhenTheFirstIsKilled) {
  if (auto why = skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  NatsServer nats(dir, "nats");
  ASSERT_FALSE(nats.url().empty()) << nats.log();
  Xis a = start_xis(dir, "xis-a", nats.url());
  Xis b = start_xis(dir, "xis-b", nats.url());
  ASSERT_FALSE(a.url.empty()) << a.child->log();
  ASSERT_FALSE(b.url.empty()) << b.child->log();

  const TimeMs t0 = SystemClock::instance().now_ms();
  std::vector<KeyPair> keys;
  std::map<std::string, TimeMs> want;
  for (int i = 0; i < 20; ++i) {
    keys.push_back(KeyPair::generate());
    std::string why;
    ASSERT_TRUE(post(a.url, keys.back(), advert(keys.back(), i, t0), &why)) << why;
    want[keys.back().account_id()] = t0;
  }
  std::map<std::string, TimeMs> got;
  EXPECT_TRUE(holds(b.url, want, &got)) << "B holds " << got.size() << " of 20\n" << b.child->log();
  EXPECT_TRUE(holds(a.url, want, &got)) << "A holds " << got.size() << " of 20\n" << a.child->log();

  // A dies; B goes on: refreshes and new servers sent to B are held by B.
  ::kill(a.child->pid(), SIGKILL);
  (void)a.child->stop(std::chrono::milliseconds(2000));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(post(b.url, keys[i], advert(keys[i], i, t0 + 1'000)));
    want[keys[i].account_id()] = t0 + 1'000;
  }
  for (int i = 20; i < 25; ++i) {
    keys.push_back(KeyPair::generate());
    ASSERT_TRUE(post(b.url, keys.back(), advert(keys.back(), i, t0 + 1'000)));
    want[keys.back().account_id()] = t0 + 1'000;
  }
  EXPECT_TRUE(holds(b.url, want, &got)) << "B holds " << got.size() << " of 25";

  // An instance started now catches up from the bucket: the newest advert of every server.
  Xis c = start_xis(dir, "xis-c", nats.url());
  ASSERT_FALSE(c.url.empty()) << c.child->log();
  EXPECT_TRUE(holds(c.url, want, &got)) << "C holds " << got.size() << " of 25\n" << c.child->log();

  // A hostile writer: garbage, a tampered advert, a bad owner, an old advert replayed over a
  // newer one. None changes what B and C hold; both stay up and keep sharing.
  const KeyPair intruder = KeyPair::generate();
  Json tampered = advert(intruder, 99, t0 + 2'000).to_json();
  tampered["body"]["name"] = "not what was signed";
  ASSERT_TRUE(put_raw(nats.url(), "junk", "{{{ not json"));
  ASSERT_TRUE(put_raw(nats.url(), intruder.account_id(), Json{{"advert", tampered}, {"owner", ""}}.dump()));
  ASSERT_TRUE(put_raw(nats.url(), intruder.account_id(),
                      encode_shared_advert(advert(intruder, 98, t0 + 2'000), "not-an-account")));
  ASSERT_TRUE(put_raw(nats.url(), keys[0].account_id(), encode_shared_advert(advert(keys[0], 0, t0), "")));
  // A valid advert sent after them through B: once C holds it, C has read everything before it.
  const KeyPair late = KeyPair::generate();
  ASSERT_TRUE(post(b.url, late, advert(late, 30, t0 + 3'000)));
  want[late.account_id()] = t0 + 3'000;
  EXPECT_TRUE(holds(c.url, want, &got)) << "C holds " << got.size() << "\n" << c.child->log();
  EXPECT_TRUE(holds(b.url, want, &got)) << "B holds " << got.size() << "\n" << b.child->log();
  EXPECT_EQ(got.count(intruder.account_id()), 0U);
  EXPECT_TRUE(b.child->running());
  EXPECT_TRUE(c.child->running());
  EXPECT_NE(c.child->log().find("refused a shared advert"), std::string::npos) << c.child->log();
}

TEST(XisSharingTest, AnInstanceStartedWhileNatsIsDownServesAloneAndSharesOnceNatsIsBack) {
  if (auto why = skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  // A port for NATS: taken by a first nats-server, which is then killed, so nothing listens there.
  int port = 0;
  {
    NatsServer probe(dir, "probe");
    ASSERT_FALSE(probe.url().empty()) << probe.log();
    port = probe.port();
    probe.kill();
  }
  const std::string nats_url = fmt::format("nats://127.0.0.1:{}", port);
  Xis a = start_xis(dir, "xis-a", nats_url);
  ASSERT_FALSE(a.url.empty()) << "XIS must start while NATS is down\n" << a.child->log();
  const TimeMs t0 = SystemClock::instance().now_ms();
  const KeyPair k1 = KeyPair::generate();
  ASSERT_TRUE(post(a.url, k1, advert(k1, 1, t0)));
  std::map<std::string, TimeMs> got;
  EXPECT_TRUE(holds(a.url, {{k1.account_id(), t0}}, &got)) << "A serves alone";
  EXPECT_TRUE(
      poll_until([&] { return a.child->log().find("advert bus: cannot connect") != std::string::npos; }, seconds(10)))
      << a.child->log();

  NatsServer nats(dir, "nats", port);
  ASSERT_FALSE(nats.url().empty()) << nats.log();
  Xis b = start_xis(dir, "xis-b", nats.url());
  ASSERT_FALSE(b.url.empty()) << b.child->log();
  // A reconnects; what it is sent from now on is shared (its servers refresh every few seconds,
  // so what it held before reaches the others with their next refresh).
  const KeyPair k2 = KeyPair::generate();
  ASSERT_TRUE(post(a.url, k1, advert(k1, 1, t0 + 1'000)));
  ASSERT_TRUE(post(a.url, k2, advert(k2, 2, t0 + 1'000)));
  const std::map<std::string, TimeMs> want{{k1.account_id(), t0 + 1'000}, {k2.account_id(), t0 + 1'000}};
  EXPECT_TRUE(holds(b.url, want, &got)) << "B holds " << got.size() << "\n" << a.child->log();
}

}  // namespace
}  // namespace xop::testing
