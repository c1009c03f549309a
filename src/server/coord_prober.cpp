#include "server/coord_prober.h"

#include <algorithm>
#include <set>

#include "core/endpoint.h"
#include "core/log.h"

namespace xop {

namespace {

constexpr size_t kNearPool = 8;  // as bench/coord_sim_bench.cpp's kNearPeers

std::string probe_address_of(const Advert& a) {
  if (a.probe) return *a.probe;
  auto e = parse_endpoint(a.endpoint);
  if (!e) return "";
  return e->host + ":" + std::to_string(e->port);
}

}  // namespace

PeerSource xis_peer_source(XisClient* xis, std::string self_id, uint64_t seed) {
  auto rng = std::make_shared<SeededRng>(seed);
  return [xis, self_id = std::move(self_id), rng](const std::optional<Coordinate>& self, size_t near,
                                                  size_t random) -> Result<std::vector<ProbePeer>> {
    std::vector<ProbePeer> out;
    std::set<std::string> taken{self_id};
    auto take = [&](const Candidate& c) {
      if (taken.count(c.advert.server) > 0) return false;
      const std::string addr = probe_address_of(c.advert);
      if (addr.empty()) return false;
      taken.insert(c.advert.server);
      out.push_back(ProbePeer{c.advert.server, addr});
      return true;
    };
    if (self && near > 0) {
      // Among the kNearPool closest (plus ourselves), `near` at random: the closest few alone
      // would be probed round after round and teach nothing new.
      SearchQuery q;
      q.count = static_cast<int64_t>(std::max(near, kNearPool) + 1);
      q.rtt_from_coord = advert_coord_of(*self);
      XOP_ASSIGN_OR_RETURN(auto r, xis->search(q));
      auto& cs = r.candidates;
      for (size_t i = cs.size(); i > 1; --i) std::swap(cs[i - 1], cs[rng->below(i)]);
      size_t got = 0;
      for (const auto& c : cs) {
        if (got < near && take(c)) ++got;
      }
    } else {
      random += near;
    }
    if (random > 0) {
      // The servers nearest to a random point, one pick among a few: spread over the world.
      SearchQuery q;
      q.count = static_cast<int64_t>(std::min<size_t>(4 * random + 1, 1000));
      q.near = GeoPoint{static_cast<int64_t>((rng->uniform() * 180 - 90) * 1e6),
                        static_cast<int64_t>((rng->uniform() * 360 - 180) * 1e6)};
      XOP_ASSIGN_OR_RETURN(auto r, xis->search(q));
      auto& cs = r.candidates;
      for (size_t i = cs.size(); i > 1; --i) std::swap(cs[i - 1], cs[rng->below(i)]);
      size_t got = 0;
      for (const auto& c : cs) {
        if (got < random && take(c)) ++got;
      }
    }
    return out;
  };
}

CoordProber::CoordProber(CoordProberOptions o, const Clock& clock, PeerSource peers, ProbeClient client, uint64_t seed)
    : o_(o), clock_(&clock), peers_(std::move(peers)), client_(std::move(client)), node_([&] {
        VivaldiConfig c = o.vivaldi;
        c.seed = seed;
        return c;
      }()) {}

CoordProber::~CoordProber() { stop(); }

Status CoordProber::round() {
  std::lock_guard round_lock(round_mu_);
  std::optional<Coordinate> self = coordinate();
  const size_t near = self ? o_.peers_per_round / 2 : 0;
  XOP_ASSIGN_OR_RETURN(auto peers, peers_(self, near, o_.peers_per_round - near));
  std::vector<ProbeTarget> targets;
  for (const auto& p : peers) {
    auto t = parse_probe_address(p.id, p.probe);
    if (!t) {
      XOP_LOGN_DEBUG("coord", "peer {}: {}", p.id, t.error().message);
      continue;
    }
    targets.push_back(*t);
  }
  if (targets.empty()) return {};
  ProbeRoundResult r = client_.probe(targets, o_.probe_timeout_ms);
  const int64_t now = clock_->now_ms();
  std::lock_guard lock(mu_);
  unanswered_ += r.sent - r.samples.size();
  for (const auto& s : r.samples) {
    if (!s.coord || s.coord->vec.size() != node_.config().dims) continue;  // a peer with nothing to offer yet
    if (!node_.observe(s.peer, *s.coord, s.rtt_ms, now)) continue;
    if (observer_) observer_(s.peer, s.rtt_ms, node_.coordinate());
  }
  return {};
}

void CoordProber::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void CoordProber::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CoordProber::run() {
  for (;;) {
    if (auto ok = round(); !ok) XOP_LOGN_DEBUG("coord", "probe round: {}", ok.error().message);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(o_.interval_ms), [&] { return stopping_; });
    if (stopping_) return;
  }
}

std::optional<Coordinate> CoordProber::coordinate() const {
  std::lock_guard lock(mu_);
  if (node_.samples() == 0) return std::nullopt;
  return node_.coordinate();
}
Coordinate CoordProber::answer_coordinate() const {
  std::lock_guard lock(mu_);
  return node_.coordinate();
}
std::optional<Coordinate> CoordProber::published() const {
  std::lock_guard lock(mu_);
  if (node_.samples() == 0) return std::nullopt;
  return node_.published();
}
int64_t CoordProber::samples() const {
  std::lock_guard lock(mu_);
  return node_.samples();
}
uint64_t CoordProber::unanswered() const {
  std::lock_guard lock(mu_);
  return unanswered_;
}
void CoordProber::set_observer(SampleObserver f) {
  std::lock_guard lock(mu_);
  observer_ = std::move(f);
}

}  // namespace xop
