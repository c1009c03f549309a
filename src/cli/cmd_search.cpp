// `xop search`: ask XIS for servers (resources, price ceiling, near a point), ranked.
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
  Table t({"#", "NAME", "CITY", "DISTANCE", "PRICE/H", "FREE CPU", "FREE MEM", "ENDPOINT"});
  int i = 0;
  for (const auto& cand : res->candidates) {
    t.add({std::to_string(++i), cand.advert.name, cand.advert.city, fmt::format("{:.0f} km", cand.distance_km),
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
  cmd->callback([a, &st] { st.code = run(st, *a); });
}

}  // namespace xop
