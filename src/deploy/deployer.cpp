#include "deploy/deployer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "client/corp_client.h"
#include "client/server_client.h"
#include "client/xis_client.h"
#include "core/file_util.h"
#include "core/ignore_error.h"
#include "core/units.h"
#include "image/oci_layout.h"
#include "proto/search.h"
#include "proto/xis_query.h"

namespace xop {

namespace {
// A server accepts blobs up to 512 MiB (kMaxBlobBytes in server/image_store.h).
constexpr size_t kMaxBlobUploadBytes = 512u << 20;

// What discovery found for a manifest: the chosen servers in rank order, "name: reason" lines
// for the others, and the explanation an empty answer gives.
struct Found {
  std::vector<Candidate> candidates;
  std::vector<std::string> rejected;
  int64_t considered = 0;  // live servers XIS looked at
  std::string why;         // lines "\n  ..." saying why servers were not chosen
};

// Asks XIS through the query language (POST /v1/query: the reservation required free and
// priced, the ceiling, nearest first when the manifest names a point). A count above what one
// query may ask (kMaxQueryCount) uses POST /v1/search, which lists every server.
Result<Found> discover(XisClient& xis, const DeployManifest& m) {
  Found f;
  if (m.count > kMaxQueryCount) {
    SearchQuery q;
    q.min = m.resources;
    q.max_price_per_hour = m.max_price_per_hour;
    q.near = m.near;
    q.count = m.count;
    XOP_ASSIGN_OR_RETURN(auto r, xis.search(q));
    f.candidates = std::move(r.candidates);
    for (const auto& x : r.rejected) {
      f.rejected.push_back(x.name + ": " + x.reason);
      f.why += "\n  " + x.name + ": " + x.reason;
    }
    f.considered = static_cast<int64_t>(f.candidates.size() + r.rejected.size());
    return f;
  }
  Query q;
  q.reservation = m.resources;
  Predicate free;
  free.kind = Predicate::Kind::kFree;
  free.free = m.resources;
  q.where.children.push_back(free);
  if (m.max_price_per_hour) {
    Predicate c;
    c.kind = Predicate::Kind::kMaxPricePerHour;
    c.micros = m.max_price_per_hour->micros();
    q.where.children.push_back(c);
  }
  if (m.near) {
    q.near = m.near;
    q.rank = RankBy::kDistance;
  }
  q.count = m.count;
  XOP_ASSIGN_OR_RETURN(auto quote, xis.quote(q));
  for (auto& c : quote.chosen) {
    f.candidates.push_back(
        Candidate{std::move(c.advert), std::move(c.advert_doc), c.distance_km.value_or(0), c.price_per_hour});
  }
  f.considered = quote.live;
  for (const auto& r : quote.removed) {
    f.why += "\n  " + std::to_string(r.count) + " removed by " + r.text + ", e.g.:";
    for (const auto& e : r.examples) {
      f.rejected.push_back(e.name + ": " + e.why);
      f.why += "\n    " + e.name + ": " + e.why;
    }
  }
  if (!quote.relaxations.empty()) f.why += "\n  smallest change: " + quote.relaxations[0].text;
  return f;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Deployer::Deployer(KeyPair key, std::string corp_url, std::string xis_url, std::string scratch_dir, const Clock& clock)
    : key_(std::move(key)),
      corp_url_(std::move(corp_url)),
      xis_url_(std::move(xis_url)),
      scratch_dir_(std::move(scratch_dir)),
      clock_(clock) {}

Result<DeployResult> Deployer::deploy(const DeployManifest& m, const Progress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  std::mutex progress_mu;
  auto say = [&](const std::string& line) {
    std::lock_guard lock(progress_mu);
    if (progress) progress(line);
  };

  XOP_ASSIGN_OR_RETURN(auto layout, read_oci_layout(m.image, scratch_dir_));
  int64_t total = 0;
  for (const auto& b : layout.blobs) total += b.size;
  say("image " + layout.manifest_digest.substr(0, 19) + "… (" + std::to_string(layout.blobs.size()) + " blobs, " +
      std::to_string(total / 1024) + " KiB)");

  XOP_ASSIGN_OR_RETURN(auto xis, XisClient::connect(xis_url_, std::nullopt, clock_, connector_));
  XOP_ASSIGN_OR_RETURN(auto found, discover(xis, m));
  DeployResult result;
  result.rejected = found.rejected;
  if (found.candidates.empty()) {
    return make_error(ErrorCode::kResourceExhausted, found.considered == 0
                                                         ? "no server matches the manifest (XIS knows no server)"
                                                         : "no server matches the manifest; XIS considered " +
                                                               std::to_string(found.considered) + ":" + found.why);
  }
  if (static_cast<int64_t>(found.candidates.size()) < m.count) {
    say("only " + std::to_string(found.candidates.size()) + " of " + std::to_string(m.count) +
        " servers match; deploying to those");
  }
  for (const auto& c : found.candidates) {
    say("chose " + c.advert.name + " (" + c.advert.city + ", " + std::to_string(static_cast<int64_t>(c.distance_km)) +
        " km, " + format_credits(c.price_per_hour) + "/h)");
  }

  SessionSpec spec;
  spec.name = m.name;
  spec.image = layout.manifest_digest;
  spec.command = m.command;
  spec.env = m.env;
  spec.resources = m.resources;
  spec.pids = m.pids;
  spec.ports = m.ports;

  result.outcomes.resize(found.candidates.size());
  auto cancelled = [&] { return cancel_ != nullptr && cancel_->cancelled(); };
  std::atomic<bool> paused_once{false};
  // Each placement, by its index in the ranking; workers take the next index until none is left.
  auto place = [&](size_t i) {
    const auto& c = found.candidates[i];
    auto& out = result.outcomes[i];
    const auto ts = std::chrono::steady_clock::now();
    out.server = c.advert.server;
    out.name = c.advert.name;
    out.city = c.advert.city;
    out.endpoint = c.advert.endpoint;
    out.distance_km = c.distance_km;
    out.price_per_hour = c.price_per_hour;
    const std::string tag = "[" + c.advert.name + "] ";
    auto fail = [&](const std::string& what, const Error& e) {
      out.error = what + ": " + e.message;
      say(tag + "FAILED " + out.error);
    };
    auto interrupted = [&](const std::string& what) {
      out.interrupted = true;
      out.error = "interrupted " + what;
      say(tag + out.error);
    };
    if (cancelled()) return interrupted("before buying");
    auto server = ServerClient::connect(c.advert.endpoint, key_, clock_, connector_);
    auto corp = CorpClient::connect(corp_url_, key_, clock_, connector_);
    if (!server || !corp) return fail("connect", server ? corp.error() : server.error());
    // Sign for the server the (signed) advert names, not whatever the endpoint claims to be.
    server->api().set_audience(c.advert.server);
    // 1. blobs the server lacks.
    size_t uploaded = 0;
    for (const auto& b : layout.blobs) {
      auto head = server->has_blob(b.digest);
      if (head && *head) continue;
      auto data = read_file_capped(b.path, kMaxBlobUploadBytes);
      if (!data) return fail("read blob", data.error());
      auto put = server->put_blob(b.digest, *data);
      if (!put) return fail("upload", put.error());
      ++uploaded;
    }
    say(tag + (uploaded == 0 ? "image already cached" : "uploaded " + std::to_string(uploaded) + " blobs"));
    if (cancelled()) return interrupted("before buying");
    // 2. purchase order.
    auto po_doc = corp->create_po(CreatePoRequest{c.advert.server, c.advert.price_sheet, m.budget.micros(), {}});
    if (!po_doc) return fail("purchase order", po_doc.error());
    out.po_id = po_doc->body.value("po_id", "");
    say(tag + "purchase order " + out.po_id.substr(0, 10) + "… holds " + format_credits(m.budget) + " credits");
    if (pause_after_first_po_ && cancel_ != nullptr && !paused_once.exchange(true)) cancel_->wait();
    if (cancelled()) {
      auto closed = corp->close_po(out.po_id);
      return interrupted(closed ? "before the session; purchase order closed"
                                : "before the session; closing the purchase order failed: " + closed.error().message);
    }
    // 3. session.
    CreateSessionRequest req{spec, *po_doc};
    auto created = server->create_session(req);
    if (!created) {
      ignore_error(corp->close_po(out.po_id),
                   "closing the unused PO; the create-session error is what the caller gets");
      return fail("create session", created.error());
    }
    out.session = created->id;
    out.ok = true;
    out.seconds = seconds_since(ts);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", out.seconds);
    say(tag + "session " + out.session + " running (" + buf + " s)");
    if (on_session_) {
      std::lock_guard lock(progress_mu);
      on_session_(out);
    }
  };
  const size_t n = found.candidates.size();
  const size_t threads = parallelism_ == 0 ? n : std::min(parallelism_, n);
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) place(i);
    });
  }
  for (auto& w : workers) w.join();
  result.interrupted = cancelled();
  result.seconds = seconds_since(t0);
  return result;
}

}  // namespace xop
