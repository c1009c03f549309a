#include "coord/vivaldi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace xop {
namespace {

// A system of nodes whose true RTTs come from `rtt(i, j)`; each round every node samples
// `peers_per_round` random other nodes. Returns the median relative error over all pairs.
struct System {
  std::vector<VivaldiNode> nodes;
  std::vector<std::vector<double>> truth;
  SeededRng pick{99};
  int64_t tick = 0;

  System(const std::vector<std::vector<double>>& rtt, VivaldiConfig cfg) : truth(rtt) {
    for (size_t i = 0; i < rtt.size(); ++i) {
      cfg.seed = 1000 + i;
      nodes.emplace_back(cfg);
    }
  }
  void rounds(int n, int peers_per_round = 2) {
    for (int r = 0; r < n; ++r) {
      ++tick;
      for (size_t i = 0; i < nodes.size(); ++i) {
        for (int p = 0; p < peers_per_round; ++p) {
          size_t j = pick.below(nodes.size() - 1);
          if (j >= i) ++j;
          ASSERT_TRUE(nodes[i].observe("n" + std::to_string(j), nodes[j].coordinate(), truth[i][j], tick));
        }
      }
    }
  }
  double worst_rel_error() const {
    double worst = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (size_t j = 0; j < nodes.size(); ++j) {
        if (i == j) continue;
        const double est = estimated_rtt_ms(nodes[i].coordinate(), nodes[j].coordinate());
        worst = std::max(worst, std::fabs(est - truth[i][j]) / truth[i][j]);
      }
    }
    return worst;
  }
};

std::vector<std::vector<double>> from_points(const std::vector<std::vector<double>>& pts, double height) {
  std::vector<std::vector<double>> m(pts.size(), std::vector<double>(pts.size(), 0));
  for (size_t i = 0; i < pts.size(); ++i) {
    for (size_t j = 0; j < pts.size(); ++j) {
      double s = 0;
      for (size_t k = 0; k < pts[i].size(); ++k) s += (pts[i][k] - pts[j][k]) * (pts[i][k] - pts[j][k]);
      m[i][j] = std::sqrt(s) + 2 * height;
    }
  }
  return m;
}

VivaldiConfig classic(size_t dims) {
  VivaldiConfig c;
  c.dims = dims;
  c.newcomer_probes = 0;
  return c;
}

TEST(LatencyFilterTest, MovingMedianDropsAnOutlierAndForgetsOldSamples) {
  LatencyFilter f(5, 0.5);
  EXPECT_EQ(f.value(), 0);
  EXPECT_EQ(f.add(10), 10);
  f.add(11);
  f.add(900);  // one huge sample
  EXPECT_EQ(f.add(12), 11);
  EXPECT_EQ(f.add(10), 11);
  for (int i = 0; i < 5; ++i) f.add(50);  // the old samples leave the window
  EXPECT_EQ(f.value(), 50);
  EXPECT_EQ(f.size(), 5u);
  LatencyFilter low(4, 0.0);
  low.add(30);
  low.add(20);
  EXPECT_EQ(low.add(25), 20);
}

TEST(CoordinateTest, ValidationRefusesNonFiniteAndOutOfBounds) {
  Coordinate ok = origin_coordinate(3, 1, 0.5);
  EXPECT_TRUE(validate_coordinate(ok));
  auto bad = [&](auto mutate) {
    Coordinate c = ok;
    mutate(c);
    return !validate_coordinate(c);
  };
  EXPECT_TRUE(bad([](Coordinate& c) { c.vec[1] = std::nan(""); }));
  EXPECT_TRUE(bad([](Coordinate& c) { c.vec[0] = std::numeric_limits<double>::infinity(); }));
  EXPECT_TRUE(bad([](Coordinate& c) { c.vec[0] = 2 * kMaxCoordMs; }));
  EXPECT_TRUE(bad([](Coordinate& c) { c.vec.clear(); }));
  EXPECT_TRUE(bad([](Coordinate& c) { c.vec.assign(kMaxCoordDims + 1, 0.0); }));
  EXPECT_TRUE(bad([](Coordinate& c) { c.height = -1; }));
  EXPECT_TRUE(bad([](Coordinate& c) { c.height = std::nan(""); }));
  EXPECT_TRUE(bad([](Coordinate& c) { c.error = 0; }));
  EXPECT_TRUE(bad([](Coordinate& c) { c.error = kMaxCoordError * 2; }));
  EXPECT_EQ(estimated_rtt_ms(origin_coordinate(2, 1, 1), origin_coordinate(3, 1, 1)),
            std::numeric_limits<double>::infinity());
  Coordinate a = origin_coordinate(2, 1, 1);
  Coordinate b = origin_coordinate(2, 2, 1);
  b.vec = {3, 4};
  EXPECT_DOUBLE_EQ(estimated_rtt_ms(a, b), 8.0);
}

TEST(VivaldiTest, HostileSamplesAreRefusedAndChangeNothing) {
  VivaldiNode n(VivaldiConfig{});
  const Coordinate peer = origin_coordinate(4, 1, 1);
  ASSERT_TRUE(n.observe("p", peer, 20, 1));
  const Coordinate before = n.coordinate();
  const int64_t samples = n.samples();
  for (double rtt : {std::nan(""), -5.0, 0.0, std::numeric_limits<double>::infinity(), 1e9, 60'001.0}) {
    EXPECT_FALSE(n.observe("p", peer, rtt, 2)) << rtt;
  }
  Coordinate nan_peer = peer;
  nan_peer.vec[2] = std::nan("");
  EXPECT_FALSE(n.observe("p", nan_peer, 20, 2));
  Coordinate huge_peer = peer;
  huge_peer.vec[0] = 1e300;
  EXPECT_FALSE(n.observe("p", huge_peer, 20, 2));
  EXPECT_FALSE(n.observe("p", origin_coordinate(3, 1, 1), 20, 2));  // other dims
  EXPECT_FALSE(n.observe("", peer, 20, 2));
  EXPECT_FALSE(n.observe(std::string(300, 'x'), peer, 20, 2));
  EXPECT_EQ(n.coordinate(), before);
  EXPECT_EQ(n.samples(), samples);
  EXPECT_TRUE(validate_coordinate(n.coordinate()));
}

TEST(VivaldiTest, ConfigValidation) {
  EXPECT_TRUE(validate_vivaldi_config(VivaldiConfig{}));
  VivaldiConfig c;
  c.dims = 0;
  EXPECT_FALSE(validate_vivaldi_config(c));
  c = {};
  c.cc = std::nan("");
  EXPECT_FALSE(validate_vivaldi_config(c));
  c = {};
  c.ce = 1.5;
  EXPECT_FALSE(validate_vivaldi_config(c));
  c = {};
  c.filter_percentile = -0.1;
  EXPECT_FALSE(validate_vivaldi_config(c));
  c = {};
  c.neighbour_max_age = -1;
  EXPECT_FALSE(validate_vivaldi_config(c));
}

TEST(VivaldiTest, TriangleConverges) {
  // 3-4-5 triangle scaled to ms: embeddable exactly in two dimensions.
  const auto m = from_points({{0, 0}, {30, 0}, {0, 40}}, 0);
  System s(m, classic(2));
  s.rounds(300, 1);
  EXPECT_LT(s.worst_rel_error(), 0.05);
  for (const auto& n : s.nodes) EXPECT_LT(n.coordinate().error, 0.2);
}

TEST(VivaldiTest, LineWithHeightsConverges) {
  // Points on a line, every node with a 5 ms access link: the height model fits it.
  const auto m = from_points({{0}, {10}, {30}, {60}, {100}}, 5);
  System s(m, classic(2));
  s.rounds(500, 1);
  EXPECT_LT(s.worst_rel_error(), 0.05);
}

TEST(VivaldiTest, GridConvergesWithEveryRefinementOn) {
  std::vector<std::vector<double>> pts;
  for (int x = 0; x < 5; ++x) {
    for (int y = 0; y < 5; ++y) pts.push_back({x * 20.0, y * 20.0});
  }
  VivaldiConfig c;
  c.dims = 3;
  c.neighbour_max_age = 20;
  c.gravity_rho_ms = 2000;
  System s(from_points(pts, 2), c);
  s.rounds(400, 2);
  EXPECT_LT(s.worst_rel_error(), 0.15);
}

TEST(VivaldiTest, SameSeedSameCoordinatesBitForBit) {
  const auto m = from_points({{0, 0}, {50, 0}, {0, 70}, {40, 40}, {90, 10}}, 3);
  VivaldiConfig c;
  c.neighbour_max_age = 10;
  System a(m, c);
  System b(m, c);
  a.rounds(50);
  b.rounds(50);
  for (size_t i = 0; i < a.nodes.size(); ++i) EXPECT_EQ(a.nodes[i].coordinate(), b.nodes[i].coordinate());
  // Another seed for the nodes' own generators gives another (equally good) layout.
  VivaldiNode x(c);
  c.seed = 77;
  VivaldiNode y(c);
  const Coordinate at_origin = origin_coordinate(4, 0.1, 1.5);
  ASSERT_TRUE(x.observe("p", at_origin, 30, 1));
  ASSERT_TRUE(y.observe("p", at_origin, 30, 1));
  EXPECT_NE(x.coordinate().vec, y.coordinate().vec);
  EXPECT_NEAR(estimated_rtt_ms(x.coordinate(), at_origin), estimated_rtt_ms(y.coordinate(), at_origin), 1e-6);
}

TEST(VivaldiTest, StaleNeighboursDecayAway) {
  VivaldiConfig c;
  c.newcomer_probes = 0;
  c.neighbour_max_age = 10;
  VivaldiNode n(c);
  const Coordinate p = origin_coordinate(4, 1, 0.2);
  ASSERT_TRUE(n.observe("old", p, 50, 0));
  ASSERT_TRUE(n.observe("fresh", p, 50, 5));
  EXPECT_EQ(n.neighbours(), 2u);
  ASSERT_TRUE(n.observe("fresh", p, 50, 11));  // "old" last heard at 0: older than 10 ticks
  EXPECT_EQ(n.neighbours(), 1u);
  EXPECT_LT(n.filtered_rtt_ms("old"), 0);
  EXPECT_EQ(n.filtered_rtt_ms("fresh"), 50);
}

TEST(VivaldiTest, NeighbourTableIsBounded) {
  VivaldiConfig c;
  c.max_neighbours = 4;
  VivaldiNode n(c);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(n.observe("p" + std::to_string(i), origin_coordinate(4, 1, 1), 30, i));
  EXPECT_EQ(n.neighbours(), 4u);
  EXPECT_GT(n.filtered_rtt_ms("p19"), 0);
  EXPECT_LT(n.filtered_rtt_ms("p0"), 0);
}

TEST(VivaldiTest, LatencyFilterShieldsTheCoordinateFromASpike) {
  const auto m = from_points({{0, 0}, {30, 0}, {0, 40}, {30, 40}}, 1);
  System s(m, classic(2));
  s.rounds(1000, 1);
  ASSERT_LT(s.worst_rel_error(), 0.06);
  const double before = estimated_rtt_ms(s.nodes[0].coordinate(), s.nodes[1].coordinate());
  ASSERT_TRUE(s.nodes[0].observe("n1", s.nodes[1].coordinate(), 5000, ++s.tick));  // one huge sample
  const double after = estimated_rtt_ms(s.nodes[0].coordinate(), s.nodes[1].coordinate());
  EXPECT_NEAR(after, before, 0.05 * m[0][1]);
}

TEST(VivaldiTest, NewcomerPlacementBeatsCreepingFromTheOrigin) {
  std::vector<std::vector<double>> pts;
  for (int x = 0; x < 6; ++x) {
    for (int y = 0; y < 6; ++y) pts.push_back({x * 25.0, y * 25.0});
  }
  pts.push_back({60, 70});  // the newcomer, last
  const auto m = from_points(pts, 2);
  const size_t newcomer = pts.size() - 1;
  VivaldiConfig c;
  c.dims = 2;
  System s(m, c);
  // Settle the others without the newcomer.
  SeededRng pick(5);
  for (int r = 0; r < 400; ++r) {
    for (size_t i = 0; i < newcomer; ++i) {
      size_t j = pick.below(newcomer - 1);
      if (j >= i) ++j;
      ASSERT_TRUE(s.nodes[i].observe("n" + std::to_string(j), s.nodes[j].coordinate(), m[i][j], r));
    }
  }
  auto mean_error = [&](const VivaldiNode& n) {
    double sum = 0;
    for (size_t j = 0; j < newcomer; ++j) {
      sum += std::fabs(estimated_rtt_ms(n.coordinate(), s.nodes[j].coordinate()) - m[newcomer][j]) / m[newcomer][j];
    }
    return sum / static_cast<double>(newcomer);
  };
  VivaldiNode fitted(c);
  VivaldiNode creeping(classic(2));
  for (int k = 0; k < 8; ++k) {
    const size_t j = pick.below(newcomer);
    ASSERT_TRUE(fitted.observe("n" + std::to_string(j), s.nodes[j].coordinate(), m[newcomer][j], 500));
    ASSERT_TRUE(creeping.observe("n" + std::to_string(j), s.nodes[j].coordinate(), m[newcomer][j], 500));
  }
  EXPECT_LT(mean_error(fitted), 0.10);
  EXPECT_LT(mean_error(fitted), mean_error(creeping));
  EXPECT_LT(fitted.coordinate().error, c.error_max);  // it knows it has been placed
}

TEST(VivaldiTest, PublishedCoordinateIsDamped) {
  const auto m = from_points({{0, 0}, {60, 0}, {0, 80}, {60, 80}}, 2);
  VivaldiConfig c;
  c.dims = 2;
  c.publish_move_ms = 5;
  System s(m, c);
  s.rounds(2000, 1);
  ASSERT_LT(s.worst_rel_error(), 0.05);  // settled
  const Coordinate published = s.nodes[0].published();
  // Jittered samples (+-1 ms) move the system coordinate a little, the published one not at all.
  SeededRng jitter(3);
  for (int k = 0; k < 50; ++k) {
    const size_t j = 1 + jitter.below(3);
    ASSERT_TRUE(s.nodes[0].observe("n" + std::to_string(j), s.nodes[j].coordinate(),
                                   m[0][j] + (jitter.uniform() * 2 - 1), ++s.tick));
  }
  EXPECT_EQ(s.nodes[0].published().vec, published.vec);
  EXPECT_TRUE(validate_coordinate(s.nodes[0].published()));
  EXPECT_LT(estimated_rtt_ms(s.nodes[0].published(), s.nodes[1].coordinate()), m[0][1] * 1.1);
}

}  // namespace
}  // namespace xop
