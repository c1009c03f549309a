// `xop search`: ask XIS for servers (resources, price ceiling, near a point or within an estimated
// RTT of a server), ranked. Sent as a query of the query language (POST /v1/query, the engine
// `xop quote` uses too), so the answer is bounded and says per predicate what was removed.
#include <fmt/format.h>

#include <cmath>
#include <iostream>

#include "cli/client_context.h"
#include "cli/output.h"
#include "client/xis_client.h"
#include "core/units.h"
#include "proto/search.h"
#include "proto/xis_query.h"

namespace xop {

namespace {
struct SearchArgs {
  std::string near;
  int64_t cpu_millis = 100;
  int64_t memory_mib = 64;
  int64_t count = 10;
  std::string memory;  // a size with a unit ("64MiB"); wins over memory_mib
  std::string max_price;
  std::string near_server;  // account id: rank by estimated RTT from its advertised coordinate
  int64_t within_ms = 0;    // 0: no RTT bound
};

// The flags as a query of the query language (proto/xis_query.h): the reservation required free
// and priced, the ceiling, and the ranking (estimated RTT from --near-server, else distance from
// --near, else price).
Result<Query> search_query(const SearchArgs& a) {
  Query q;
  q.reservation.cpu_millis = a.cpu_millis;
  q.reservation.memory_bytes = a.memory_mib << 20;
  if (a.cpu_millis < 0 || a.memory_mib < 0) return invalid("--cpu-millis, --memory-mib: must not be negative");
  if (!a.memory.empty()) {
    auto m = parse_size(a.memory);
    if (!m) return invalid("--memory: " + m.error().message);
    q.reservation.memory_bytes = *m;
  }
  Predicate free;
  free.kind = Predicate::Kind::kFree;
  free.free = q.reservation;
  q.where.children.push_back(free);
  if (a.count < 1 || a.count > kMaxQueryCount) return invalid(fmt::format("--count: must be 1..{}", kMaxQueryCount));
  q.count = a.count;
  if (!a.near.empty()) {
    auto ll = parse_lat_lon(a.near);
    if (!ll) return invalid("--near: " + ll.error().message);
    q.near = GeoPoint{std::llround(ll->first * 1e6), std::llround(ll->second * 1e6)};
    q.rank = RankBy::kDistance;
  }
  if (!a.max_price.empty()) {
    auto p = parse_credits(a.max_price);
    if (!p) return invalid("--max-price: " + p.error().message);
    Predicate c;
    c.kind = Predicate::Kind::kMaxPricePerHour;
    c.micros = p->micros();
    q.where.children.push_back(c);
  }
  if (!a.near_server.empty()) {
    q.rtt_from = RttFrom{std::nullopt, a.near_server};
    q.rank = RankBy::kRtt;
  }
  if (a.within_ms != 0) {
    if (a.near_server.empty()) return invalid("--within-ms: needs --near-server");
    if (a.within_ms < 1 || a.within_ms > kMaxWithinMs)
      return invalid(fmt::format("--within-ms: must be 1..{}", kMaxWithinMs));
    Predicate c;
    c.kind = Predicate::Kind::kWithinMs;
    c.number = static_cast<double>(a.within_ms);
    q.where.children.push_back(c);
  }
  auto checked = query_from_json(to_json(q));  // what XIS would refuse, refused here
  if (!checked) return invalid(checked.error().message);
  return q;
}

int run(const CliState& st, const SearchArgs& a) {
  auto q = search_query(a);
  if (!q) return usage_error(q.error().message);
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  if (!c->xis) return fail("no XIS URL in config.toml (or XOP_XIS_URL)");
  auto r = c->xis->quote(*q);
  if (!r) return fail(r.error());
  if (st.json) {
    print_json(to_json(*r));
    return 0;
  }
  Table t({"#", "NAME", "CITY", "DISTANCE", "EST RTT", "PRICE/H", "FREE CPU", "FREE MEM", "ENDPOINT"});
  int i = 0;
  for (const auto& cand : r->chosen) {
    const std::string rtt =
        cand.est_rtt_us ? fmt::format("{:.1f} ms", static_cast<double>(*cand.est_rtt_us) / 1000) : std::string("-");
    t.add({std::to_string(++i), cand.advert.name, cand.advert.city,
           cand.distance_km ? fmt::format("{:.0f} km", *cand.distance_km) : std::string("-"), rtt,
           format_credits(cand.price_per_hour), std::to_string(cand.advert.free.cpu_millis) + "m",
           human_bytes(cand.advert.free.memory_bytes), cand.advert.endpoint});
  }
  std::cout << t.render();
  // Why the others were not chosen: per predicate, how many it removed and a few of them.
  for (const auto& rm : r->removed) {
    std::cout << fmt::format("  not chosen: {} removed by {} {}\n", rm.count, rm.predicate, rm.text);
    for (const auto& e : rm.examples) std::cout << "    e.g. " << e.name << ": " << e.why << "\n";
  }
  if (r->ranked_out > 0)
    std::cout << fmt::format("  not chosen: {} ranked below the {} asked for\n", r->ranked_out, a.count);
  if (static_cast<int64_t>(r->chosen.size()) < a.count && !r->relaxations.empty()) {
    std::cout << "  smallest change: " << r->relaxations[0].text << "\n";
  }
  return 0;
}
}  // namespace

void add_search_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand("search", "Find servers: resources, price ceiling, near a place");
  cmd->add_option("--near", a->near, "LAT,LON to be near, e.g. 48.8566,2.3522");
  cmd->add_option("--cpu-millis", a->cpu_millis, "CPU to reserve (milli-cores)")->capture_default_str();
  cmd->add_option("--memory", a->memory, "Memory to reserve, e.g. 64MiB or 1GiB (default 64MiB)");
  cmd->add_option("--memory-mib", a->memory_mib, "Memory to reserve in MiB (older form of --memory)");
  cmd->add_option("--count", a->count, "How many servers")->capture_default_str();
  cmd->add_option("--max-price", a->max_price, "Ceiling in credits per hour for the reservation, e.g. 0.50");
  cmd->add_option("--near-server", a->near_server,
                  "Server id: rank by estimated RTT from its advertised network coordinate");
  cmd->add_option("--within-ms", a->within_ms, "Only servers within this estimated RTT of --near-server (ms)");
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
