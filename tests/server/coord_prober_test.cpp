// The coordinate probe over real UDP on loopback: the responder's strict parsing and rate limits
// (server/probe_responder.h), the client's refusal of spoofed and late answers
// (client/probe_client.h), and the prober's rounds over a peer source (server/coord_prober.h).
#include "server/coord_prober.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "net_probe.h"
#include "proto/coord_probe.h"
#include "server/probe_responder.h"
#include "server/server_config.h"
#include "support/test_support.h"

namespace xop {
namespace {

using testing::poll_until;
using namespace std::chrono_literals;

Coordinate coord_at(double x) {
  Coordinate c = origin_coordinate(4, 1.0, 0.2);
  c.vec[0] = x;
  return c;
}

// A bound UDP socket on 127.0.0.1 for hand-made datagrams.
struct RawUdp {
  int fd = -1;
  uint16_t port = 0;
  RawUdp() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    port = testing::bind_loopback_any_port(fd);
  }
  ~RawUdp() { ::close(fd); }
  void send_to(uint16_t to, const std::string& data) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(to);
    ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // The next datagram within `ms`, with its source port; empty when none.
  std::string recv(int ms, uint16_t* from_port = nullptr) const {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return "";
    char buf[70'000];
    sockaddr_in a{};
    socklen_t len = sizeof a;
    const ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&a), &len);
    if (from_port != nullptr) *from_port = ntohs(a.sin_port);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
};

TEST(ProbeRateLimiterTest, BudgetsPerSourceAndInTotalRefillOverTime) {
  ProbeRateOptions o;
  o.answers_per_second = 100;
  o.answers_per_second_per_source = 5;
  o.burst_seconds = 1;
  ProbeRateLimiter l(o);
  int allowed = 0;
  for (int i = 0; i < 50; ++i) allowed += l.allow(1, 1000) ? 1 : 0;
  EXPECT_EQ(allowed, 5);  // one source: its burst
  EXPECT_FALSE(l.allow(1, 1100));
  EXPECT_TRUE(l.allow(1, 1200));  // 200 ms at 5/s: one token back
  // Many sources: the total budget binds (100 a burst, refilled to full by 1200 ms, less the one
  // answer just given).
  allowed = 0;
  for (uint32_t s = 2; s < 200; ++s) allowed += l.allow(s, 1200) ? 1 : 0;
  EXPECT_EQ(allowed, 99);
  EXPECT_FALSE(l.allow(500, 1200));
}

TEST(ProbeRateLimiterTest, AFloodOfDistinctSourcesIsBoundedInMemory) {
  ProbeRateOptions o;
  o.answers_per_second = 1e9;
  o.max_sources = 64;
  ProbeRateLimiter l(o);
  for (uint32_t s = 0; s < 10'000; ++s) l.allow(s, 5000);
  EXPECT_LE(l.sources(), 64u);
  // Once they went quiet for a burst's time they are forgotten and new ones are served again.
  EXPECT_TRUE(l.allow(20'000, 5000 + 3000));
}

TEST(ProbeResponderTest, AnswersAProbeWithItsCoordinateAndDropsGarbage) {
  auto r = ProbeResponder::start("127.0.0.1", 0, ProbeRateOptions{}, [] { return std::optional(coord_at(12.5)); });
  ASSERT_TRUE(r) << r.error().message;
  RawUdp u;
  u.send_to((*r)->port(), encode_probe_request(ProbeRequest{77}));
  uint16_t from = 0;
  const std::string answer = u.recv(2000, &from);
  EXPECT_EQ(from, (*r)->port());
  auto a = parse_probe_answer(answer);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->nonce, 77u);
  ASSERT_TRUE(a->coord);
  EXPECT_EQ(a->coord->vec_us[0], 12'500);
  // Garbage, an oversized datagram, a truncated probe and an answer are dropped unanswered.
  const std::string good = encode_probe_request(ProbeRequest{1});
  u.send_to((*r)->port(), "hello");
  u.send_to((*r)->port(), good + "x");
  u.send_to((*r)->port(), std::string(60'000, 'A'));
  u.send_to((*r)->port(), good.substr(0, 100));
  u.send_to((*r)->port(), encode_probe_answer(ProbeAnswer{1, std::nullopt}));
  ASSERT_TRUE(poll_until([&] { return (*r)->stats().malformed == 5; }, 5s)) << (*r)->stats().malformed;
  EXPECT_EQ(u.recv(100), "");
  EXPECT_EQ((*r)->stats().answered, 1u);
}

TEST(ProbeResponderTest, ANodeWithoutCoordinateAnswersWithNone) {
  auto r = ProbeResponder::start("127.0.0.1", 0, ProbeRateOptions{}, [] { return std::optional<Coordinate>(); });
  ASSERT_TRUE(r);
  RawUdp u;
  u.send_to((*r)->port(), encode_probe_request(ProbeRequest{3}));
  auto a = parse_probe_answer(u.recv(2000));
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->coord);
}

TEST(ProbeResponderTest, RateLimitsAFloodFromOneSource) {
  ProbeRateOptions o;
  o.answers_per_second_per_source = 5;
  o.burst_seconds = 1;
  auto r = ProbeResponder::start("127.0.0.1", 0, o, [] { return std::optional(coord_at(1)); });
  ASSERT_TRUE(r);
  RawUdp u;
  for (uint64_t i = 0; i < 200; ++i) u.send_to((*r)->port(), encode_probe_request(ProbeRequest{i}));
  ASSERT_TRUE(poll_until([&] { return (*r)->stats().answered + (*r)->stats().limited == 200; }, 5s));
  // The bucket refills at 5/s while the flood is read: a few more than the burst of 5 at most.
  EXPECT_GE((*r)->stats().answered, 5u);
  EXPECT_LE((*r)->stats().answered, 15u);
  EXPECT_GE((*r)->stats().limited, 185u);
}

TEST(ProbeResponderTest, RefusesAnAddressThatIsNotIpv4) {
  EXPECT_FALSE(ProbeResponder::start("example.com", 0, ProbeRateOptions{}, nullptr));
}

TEST(ProbeClientTest, MeasuresRoundTripsAndIgnoresSpoofedWrongAndLateAnswers) {
  // A hand-made responder: to each probe it answers first with a wrong nonce, then with the right
  // nonce from another port (spoofed), then properly.
  RawUdp fake;
  RawUdp other;
  std::atomic<bool> done{false};
  std::thread t([&] {
    while (!done) {
      uint16_t from = 0;
      const std::string p = fake.recv(50, &from);
      auto req = parse_probe_request(p);
      if (!req) continue;
      const std::string right = encode_probe_answer(ProbeAnswer{req->nonce, advert_coord_of(coord_at(4))});
      fake.send_to(from, encode_probe_answer(ProbeAnswer{req->nonce + 1, advert_coord_of(coord_at(4))}));
      other.send_to(from, right);
      fake.send_to(from, "not a probe answer");
      fake.send_to(from, right);
      fake.send_to(from, right);  // a duplicate
    }
  });
  auto c = ProbeClient::open();
  ASSERT_TRUE(c);
  auto dead = ProbeTarget{"dead", "127.0.0.1", other.port};  // answers nothing of its own
  auto r = c->probe({ProbeTarget{"fake", "127.0.0.1", fake.port}, dead}, 500);
  done = true;
  t.join();
  EXPECT_EQ(r.sent, 2u);
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].peer, "fake");
  EXPECT_GT(r.samples[0].rtt_ms, 0);
  EXPECT_LT(r.samples[0].rtt_ms, 500);
  ASSERT_TRUE(r.samples[0].coord);
  EXPECT_DOUBLE_EQ(r.samples[0].coord->vec[0], 4);
  EXPECT_GE(r.ignored, 3u);  // wrong nonce, spoofed port, garbage (the duplicate may land next round)
}

TEST(ProbeClientTest, ParsesProbeAddressesStrictly) {
  auto t = parse_probe_address("p", "127.0.0.1:7402");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->port, 7402);
  for (const char* bad : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "host:80", ":80", "127.0.0.1:8a"}) {
    EXPECT_FALSE(parse_probe_address("p", bad)) << bad;
  }
}

TEST(CoordProberTest, RoundsProbeThePeersTheSourceNamesAndFeedVivaldi) {
  std::vector<std::unique_ptr<ProbeResponder>> peers;
  std::vector<ProbePeer> listed;
  for (int i = 0; i < 3; ++i) {
    auto r = ProbeResponder::start("127.0.0.1", 0, ProbeRateOptions{}, [i] { return std::optional(coord_at(10 * i)); });
    ASSERT_TRUE(r);
    listed.push_back(ProbePeer{"peer" + std::to_string(i), "127.0.0.1:" + std::to_string((*r)->port())});
    peers.push_back(std::move(*r));
  }
  RawUdp silent;  // a listed peer that never answers
  listed.push_back(ProbePeer{"silent", "127.0.0.1:" + std::to_string(silent.port)});
  listed.push_back(ProbePeer{"bad", "not-an-address"});
  std::vector<std::pair<size_t, size_t>> asked;
  std::vector<bool> had_self;
  PeerSource source = [&](const std::optional<Coordinate>& self, size_t near, size_t random) {
    asked.emplace_back(near, random);
    had_self.push_back(self.has_value());
    return Result<std::vector<ProbePeer>>(listed);
  };
  CoordProberOptions o;
  o.peers_per_round = 4;
  o.probe_timeout_ms = 300;
  SimulatedClock clock;
  auto client = ProbeClient::open();
  ASSERT_TRUE(client);
  CoordProber p(o, clock, source, std::move(*client));
  std::vector<std::string> observed;
  p.set_observer([&](const std::string& peer, double rtt, const Coordinate&) {
    EXPECT_GT(rtt, 0);
    observed.push_back(peer);
  });
  EXPECT_FALSE(p.coordinate());
  EXPECT_FALSE(p.published());
  // It answers probes from the start: near the origin, with the maximum error.
  EXPECT_LT(magnitude(p.answer_coordinate().vec), 1.0);
  EXPECT_DOUBLE_EQ(p.answer_coordinate().error, VivaldiConfig{}.error_max);
  ASSERT_TRUE(p.round());
  clock.advance_ms(1000);
  ASSERT_TRUE(p.round());
  EXPECT_EQ(p.samples(), 6);
  EXPECT_EQ(observed.size(), 6u);
  EXPECT_EQ(p.unanswered(), 2u);  // the silent peer, twice
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0], (std::pair<size_t, size_t>{0, 4}));  // no coordinate yet: all random
  EXPECT_EQ(asked[1], (std::pair<size_t, size_t>{2, 2}));  // then half near
  EXPECT_FALSE(had_self[0]);
  EXPECT_TRUE(had_self[1]);
  ASSERT_TRUE(p.coordinate());
  EXPECT_TRUE(validate_coordinate(*p.coordinate()));
  EXPECT_TRUE(p.published());
}

TEST(CoordProberTest, AFailingPeerSourceFailsTheRoundAndChangesNothing) {
  PeerSource source = [](const std::optional<Coordinate>&, size_t, size_t) -> Result<std::vector<ProbePeer>> {
    return make_error(ErrorCode::kUnavailable, "xis down");
  };
  SimulatedClock clock;
  auto client = ProbeClient::open();
  ASSERT_TRUE(client);
  CoordProber p(CoordProberOptions{}, clock, source, std::move(*client));
  auto r = p.round();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "xis down");
  EXPECT_EQ(p.samples(), 0);
}

TEST(CoordProberTest, TheThreadRunsRoundsUntilStopped) {
  auto peer = ProbeResponder::start("127.0.0.1", 0, ProbeRateOptions{}, [] { return std::optional(coord_at(3)); });
  ASSERT_TRUE(peer);
  const std::string addr = "127.0.0.1:" + std::to_string((*peer)->port());
  std::atomic<int> rounds{0};
  PeerSource source = [&](const std::optional<Coordinate>&, size_t, size_t) {
    ++rounds;
    return Result<std::vector<ProbePeer>>(std::vector<ProbePeer>{{"peer", addr}});
  };
  CoordProberOptions o;
  o.interval_ms = 20;
  o.probe_timeout_ms = 200;
  auto client = ProbeClient::open();
  ASSERT_TRUE(client);
  CoordProber p(o, SystemClock::instance(), source, std::move(*client));
  p.start();
  ASSERT_TRUE(poll_until([&] { return p.samples() >= 5; }, 10s));
  p.stop();
  const int after = rounds.load();
  EXPECT_GE(after, 5);
  EXPECT_EQ(rounds.load(), after);  // stopped means stopped
}

Result<ServerConfig> parse(const std::string& extra) {
  const std::string text = "data_dir = \"/var/lib/xop\"\ncorp_url = \"http://127.0.0.1:7000\"\nowner = \"" +
                           KeyPair::generate().account_id() + "\"\n" + extra;
  XOP_ASSIGN_OR_RETURN(auto t, parse_toml(text, "server.toml"));
  return server_config_from_toml(t);
}

TEST(CoordConfigTest, DefaultsOverridesAndStrictness) {
  auto d = parse("");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->coord_enabled);
  EXPECT_EQ(d->coord_interval_ms, 10'000);
  EXPECT_EQ(d->coord_peers_per_round, 4);
  EXPECT_EQ(d->coord_probe_listen, "");
  auto c = parse(
      "[coord]\nenabled = false\ninterval_ms = \"250ms\"\npeers_per_round = 6\nprobe_timeout_ms = 1500\n"
      "probe_listen = \"0.0.0.0:7499\"\nprobe_advertise = \"10.0.0.1:7499\"\nanswers_per_second = 50\n"
      "answers_per_second_per_source = 2\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->coord_enabled);
  EXPECT_EQ(c->coord_interval_ms, 250);
  EXPECT_EQ(c->coord_peers_per_round, 6);
  EXPECT_EQ(c->coord_probe_timeout_ms, 1500);
  EXPECT_EQ(c->coord_probe_listen, "0.0.0.0:7499");
  EXPECT_EQ(c->coord_probe_advertise, "10.0.0.1:7499");
  EXPECT_EQ(c->coord_answers_per_second, 50);
  EXPECT_EQ(c->coord_answers_per_second_per_source, 2);
  for (const char* bad : {"[coord]\nintervl_ms = 5\n", "[coord]\npeers_per_round = 0\n",
                          "[coord]\npeers_per_round = 33\n", "[coord]\ninterval_ms = 1\n",
                          "[coord]\nprobe_listen = \"nowhere\"\n", "[coord]\nprobe_advertise = \"10.0.0.1:0\"\n",
                          "[coord]\nenabled = \"yes\"\n", "[coord]\nanswers_per_second = 0\n"}) {
    auto r = parse(bad);
    EXPECT_FALSE(r) << "accepted " << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("coord"), std::string::npos) << r.error().message;
    }
  }
}

}  // namespace
}  // namespace xop
