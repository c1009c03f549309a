// `xop search`: ask XIS for servers (resources, price ceiling, near a point or within an estimated
// RTT of a server), ranked.
#include <fmt/format.h>

#include <cmath>
#include <iostream>

#include "cli/client_context.h"
#include "cli/output.h"
#include "client/xis_client.h"
#include "core/units.h"
#include "proto/search.h"

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

int run(const CliState& st, const SearchArgs& a) {
  SearchQuery q;
  q.min.cpu_millis = a.cpu_millis;
  q.min.memory_bytes = a.memory_mib << 20;
  if (!a.memory.empty()) {
    auto m = parse_size(a.memory);
    if (!m) return usage_error("--memory: " + m.error().message);
    q.min.memory_bytes = *m;
  }
  q.count = a.count;
  if (!a.near.empty()) {
    auto ll = parse_lat_lon(a.near);
    if (!ll) return usage_error("--near: " + ll.error().message);
    q.near = GeoPoint{std::llround(ll->first * 1e6), std::llround(ll->second * 1e6)};
  }
  if (!a.max_price.empty()) {
    auto p = parse_credits(a.max_price);
    if (!p) return usage_error("--max-price: " + p.error().message);
    q.max_price_per_hour = *p;
  }
  if (!a.near_server.empty()) q.rtt_from_server = a.near_server;
  if (a.within_ms != 0) {
    if (a.near_server.empty()) return usage_error("--within-ms: needs --near-server");
    if (a.within_ms < 1 || a.within_ms > kMaxWithinMs) {
      return usage_error(fmt::format("--within-ms: must be 1..{}", kMaxWithinMs));
    }
    q.within_ms = a.within_ms;
  }
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  if (!c->xis) return fail("no XIS URL in config.toml (or XOP_XIS_URL)");
  auto r = c->xis->search(q).map([](const SearchResult& v) { return to_json(v); });
  if (!r) return fail(r.error());
  if (st.json) {
    print_json(*r);
    return 0;
  }
  auto res = search_result_from_json(*r);
  if (!res) return fail(res.error());
  Table t({"#", "NAME", "CITY", "DISTANCE", "EST RTT", "PRICE/H", "FREE CPU", "FREE MEM", "ENDPOINT"});
  int i = 0;
  for (const auto& cand : res->candidates) {
    const std::string rtt =
        cand.est_rtt_us ? fmt::format("{:.1f} ms", static_cast<double>(*cand.est_rtt_us) / 1000) : std::string("-");
    t.add({std::to_string(++i), cand.advert.name, cand.advert.city, fmt::format("{:.0f} km", cand.distance_km), rtt,
           format_credits(cand.price_per_hour), std::to_string(cand.advert.free.cpu_millis) + "m",
           human_bytes(cand.advert.free.memory_bytes), cand.advert.endpoint});
  }
  std::cout << t.render();
  for (const auto& rej : res->rejected) std::cout << "  not chosen: " << rej.name << ": " << rej.reason << "\n";
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
