// `xop locate`: estimate this machine's network coordinate by probing a few servers XIS lists
// (their probe responders answer with their coordinates), print it and, with --save, keep it in
// the profile (cli/saved_coordinate.h) for searches "within X ms of me".
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "cli/client_context.h"
#include "cli/output.h"
#include "cli/saved_coordinate.h"
#include "client/probe_client.h"
#include "client/xis_client.h"
#include "coord/vivaldi.h"
#include "core/endpoint.h"

namespace xop {

namespace {
struct LocateArgs {
  int64_t servers = 8;
  int64_t rounds = 3;
  int64_t timeout_ms = 2000;
  bool save = false;
};

struct Probed {
  std::string id;
  std::string name;
  Coordinate coord;
  double min_rtt_ms = -1;
};

int run(const CliState& st, const LocateArgs& a) {
  if (a.servers < 1 || a.servers > 64) return usage_error("--servers: must be 1..64");
  if (a.rounds < 1 || a.rounds > 20) return usage_error("--rounds: must be 1..20");
  if (a.timeout_ms < 10 || a.timeout_ms > 60'000) return usage_error("--timeout-ms: must be 10..60000");
  // No account key needed: the search is XIS's public API and probes are unsigned.
  UserHome home(st.dirs);
  auto cfg = home.load_config();
  if (!cfg && !(cfg.error().code == ErrorCode::kNotFound && !env_or_empty("XOP_XIS_URL").empty())) {
    return fail(cfg.error());
  }
  const UserConfig config = with_env_overrides(cfg ? *cfg : UserConfig{});
  if (config.xis_url.empty()) return fail("no XIS URL in config.toml (or XOP_XIS_URL)");
  auto xis = XisClient::connect(config.xis_url, std::nullopt);
  if (!xis) return fail(xis.error());
  // Servers that advertise a coordinate, in XIS's order, then a random pick of them.
  SearchQuery q;
  q.count = 200;
  auto found = xis->search(q);
  if (!found) return fail(found.error());
  std::vector<ProbeTarget> targets;
  std::map<std::string, Probed> by_id;
  std::vector<const Candidate*> with_coord;
  for (const auto& cand : found->candidates) {
    if (cand.advert.coord) with_coord.push_back(&cand);
  }
  SeededRng rng(static_cast<uint64_t>(SystemClock::instance().monotonic_ns()));
  for (size_t i = with_coord.size(); i > 1; --i) std::swap(with_coord[i - 1], with_coord[rng.below(i)]);
  for (const Candidate* cand : with_coord) {
    if (targets.size() >= static_cast<size_t>(a.servers)) break;
    std::string addr = cand->advert.probe.value_or("");
    if (addr.empty()) {
      auto e = parse_endpoint(cand->advert.endpoint);
      if (!e) continue;
      addr = e->host + ":" + std::to_string(e->port);
    }
    auto t = parse_probe_address(cand->advert.server, addr);
    if (!t) continue;
    targets.push_back(*t);
    by_id[cand->advert.server] = Probed{cand->advert.server, cand->advert.name, {}, -1};
  }
  if (targets.empty()) return fail("XIS lists no server with a network coordinate to probe");
  auto client = ProbeClient::open();
  if (!client) return fail(client.error());
  VivaldiNode node{VivaldiConfig{}};
  std::map<std::string, bool> answered;
  for (int64_t r = 0; r < a.rounds; ++r) {
    const auto res = client->probe(targets, a.timeout_ms);
    for (const auto& s : res.samples) {
      if (!s.coord || s.coord->vec.size() != node.config().dims) continue;
      auto& p = by_id[s.peer];
      p.coord = *s.coord;
      p.min_rtt_ms = p.min_rtt_ms < 0 ? s.rtt_ms : std::min(p.min_rtt_ms, s.rtt_ms);
      if (node.observe(s.peer, *s.coord, s.rtt_ms, r)) answered[s.peer] = true;
    }
  }
  if (node.samples() == 0) {
    return fail(fmt::format("none of the {} servers probed answered within {} ms (UDP blocked?)", targets.size(),
                            a.timeout_ms));
  }
  const Coordinate me = node.coordinate();
  SavedCoordinate saved{advert_coord_of(me), SystemClock::instance().now_ms(), node.samples(),
                        static_cast<int64_t>(answered.size())};
  if (a.save) {
    if (auto ok = save_coordinate(st.dirs, saved); !ok) return fail(ok.error());
  }
  if (st.json) {
    Json j = to_json(saved);
    j["saved"] = a.save ? Json(saved_coordinate_path(st.dirs)) : Json(nullptr);
    Json servers = Json::array();
    for (const auto& [id, p] : by_id) {
      if (p.min_rtt_ms < 0) continue;
      servers.push_back(Json{{"server", id},
                             {"name", p.name},
                             {"measured_rtt_us", std::llround(p.min_rtt_ms * 1000)},
                             {"est_rtt_us", std::llround(estimated_rtt_ms(me, p.coord) * 1000)}});
    }
    j["probed"] = servers;
    print_json(j);
    return 0;
  }
  std::string vec;
  for (double v : me.vec) vec += fmt::format("{}{:.2f}", vec.empty() ? "" : ", ", v);
  std::cout << fmt::format("coordinate: [{}] ms, height {:.2f} ms, error {:.0f}%\n", vec, me.height, me.error * 100);
  std::cout << fmt::format("from {} samples of {} servers\n", node.samples(), answered.size());
  Table t({"SERVER", "MEASURED RTT", "EST RTT"});
  for (const auto& [id, p] : by_id) {
    if (p.min_rtt_ms < 0) continue;
    t.add({p.name.empty() ? id : p.name, fmt::format("{:.1f} ms", p.min_rtt_ms),
           fmt::format("{:.1f} ms", estimated_rtt_ms(me, p.coord))});
  }
  std::cout << t.render();
  if (a.save) std::cout << "saved to " << saved_coordinate_path(st.dirs) << "\n";
  return 0;
}
}  // namespace

void add_locate_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<LocateArgs>();
  auto* cmd = app.add_subcommand("locate", "Estimate your network coordinate by probing a few servers");
  cmd->add_option("--servers", a->servers, "How many servers to probe (1..64)")->capture_default_str();
  cmd->add_option("--rounds", a->rounds, "Probes to each server (1..20)")->capture_default_str();
  cmd->add_option("--timeout-ms", a->timeout_ms, "How long a round waits for answers")->capture_default_str();
  cmd->add_flag("--save", a->save, "Keep the coordinate in the profile, for searches within X ms of you");
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
