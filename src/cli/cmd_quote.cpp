// `xop quote`: ask XIS for a quote in its query language (POST /v1/query) and print it readably:
// the chosen servers with their price for the duration, the adverts each predicate removed, and
// the smallest relaxation when too few matched. Flags for the common cases, or --query FILE|- for
// the full JSON language (docs/xis.md "Query language").
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/client_context.h"
#include "cli/output.h"
#include "client/xis_client.h"
#include "core/units.h"
#include "proto/xis_query.h"

namespace xop {

namespace {
struct QuoteArgs {
  std::string cpu = "0.1";  // cores ("0.5") or milli-cores ("500m")
  std::string memory = "64MiB";
  std::string max_price;  // credits per hour for the reservation
  std::string max_total;  // credits for the whole duration
  std::string near;       // LAT,LON
  double within_km = 0;
  std::string near_server;  // RTT reference
  double within_ms = 0;
  std::vector<std::string> countries;
  std::string sandbox;
  std::string image;
  int64_t count = 1;
  double hours = 1;
  std::string rank;  // price, distance, rtt, reputation
  int64_t max_per_owner = 0;
  int64_t max_per_country = 0;
  double min_km = 0;
  std::string query_file;  // --query FILE or -
};

Result<int64_t> parse_cpu(const std::string& s) {
  if (s.empty()) return invalid("expected cores (0.5) or milli-cores (500m)");
  try {
    size_t n = 0;
    if (s.back() == 'm') {
      const long long m = std::stoll(s.substr(0, s.size() - 1), &n);
      if (n != s.size() - 1 || m < 0) return invalid("expected milli-cores such as 500m");
      return static_cast<int64_t>(m);
    }
    const double cores = std::stod(s, &n);
    if (n != s.size() || !std::isfinite(cores) || cores < 0 || cores > 1e6) {
      return invalid("expected cores (0.5) or milli-cores (500m)");
    }
    return static_cast<int64_t>(std::llround(cores * 1000));
  } catch (const std::exception&) {
    return invalid("expected cores (0.5) or milli-cores (500m)");
  }
}

Result<std::string> read_query_text(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) return make_error(ErrorCode::kNotFound, "cannot open " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  if (text.size() > kMaxQueryBody) return invalid(fmt::format("larger than {} bytes", kMaxQueryBody));
  return text;
}

// The query the flags describe (usage errors name the flag).
Result<Query> query_from_flags(const QuoteArgs& a) {
  Query q;
  Predicate& all = q.where;
  auto leaf = [&](Predicate p) { all.children.push_back(std::move(p)); };
  auto cpu = parse_cpu(a.cpu);
  if (!cpu) return invalid("--cpu: " + cpu.error().message);
  q.reservation.cpu_millis = *cpu;
  auto mem = parse_size(a.memory);
  if (!mem) return invalid("--memory: " + mem.error().message);
  q.reservation.memory_bytes = *mem;
  Predicate free;
  free.kind = Predicate::Kind::kFree;
  free.free = q.reservation;
  leaf(free);
  if (!a.max_price.empty()) {
    auto p = parse_credits(a.max_price);
    if (!p) return invalid("--max-price: " + p.error().message);
    Predicate c;
    c.kind = Predicate::Kind::kMaxPricePerHour;
    c.micros = p->micros();
    leaf(c);
  }
  if (!a.max_total.empty()) {
    auto p = parse_credits(a.max_total);
    if (!p) return invalid("--max-total: " + p.error().message);
    Predicate c;
    c.kind = Predicate::Kind::kMaxTotalPrice;
    c.micros = p->micros();
    leaf(c);
  }
  if (!a.near.empty()) {
    auto ll = parse_lat_lon(a.near);
    if (!ll) return invalid("--near: " + ll.error().message);
    q.near = GeoPoint{std::llround(ll->first * 1e6), std::llround(ll->second * 1e6)};
  }
  if (a.within_km != 0) {
    if (!q.near) return invalid("--within-km: needs --near");
    if (!(a.within_km > 0 && a.within_km <= kMaxQueryKm)) return invalid("--within-km: must be in (0, 20100]");
    Predicate c;
    c.kind = Predicate::Kind::kWithinKm;
    c.number = a.within_km;
    leaf(c);
  }
  if (!a.near_server.empty()) q.rtt_from = RttFrom{std::nullopt, a.near_server};
  if (a.within_ms != 0) {
    if (!q.rtt_from) return invalid("--within-ms: needs --near-server");
    if (!(a.within_ms > 0 && a.within_ms <= kMaxQueryMs)) return invalid("--within-ms: must be in (0, 60000]");
    Predicate c;
    c.kind = Predicate::Kind::kWithinMs;
    c.number = a.within_ms;
    leaf(c);
  }
  if (!a.countries.empty()) {
    Predicate c;
    c.kind = Predicate::Kind::kCountry;
    for (const auto& code : a.countries) {
      std::string up = code;
      for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (!is_country_code(up)) return invalid("--country: " + code + " is not an ISO 3166-1 alpha-2 code");
      c.texts.push_back(up);
    }
    leaf(c);
  }
  if (!a.sandbox.empty()) {
    Predicate c;
    c.kind = Predicate::Kind::kSandbox;
    c.text = a.sandbox;
    leaf(c);
  }
  if (!a.image.empty()) {
    Predicate c;
    c.kind = Predicate::Kind::kImage;
    c.text = a.image;
    leaf(c);
  }
  if (a.count < 1 || a.count > kMaxQueryCount) return invalid(fmt::format("--count: must be 1..{}", kMaxQueryCount));
  q.count = a.count;
  if (!(a.hours > 0) || a.hours * 3'600'000 > static_cast<double>(kMaxQueryDurationMs)) {
    return invalid("--hours: must be above 0 and at most 366 days");
  }
  q.duration_ms = std::max<int64_t>(1, std::llround(a.hours * 3'600'000));
  const std::string rank = !a.rank.empty() ? a.rank : q.rtt_from ? "rtt" : q.near ? "distance" : "price";
  if (rank == "price") {
    q.rank = RankBy::kPrice;
  } else if (rank == "distance") {
    if (!q.near) return invalid("--rank distance: needs --near");
    q.rank = RankBy::kDistance;
  } else if (rank == "rtt") {
    if (!q.rtt_from) return invalid("--rank rtt: needs --near-server");
    q.rank = RankBy::kRtt;
  } else {
    q.rank = RankBy::kReputation;
  }
  if (a.max_per_owner > 0) q.spread.max_per_owner = a.max_per_owner;
  if (a.max_per_country > 0) q.spread.max_per_country = a.max_per_country;
  if (a.min_km > 0) q.spread.min_km = a.min_km;
  // What the server would refuse, refused here with the same words.
  auto round_trip = query_from_json(to_json(q));
  if (!round_trip) return invalid(round_trip.error().message);
  return q;
}

void print_quote(const Quote& q, int64_t count) {
  const double hours = static_cast<double>(q.duration_ms) / 3'600'000;
  if (q.chosen.empty()) {
    std::cout << "No server matches.\n";
  } else {
    std::cout << fmt::format("{} server{} for {:g} h: {} credits in all\n", q.chosen.size(),
                             q.chosen.size() == 1 ? "" : "s", hours, format_credits(q.total_price));
    Table t({"#", "NAME", "CITY", "COUNTRY", "DISTANCE", "EST RTT", "PRICE/H", "TOTAL", "ENDPOINT"});
    int i = 0;
    for (const auto& c : q.chosen) {
      t.add({std::to_string(++i), c.advert.name, c.advert.city, c.advert.country.value_or("-"),
             c.distance_km ? fmt::format("{:.0f} km", *c.distance_km) : std::string("-"),
             c.est_rtt_us ? fmt::format("{:.1f} ms", static_cast<double>(*c.est_rtt_us) / 1000) : std::string("-"),
             format_credits(c.price_per_hour), format_credits(c.total_price), c.advert.endpoint});
    }
    std::cout << t.render();
  }
  if (!q.explained) return;
  std::cout << fmt::format("{} live server{} considered, {} matched every predicate.\n", q.live, q.live == 1 ? "" : "s",
                           q.matched);
  if (!q.removed.empty()) std::cout << "Removed by:\n";
  for (const auto& r : q.removed) {
    std::cout << fmt::format("  {:>6}  {} {}\n", r.count, r.predicate, r.text);
    for (const auto& e : r.examples) std::cout << fmt::format("          e.g. {}: {}\n", e.name, e.why);
  }
  if (q.ranked_out > 0 || q.spread_removed > 0) {
    std::cout << fmt::format("Not chosen: {} ranked below the count, {} refused by a spread constraint.\n",
                             q.ranked_out, q.spread_removed);
  }
  if (static_cast<int64_t>(q.chosen.size()) < count) {
    if (q.relaxations.empty()) {
      std::cout << "No single numeric change would find enough servers.\n";
    } else {
      std::cout << fmt::format("Smallest change: {} ({} would match).\n", q.relaxations[0].text,
                               q.relaxations[0].would_match);
      for (size_t i = 1; i < q.relaxations.size(); ++i) {
        std::cout << fmt::format("  or: {} ({} would match)\n", q.relaxations[i].text, q.relaxations[i].would_match);
      }
    }
  }
}

int run(const CliState& st, const QuoteArgs& a, bool flags_given) {
  Query q;
  if (!a.query_file.empty()) {
    if (flags_given) return usage_error("--query: give the whole query in the file, not also query flags");
    auto text = read_query_text(a.query_file);
    if (!text) return usage_error("--query: " + text.error().message);
    auto parsed = decode_query_body(*text);
    if (!parsed) return usage_error("--query: " + parsed.error().message);
    q = std::move(*parsed);
  } else {
    auto built = query_from_flags(a);
    if (!built) return usage_error(built.error().message);
    q = std::move(*built);
  }
  auto c = load_client_context(st);
  if (!c) return fail(c.error());
  if (!c->xis) return fail("no XIS URL in config.toml (or XOP_XIS_URL)");
  auto r = c->xis->quote(q);
  if (!r) return fail(r.error());
  if (st.json) {
    print_json(to_json(*r));
    return 0;
  }
  print_quote(*r, q.count);
  return 0;
}
}  // namespace

void add_quote_command(CLI::App& app, CliState& st) {
  auto a = std::make_shared<QuoteArgs>();
  auto* cmd = app.add_subcommand("quote", "Quote servers for a reservation and explain what was left out");
  std::vector<CLI::Option*> flags;
  flags.push_back(
      cmd->add_option("--cpu", a->cpu, "CPU to reserve: cores (0.5) or milli-cores (500m)")->capture_default_str());
  flags.push_back(
      cmd->add_option("--memory", a->memory, "Memory to reserve, e.g. 64MiB or 1GiB")->capture_default_str());
  flags.push_back(cmd->add_option("--max-price", a->max_price, "Ceiling in credits per hour for the reservation"));
  flags.push_back(cmd->add_option("--max-total", a->max_total, "Ceiling in credits for the whole duration"));
  flags.push_back(cmd->add_option("--near", a->near, "LAT,LON to be near (ranks by distance)"));
  flags.push_back(cmd->add_option("--within-km", a->within_km, "Only servers within this many km of --near"));
  flags.push_back(
      cmd->add_option("--near-server", a->near_server, "Server id: estimated RTT from its network coordinate"));
  flags.push_back(
      cmd->add_option("--within-ms", a->within_ms, "Only servers within this estimated RTT of --near-server"));
  flags.push_back(cmd->add_option("--country", a->countries, "ISO country code; repeat or comma-separate for a region")
                      ->delimiter(','));
  flags.push_back(cmd->add_option("--sandbox", a->sandbox, "Sandbox kind, e.g. runc"));
  flags.push_back(cmd->add_option("--image", a->image, "Only servers caching this image digest"));
  flags.push_back(cmd->add_option("--count", a->count, "How many servers")->capture_default_str());
  flags.push_back(cmd->add_option("--hours", a->hours, "Duration to price, in hours")->capture_default_str());
  flags.push_back(cmd->add_option("--rank", a->rank, "Rank by price, distance, rtt or reputation")
                      ->check(CLI::IsMember({"price", "distance", "rtt", "reputation"})));
  flags.push_back(cmd->add_option("--max-per-owner", a->max_per_owner, "At most this many servers of one owner"));
  flags.push_back(cmd->add_option("--max-per-country", a->max_per_country, "At most this many in one country"));
  flags.push_back(cmd->add_option("--min-km", a->min_km, "Chosen servers at least this many km apart"));
  cmd->add_option("--query", a->query_file, "The whole query as JSON from FILE, or - for stdin (docs/xis.md)");
  cmd->callback([a, &st, flags] {
    bool given = false;
    for (const auto* f : flags) given = given || f->count() > 0;
    st.code = run(st, *a, given);
  });
}

}  // namespace xop
