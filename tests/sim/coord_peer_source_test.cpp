// The servers' peer choice through XIS (server/coord_prober.h, xis_peer_source): real signed
// adverts with coordinates (server/advertiser.h) in a real XIS over HTTP, and the prober's
// searches over its public API. Lives with the sim tests as the area that links both XIS and
// the server.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "client/api_client.h"
#include "net/http_server.h"
#include "server/advertiser.h"
#include "server/coord_prober.h"
#include "sim/platform.h"
#include "support/builders.h"
#include "support/test_support.h"
#include "xis/xis_service.h"

namespace xop {
namespace {

Coordinate on_line(double x) {
  Coordinate c = origin_coordinate(4, 1.0, 0.2);
  c.vec[0] = x;
  return c;
}

TEST(CoordPeerSourceTest, NearPeersComeFromTheClosestByCoordinateAndRandomOnesFromAnywhere) {
  XisService svc(XisOptions{}, SystemClock::instance());
  HttpServer http(HttpServerOptions{}, svc.router());
  ASSERT_TRUE(http.start());
  const TimeMs now = SystemClock::instance().now_ms();
  std::vector<KeyPair> keys;
  const int n = 14;
  for (int i = 0; i < n; ++i) {
    keys.push_back(KeyPair::generate());
    const KeyPair& k = keys.back();
    AdvertSource s;
    s.server_id = k.account_id();
    s.name = "s" + std::to_string(i);
    s.endpoint = "http://127.0.0.1:" + std::to_string(7000 + i);
    s.location = GeoPoint{(i * 12 - 80) * 1'000'000, (i * 25 - 170) * 1'000'000};
    s.capacity = Resources{4000, 8LL << 30, 100LL << 30, 1'000'000'000};
    Rates rates;
    rates.cpu_reserve_per_core_hour = 1'000'000;
    s.price_sheet = testing::signed_price_sheet(k, 1, rates, s.server_id);
    s.sandboxes = {"mock"};
    if (i != 13) s.coord = on_line(10.0 * i);  // s13 has no coordinate yet
    if (i == 3) s.probe = "127.0.0.1:9";
    auto adv = make_advert(s, s.capacity, {}, now, k);
    ASSERT_TRUE(adv) << adv.error().to_string();
    XisClient xis(ApiClient(Endpoint{"127.0.0.1", http.port()}, k));
    ASSERT_TRUE(send_advert(xis, *adv));
    EXPECT_EQ(adv->body.contains("coord"), i != 13);
  }
  XisClient client(ApiClient(Endpoint{"127.0.0.1", http.port()}, keys[0]));
  PeerSource source = xis_peer_source(&client, keys[0].account_id(), 5);
  std::set<std::string> near_seen;
  std::set<std::string> random_seen;
  for (int round = 0; round < 20; ++round) {
    auto near = source(on_line(0), 2, 0);
    ASSERT_TRUE(near) << near.error().to_string();
    ASSERT_EQ(near->size(), 2u);
    for (const auto& p : *near) {
      EXPECT_NE(p.id, keys[0].account_id());  // never itself
      near_seen.insert(p.id);
    }
    EXPECT_NE((*near)[0].id, (*near)[1].id);
    auto random = source(on_line(0), 0, 3);
    ASSERT_TRUE(random);
    ASSERT_EQ(random->size(), 3u);
    for (const auto& p : *random) {
      EXPECT_NE(p.id, keys[0].account_id());
      random_seen.insert(p.id);
      if (p.id == keys[3].account_id()) {
        EXPECT_EQ(p.probe, "127.0.0.1:9");  // the advert's probe field
      }
    }
  }
  // Near ones: only among the 8 closest by coordinate (s1..s8), and more than the closest two.
  std::set<std::string> closest;
  for (int i = 1; i <= 8; ++i) closest.insert(keys[i].account_id());
  for (const auto& id : near_seen) {
    EXPECT_TRUE(closest.count(id)) << "near peer outside the 8 closest";
  }
  EXPECT_GT(near_seen.size(), 2u);
  // Random ones reach beyond the near pool (the far end of the line, the one without coordinate).
  size_t beyond = 0;
  for (const auto& id : random_seen) beyond += closest.count(id) == 0 ? 1 : 0;
  EXPECT_GE(beyond, 2u);
  // Without a coordinate of its own, every peer is a random one.
  auto first = source(std::nullopt, 2, 2);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 4u);
  // A peer's probe address is its endpoint's host and port number when its advert names none.
  for (const auto& p : *first) {
    if (p.id == keys[5].account_id()) {
      EXPECT_EQ(p.probe, "127.0.0.1:7005");
    }
  }
  http.stop();
}

// The whole path in real daemons (the HTTP wiring of `xop dev`, mock sandboxes): servers start
// without coordinates, find each other through XIS, probe each other over UDP on loopback and
// advertise what they computed.
TEST(CoordPeerSourceTest, ServersOfAPlatformAdvertiseCoordinatesTheyMeasured) {
  testing::TempDir dir;
  PlatformOptions o;
  o.data_dir = dir.path();
  o.servers = 3;
  o.runtime = "mock";
  o.advert_interval_ms = 200;
  o.coord_interval_ms = 100;
  auto p = Platform::start(o);
  ASSERT_TRUE(p) << p.error().to_string();
  auto xis = XisClient::connect((*p)->xis_url(), std::nullopt);
  ASSERT_TRUE(xis);
  std::vector<Advert> last;
  const bool all = testing::poll_until(
      [&] {
        auto docs = xis->adverts();
        if (!docs) return false;
        last.clear();
        for (const auto& d : *docs) {
          auto a = verify_advert(d);
          if (a) last.push_back(*a);
        }
        return last.size() == 3 && std::all_of(last.begin(), last.end(), [](const Advert& a) { return a.coord; });
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(all) << "not every server advertised a coordinate";
  for (const auto& a : last) {
    const Coordinate c = coordinate_of(*a.coord);
    EXPECT_TRUE(validate_coordinate(c));
    EXPECT_FALSE(a.probe);  // the endpoint's port number is the probe port
    // Loopback round trips are well under a few ms: the coordinates say so (ground truth).
    for (const auto& b : last) {
      if (a.server != b.server) {
        EXPECT_LT(estimated_rtt_ms(c, coordinate_of(*b.coord)), 20.0);
      }
    }
  }
  (*p)->stop();
}

}  // namespace
}  // namespace xop
