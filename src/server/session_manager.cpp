#include "server/session_manager.h"

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/ignore_error.h"
#include "core/log.h"
#include "image/image_user.h"
#include "image/rootfs_file.h"
#include "proto/charge.h"
#include "proto/usage_bounds.h"
#include "server/session_disk.h"

namespace xop {

namespace fs = std::filesystem;

struct SessionManager::Live {
  SessionRow row;
  SessionSpec spec;
  Meter meter;
  Rates rates;  // from the price sheet bound in this session's PO: what the corp charges by
  Money claimed;
  std::string dir;
  bool busy = false;  // a start or stop is in progress outside the lock
  bool sandbox_started = false;
  bool sandbox_removed = false;
  int64_t disk_written = 0;       // the session disk's write counter, as last read (never goes back)
  bool files_removed = false;     // its directory is gone (log retention passed)
  std::optional<SessionNet> net;  // its share of the session network, until released
  // The stored row is behind `row` (a write failed): write_records() retries it.
  bool row_dirty = false;
  bool low_funds = false;  // the corp's last word on its purchase order
  // The final usage record could not be written: write_records() retries it (the usage stays in
  // the meter, so nothing is lost while the store is failing).
  bool final_pending = false;
  // When sample_all first saw the workload stopped without an exit code yet.
  std::optional<std::chrono::steady_clock::time_point> seen_stopped;
  [[nodiscard]] bool live() const {
    return row.state == "starting" || row.state == "running" || row.state == "frozen" || row.state == "stopping";
  }
};

namespace {
// How long the end of a session waits for the exit code, which the shim writes once the
// workload's last output is in the log (at most a pipe's worth at the log rate).
constexpr auto kExitCodeWait = std::chrono::seconds(5);

Json sample_json(const UsageSample& s) {
  return Json{
      {"cpu_ns", s.cpu_ns}, {"memory_bytes", s.memory_bytes}, {"disk_bytes", s.disk_bytes}, {"net_bytes", s.net_bytes}};
}
// The rates of the price sheet a stored PO binds (the corp recomputes every amount with them).
std::optional<Rates> po_rates(const Json& po_json) {
  auto doc = SignedDoc::from_json(po_json, kPurchaseOrderType);
  if (!doc) return std::nullopt;
  auto po = purchase_order_from_json(doc->body);
  if (!po) return std::nullopt;
  auto sheet = verify_price_sheet(po->price_sheet);
  if (!sheet) return std::nullopt;
  return sheet->rates;
}
// "exited", "signaled" or "oom-killed" (see SessionRow::exit_reason), empty when unknown.
std::string exit_reason_of(const SandboxStatus& st) {
  if (!st.exit_code) return st.oom_kills > 0 ? "oom-killed" : "";
  if (*st.exit_code == 128 + 9 && st.oom_kills > 0) return "oom-killed";
  return *st.exit_code > 128 ? "signaled" : "exited";
}
std::string describe_exit(const SandboxStatus& st, int64_t memory_bytes) {
  if (exit_reason_of(st) == "oom-killed") {
    return "workload was killed by the kernel's OOM killer at its memory limit of " + std::to_string(memory_bytes) +
           " bytes" + (st.exit_code ? " (status " + std::to_string(*st.exit_code) + ")" : "");
  }
  std::string r = st.exit_code ? "workload exited with status " + std::to_string(*st.exit_code) : "workload exited";
  if (st.oom_kills > 0) r += " after the OOM killer killed " + std::to_string(st.oom_kills) + " of its processes";
  return r;
}
std::string disk_dir(const std::string& dir) { return dir + "/disk"; }
// In a stored row's totals: the usage of a final record not written yet (finish_locked).
constexpr const char* kPendingFinalKey = "pending_final";
UsageSample sample_from_json(const Json& j) {
  UsageSample s;
  if (!j.is_object()) return s;
  auto get = [&](const char* k) { return j.contains(k) && j[k].is_number_integer() ? j[k].get<int64_t>() : 0; };
  s.cpu_ns = get("cpu_ns");
  s.memory_bytes = get("memory_bytes");
  s.disk_bytes = get("disk_bytes");
  s.net_bytes = get("net_bytes");
  return s;
}
// Whether `env` (KEY=value entries) sets `key`.
bool has_env(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') return true;
  }
  return false;
}

}  // namespace

SessionManager::SessionManager(SessionManagerOptions opts, const Clock& clock, Sandbox& sandbox, ImageStore& images,
                               StateStore& store, PublicKey corp_key, SignedDoc price_sheet)
    : opts_(std::move(opts)),
      clock_(clock),
      sandbox_(sandbox),
      images_(images),
      store_(store),
      corp_key_(std::move(corp_key)),
      price_sheet_(std::move(price_sheet)) {
  auto sheet = verify_price_sheet(price_sheet_);
  if (sheet) rates_ = sheet->rates;
}

SessionManager::~SessionManager() = default;

SessionView SessionManager::view_locked(const Live& s) const {
  SessionView v;
  v.row = s.row;
  v.metered = s.meter.total();
  v.memory_bytes = s.meter.last_sample().memory_bytes;
  v.claimed = s.claimed;
  v.low_funds = s.low_funds;
  if (s.net) {
    v.address = s.net->address;
    for (const auto& p : s.net->ports) {
      v.endpoints.push_back(SessionEndpoint{p, opts_.public_host + ":" + std::to_string(p.host_port)});
    }
  }
  return v;
}

Resources SessionManager::held(const SessionSpec& spec) const {
  Resources r = spec.resources;
  // What the session's loop disk will be: what the host gives up for it.
  if (opts_.loop_disks) {
    r.disk_bytes = std::max(r.disk_bytes == 0 ? opts_.default_disk_bytes : r.disk_bytes, kMinSessionDiskBytes);
  }
  return r;
}

Resources SessionManager::reserved() const {
  std::lock_guard lock(mu_);
  Resources sum;
  for (const auto& [id, s] : sessions_) {
    if (s->live()) sum = sum.plus(held(s->spec)).value_or(sum);
  }
  return sum;
}

Result<UsageSample> SessionManager::sample_locked(Live& s, bool final) {
  XOP_ASSIGN_OR_RETURN(UsageSample u, sandbox_.sample(s.row.id));
  // Bytes each way through the session's veth (its only way out).
  if (s.net && opts_.network != nullptr) {
    if (auto b = opts_.network->bytes(*s.net)) u.net_bytes = std::max(u.net_bytes, *b);
  }
  if (opts_.loop_disks) {
    // Writes to the session disk, as ext4 counts them on its device (final: after flushing). Every
    // write of the session lands there; the cgroup's own write bytes on the host disk are the loop
    // device writing back its image, the same bytes again, so only the cgroup's reads are added.
    if (auto w = session_disk_written_bytes(s.dir, final)) s.disk_written = std::max(s.disk_written, *w);
    u.disk_bytes = u.disk_read_bytes + s.disk_written;
  }
  return u;
}

void SessionManager::remove_files_locked(Live& s, bool logs) {
  std::error_code ec;
  if (!fs::exists(s.dir, ec)) {
    s.files_removed = true;
    return;
  }
  if (!s.sandbox_removed && fs::exists(s.dir + "/bundle", ec)) {
    auto rm = sandbox_.remove(s.row.id);
    s.sandbox_removed = rm.has_value();
    if (!rm) XOP_LOGN_WARN("server", "session {}: cannot remove sandbox: {}", s.row.id, rm.error().message);
  }
  // The rootfs is under disk/; sessions started before session disks existed have it at the top.
  for (const std::string& base : {disk_dir(s.dir), s.dir}) {
    auto rel = images_.release_rootfs(base);
    if (!rel)
      XOP_LOGN_WARN("server", "session {}: cannot unmount its root file system: {}", s.row.id, rel.error().message);
  }
  auto disk = remove_session_disk(s.dir);
  if (!disk) XOP_LOGN_WARN("server", "session {}: cannot remove its disk: {}", s.row.id, disk.error().message);
  // Never delete through a mount that is still there (it would reach into what is mounted).
  if (const auto left = mounts_under(s.dir); !left.empty()) {
    XOP_LOGN_WARN("server", "session {}: {} still mounted; its files stay until the next start", s.row.id,
                  left.front());
    return;
  }
  if (logs) {
    fs::remove_all(s.dir, ec);
    s.files_removed = !ec;
  } else {
    fs::remove_all(disk_dir(s.dir), ec);
    fs::remove_all(s.dir + "/bundle", ec);
  }
  if (ec) XOP_LOGN_WARN("server", "session {}: cannot remove its files: {}", s.row.id, ec.message());
}

void SessionManager::release_network_locked(Live& s) {
  if (!s.net) return;
  if (opts_.network == nullptr) {
    XOP_LOGN_WARN("server", "session {}: its network namespace {} stays (the session network is off)", s.row.id,
                  s.net->netns);
    return;
  }
  opts_.network->release(*s.net);
  s.net.reset();
  s.row.network = Json::object();
}

size_t SessionManager::live_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, s] : sessions_) n += s->live() ? 1 : 0;
  return n;
}

Resources SessionManager::free() const {
  auto f = opts_.capacity.minus(reserved());
  return f.value_or(Resources{});
}

Status SessionManager::recover() {
  XOP_ASSIGN_OR_RETURN(auto rows, store_.sessions());
  std::lock_guard lock(mu_);
  for (auto& row : rows) {
    auto spec = session_spec_from_json(row.spec);
    if (!spec) continue;
    auto s = std::make_unique<Live>();
    s->row = row;
    s->spec = *spec;
    s->dir = opts_.sessions_dir + "/" + row.id;
    // A session keeps the rates of its PO even when this server's price sheet changed since.
    if (auto r = po_rates(row.purchase_order)) {
      s->rates = *r;
    } else {
      XOP_LOGN_WARN("server", "session {}: stored purchase order unreadable; charging at current rates", row.id);
      s->rates = rates_;
    }
    XOP_ASSIGN_OR_RETURN(auto recs, store_.records(row.id));
    for (const auto& r : recs) s->claimed = s->claimed.plus(r.amount).value_or(s->claimed);
    if (row.network.is_object() && !row.network.empty()) {
      auto n = session_net_from_json(row.network);
      if (n) {
        s->net = std::move(*n);
      } else {
        XOP_LOGN_WARN("server", "session {}: stored network unreadable: {}", row.id, n.error().message);
      }
    }
    auto& live = *s;
    sessions_[row.id] = std::move(s);
    if (!live.live()) {
      // A teardown interrupted by the crash: its network goes now.
      if (live.net) {
        release_network_locked(live);
        save_row_locked(live);
      }
      // An ended session's last record is its final one, unless that was still pending (in
      // memory) when the server went down: it is written now, from what the row kept.
      if (recs.empty() || !recs.back().final) write_pending_final_locked(live);
      // Ended before the restart: what a crash in the middle of its teardown left goes now.
      const bool expired = clock_.now_ms() - row.stopped_at >= opts_.log_retention_ms;
      remove_files_locked(live, expired);
      continue;
    }
    const TimeMs since = row.last_period_end != 0 ? row.last_period_end : row.started_at;
    live.meter.start(since, sample_from_json(row.totals.value("sample", Json::object())));
    auto st = sandbox_.status(row.id);
    if (st && st->state != SandboxState::kStopped) {
      live.sandbox_started = true;
      if (live.net && opts_.network != nullptr) {
        if (auto a = opts_.network->adopt(*live.net); !a) {
          XOP_LOGN_WARN("server", "session {}: cannot re-adopt its network {}: {}", row.id, live.net->address,
                        a.error().message);
        }
      }
      if (row.state == "frozen") {
        // Still frozen for credit control: it stays so (and is stopped at frozen_until) unless a
        // usage answer shows its PO extended. The freeze is renewed in case it was lost.
        if (auto f = sandbox_.freeze(row.id); !f) {
          XOP_LOGN_WARN("server", "session {}: cannot re-freeze: {}", row.id, f.error().message);
        }
        XOP_LOGN_INFO("server", "re-adopted frozen session {} (stopped at {} unless its PO is extended)", row.id,
                      row.frozen_until);
        continue;
      }
      live.row.state = "running";
      XOP_LOGN_INFO("server", "re-adopted session {}", row.id);
      continue;
    }
    live.sandbox_started = st.has_value();
    finish_locked(live, "stopped", "workload ended while the server was down");
  }
  // Directories of sessions the store does not know (e.g. an older state.db was restored).
  std::error_code ec;
  std::vector<std::string> unknown;
  for (const auto& e : fs::directory_iterator(opts_.sessions_dir, ec)) {
    const std::string id = e.path().filename().string();
    if (!sessions_.contains(id) && e.is_directory(ec)) unknown.push_back(id);
  }
  for (const auto& id : unknown) {
    Live orphan;
    orphan.row.id = id;
    orphan.dir = opts_.sessions_dir + "/" + id;
    XOP_LOGN_WARN("server", "removing the files of unknown session {}", id);
    remove_files_locked(orphan, /*logs=*/true);
  }
  return {};
}

Result<SessionView> SessionManager::create(const std::string& user, const CreateSessionRequest& req) {
  const auto create_began = std::chrono::steady_clock::now();
  const TimeMs now = clock_.now_ms();
  XOP_ASSIGN_OR_RETURN(auto po, verify_purchase_order(req.purchase_order, corp_key_));
  if (po.server != opts_.server_id)
    return make_error(ErrorCode::kPermissionDenied, "purchase order is for another server");
  if (po.user != user) return make_error(ErrorCode::kPermissionDenied, "purchase order belongs to another user");
  if (now >= po.expires_at) return make_error(ErrorCode::kGone, "purchase order has expired");
  if (po.price_sheet.body != price_sheet_.body) {
    return make_error(ErrorCode::kConflict,
                      "purchase order binds a price sheet this server no longer offers; get a new quote");
  }
  const auto& spec = req.spec;
  if (spec.pids > opts_.max_pids_per_session) {
    return invalid("spec.pids: at most " + std::to_string(opts_.max_pids_per_session) + " on this server");
  }
  if (!spec.ports.empty() && opts_.network == nullptr) {
    return invalid("spec.ports: this server publishes no ports (its sessions have loopback only)");
  }
  XOP_ASSIGN_OR_RETURN(auto image, images_.image(spec.image));

  auto s = std::make_unique<Live>();
  Live* live = s.get();
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, other] : sessions_) {
      if (other->row.po_id == po.po_id) return make_error(ErrorCode::kConflict, "purchase order already used");
    }
    Resources used;
    int64_t pids_used = 0;
    for (const auto& [id, other] : sessions_) {
      if (!other->live()) continue;
      used = used.plus(held(other->spec)).value_or(used);
      pids_used += other->spec.pids;
    }
    if (spec.pids > opts_.capacity_pids - pids_used) {
      return make_error(ErrorCode::kResourceExhausted,
                        "not enough free processes (free: " + std::to_string(opts_.capacity_pids - pids_used) +
                            " pids; the spec asks for " + std::to_string(spec.pids) + ")");
    }
    auto after = used.plus(held(spec));
    if (!after || !opts_.capacity.covers(*after)) {
      auto fr = opts_.capacity.minus(used).value_or(Resources{});
      return make_error(ErrorCode::kResourceExhausted,
                        "not enough free capacity (free: " + std::to_string(fr.cpu_millis) + " cpu_millis, " +
                            std::to_string(fr.memory_bytes) + " memory_bytes, " + std::to_string(fr.disk_bytes) +
                            " disk_bytes, " + std::to_string(fr.net_bps) + " net_bps)");
    }
    s->row.id = ids_or_random(opts_.ids).next("s");
    s->row.user = user;
    s->row.po_id = po.po_id;
    s->row.spec = to_json(spec);
    s->row.purchase_order = req.purchase_order.to_json();
    s->row.state = "starting";
    s->row.created_at = now;
    s->spec = spec;
    s->rates = rates_;  // the PO binds exactly our current price sheet (checked above)
    s->dir = opts_.sessions_dir + "/" + s->row.id;
    s->busy = true;
    if (opts_.network != nullptr) {
      XOP_ASSIGN_OR_RETURN(s->net, opts_.network->reserve(s->row.id, spec.ports, spec.resources.net_bps));
      s->row.network = to_json(*s->net);
    }
    if (auto ins = store_.insert_session(s->row); !ins) {
      if (s->net) opts_.network->release(*s->net);
      return tl::make_unexpected(ins.error());
    }
    sessions_[s->row.id] = std::move(s);
  }

  // Slow part outside the lock: root filesystem and sandbox start.
  std::error_code ec;
  fs::create_directories(live->dir, ec);
  SandboxSpec sb;
  sb.id = live->row.id;
  sb.bundle_dir = live->dir + "/bundle";
  sb.log_path = live->dir + "/output.log";
  sb.log_max_bytes = opts_.log_max_bytes;
  sb.log_rate_bytes_per_s = opts_.log_rate_bytes_per_s;
  sb.reserved = spec.resources;
  sb.pids_limit = spec.pids;
  if (!spec.command.empty()) {
    sb.args = spec.command;
  } else {
    sb.args = image.entrypoint;
    sb.args.insert(sb.args.end(), image.cmd.begin(), image.cmd.end());
  }
  sb.env = image.env;
  for (const auto& [k, v] : spec.env) sb.env.push_back(k + "=" + v);
  sb.cwd = image.working_dir.empty() ? "/" : image.working_dir;
  std::vector<TimedPhase> phases;
  auto last = create_began;
  auto mark = [&](const char* name) {
    const auto t = std::chrono::steady_clock::now();
    phases.push_back(TimedPhase{name, std::chrono::duration_cast<std::chrono::nanoseconds>(t - last).count()});
    last = t;
  };
  mark("admission");  // PO and image checks, capacity, the row inserted
  sb.phases = &phases;
  Status started = [&]() -> Status {
    if (ec) return make_error(ErrorCode::kInternal, "cannot create session directory: " + ec.message());
    if (sb.args.empty()) return invalid("the image has no entrypoint or cmd and the spec gives no command");
    if (opts_.loop_disks) {
      XOP_RETURN_IF_ERROR(create_session_disk(live->dir, held(spec).disk_bytes));
      mark("disk");
    }
    if (live->net) {
      XOP_RETURN_IF_ERROR(opts_.network->setup(*live->net));
      sb.netns_path = SessionNetwork::netns_path(*live->net);
      mark("network");
    }
    XOP_ASSIGN_OR_RETURN(sb.rootfs, images_.prepare_rootfs(spec.image, disk_dir(live->dir)));
    mark("rootfs");
    std::optional<std::string> passwd;
    if (!image.user.empty()) {
      XOP_ASSIGN_OR_RETURN(passwd, read_file_in_root(sb.rootfs, "/etc/passwd", kMaxAccountFileBytes));
      XOP_ASSIGN_OR_RETURN(auto group, read_file_in_root(sb.rootfs, "/etc/group", kMaxAccountFileBytes));
      XOP_ASSIGN_OR_RETURN(ImageUser u, resolve_image_user(image.user, passwd, group));
      sb.uid = u.uid;
      sb.gid = u.gid;
      sb.additional_gids = std::move(u.additional_gids);
    } else if (auto p = read_file_in_root(sb.rootfs, "/etc/passwd", kMaxAccountFileBytes); p) {
      passwd = std::move(*p);  // root needs no entry: an unreadable passwd only leaves HOME at "/"
    }
    // HOME as runc and docker set it, unless the image's Env or the spec's env gives one.
    if (!has_env(sb.env, "HOME")) sb.env.push_back("HOME=" + resolve_image_home(image.user, passwd));
    mark("user");
    auto st = sandbox_.start(sb);
    last = std::chrono::steady_clock::now();
    return st;
  }();

  std::lock_guard lock(mu_);
  live->busy = false;
  const TimeMs t = clock_.now_ms();
  if (!started) {
    XOP_LOGN_WARN("server", "session {} failed to start: {}", live->row.id, started.error().message);
    live->row.started_at = t;
    live->meter.start(t, UsageSample{});
    finish_locked(*live, "failed", started.error().message);
    return tl::make_unexpected(started.error());
  }
  live->sandbox_started = true;
  live->row.state = "running";
  live->row.started_at = t;
  live->row.last_period_end = t;
  live->meter.start(t, UsageSample{});
  save_row_locked(*live);
  XOP_LOGN_INFO("server", "session {} running for {} ({} cpu_millis, {} memory_bytes)", live->row.id, user,
                spec.resources.cpu_millis, spec.resources.memory_bytes);
  mark("record");
  SessionView v = view_locked(*live);
  v.start_phases = std::move(phases);
  return v;
}

Status SessionManager::write_record_locked(Live& s, TimeMs now, bool final) {
  UsageRecord r;
  r.session = s.row.id;
  r.po_id = s.row.po_id;
  r.seq = s.row.last_seq + 1;
  r.period_start = s.row.last_period_end != 0 ? s.row.last_period_end : s.row.started_at;
  r.period_end = std::max(r.period_start, final ? now : s.meter.last_time());
  r.reserved = s.spec.resources;
  const Usage taken = s.meter.take();
  r.used = taken;
  r.final = final;
  // Never claim more than the corp accepts for the reservation (proto/usage_bounds.h): above it,
  // the corp refuses the whole batch, and every later one behind it. CPU can pass it by a few ms at
  // a session's start (the runtime sets the container up inside the session's cgroup before the
  // quota is written); that excess is not claimed: the owner forgoes it, the user never pays it.
  const int64_t period_ms = r.period_end - r.period_start;
  const int64_t cpu_cap = max_claimable_cpu_ns(r.reserved.cpu_millis, period_ms);
  const int64_t mem_cap = max_claimable_memory_byte_seconds(r.reserved.memory_bytes, period_ms);
  if (r.used.cpu_ns > cpu_cap || r.used.memory_byte_seconds > mem_cap) {
    XOP_LOGN_INFO("server",
                  "session {} seq {}: claims at most the reservation's bound ({} of {} ns CPU, {} of {} "
                  "memory byte-seconds metered in {} ms)",
                  r.session, r.seq, std::min(r.used.cpu_ns, cpu_cap), r.used.cpu_ns,
                  std::min(r.used.memory_byte_seconds, mem_cap), r.used.memory_byte_seconds, period_ms);
    r.used.cpu_ns = std::min(r.used.cpu_ns, cpu_cap);
    r.used.memory_byte_seconds = std::min(r.used.memory_byte_seconds, mem_cap);
  }
  auto charge = compute_charge(s.rates, r.reserved, r.used, r.period_end - r.period_start);
  Status appended = charge ? Status{} : Status(tl::make_unexpected(charge.error()));
  if (appended) {
    r.amount = charge->total;
    appended = store_.append_record(r);
  }
  if (!appended) {
    // Nothing was recorded: the usage goes back into the meter for the next record.
    s.meter.untake(taken);
    return appended;
  }
  s.row.last_seq = r.seq;
  s.row.last_period_end = r.period_end;
  s.claimed = s.claimed.plus(r.amount).value_or(s.claimed);
  s.row.totals = Json{{"sample", sample_json(s.meter.last_sample())}, {"metered", to_json(s.meter.total())}};
  // The record is in the WAL: a failure to save the row now retries the row, never the record (a
  // second final record would make the corp refuse every later batch of this server).
  save_row_locked(s);
  return ok_status();
}

void SessionManager::write_pending_final_locked(Live& s) {
  Usage pending;
  if (s.row.totals.is_object() && s.row.totals.contains(kPendingFinalKey)) {
    auto u = usage_from_json(s.row.totals[kPendingFinalKey], kPendingFinalKey);
    if (u) {
      pending = *u;
    } else {
      XOP_LOGN_WARN("server", "session {}: unreadable pending usage ({}); its final record carries none", s.row.id,
                    u.error().message);
    }
  }
  s.meter.start(s.row.stopped_at, UsageSample{});
  s.meter.untake(pending);
  auto w = write_record_locked(s, s.row.stopped_at, /*final=*/true);
  s.final_pending = !w;
  if (!w) {
    XOP_LOGN_ERROR("server", "session {}: cannot write final usage record (will retry): {}", s.row.id,
                   w.error().message);
  } else {
    XOP_LOGN_INFO("server", "session {}: wrote the final usage record that was pending at the restart", s.row.id);
  }
}

void SessionManager::save_row_locked(Live& s) {
  auto w = store_.update_session(s.row);
  s.row_dirty = !w;
  if (!w) XOP_LOGN_ERROR("server", "session {}: cannot save its state (will retry): {}", s.row.id, w.error().message);
}

const char* exit_reason_name(StopCause c) {
  switch (c) {
    case StopCause::kUser:
      return "stopped";
    case StopCause::kPurchaseOrder:
      return "po-exhausted";
    case StopCause::kEvicted:
      return "evicted";
  }
  return "stopped";
}

void SessionManager::finish_locked(Live& s, const std::string& state, const std::string& reason,
                                   std::optional<StopCause> cause) {
  const TimeMs now = clock_.now_ms();
  if (s.sandbox_started) {
    auto sample = sample_locked(s, /*final=*/true);
    if (sample) s.meter.add(now, *sample);
    auto st = sandbox_.status(s.row.id);
    if (st && st->exit_code) s.row.exit_code = st->exit_code;
    if (st) s.row.exit_reason = exit_reason_of(*st);
    if (cause && s.row.exit_reason != "oom-killed") s.row.exit_reason = exit_reason_name(*cause);
  }
  s.row.state = state;
  s.row.reason = reason;
  s.row.stopped_at = now;
  auto w = write_record_locked(s, now, /*final=*/true);
  s.final_pending = !w;
  if (!w) {
    // The row keeps the usage the pending record will carry, so that a restart before the retry
    // loses none of it (recover() writes the record then).
    const Usage pending = s.meter.take();
    s.meter.untake(pending);
    if (!s.row.totals.is_object()) s.row.totals = Json::object();
    s.row.totals[kPendingFinalKey] = to_json(pending);
    XOP_LOGN_ERROR("server", "session {}: cannot write final usage record (will retry): {}", s.row.id,
                   w.error().message);
  }
  if (s.sandbox_started) {
    auto rm = sandbox_.remove(s.row.id);
    s.sandbox_removed = rm.has_value();
    if (!rm) XOP_LOGN_WARN("server", "session {}: cannot remove sandbox: {}", s.row.id, rm.error().message);
  }
  // The log stays for `xop logs` (until log_retention_ms); everything else goes now.
  remove_files_locked(s, /*logs=*/opts_.log_retention_ms == 0);
  release_network_locked(s);
  save_row_locked(s);
  XOP_LOGN_INFO("server", "session {} {}: {}", s.row.id, state, reason);
}

SessionManager::Live* SessionManager::find_owned(const std::string& user, const std::string& id, Error* err) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || (!user.empty() && it->second->row.user != user)) {
    // Another user's session is reported exactly like a missing one.
    *err = Error{ErrorCode::kNotFound, "no such session: " + id};
    return nullptr;
  }
  return it->second.get();
}

Result<SessionView> SessionManager::stop(const std::string& user, const std::string& id, const std::string& reason,
                                         StopCause cause) {
  {
    std::lock_guard lock(mu_);
    Error err;
    Live* s = find_owned(user, id, &err);
    if (s == nullptr) return tl::make_unexpected(err);
    if (!s->live()) return view_locked(*s);
    if (s->busy) return make_error(ErrorCode::kConflict, "session is starting or stopping; retry shortly");
    s->busy = true;
    s->row.state = "stopping";
    save_row_locked(*s);
  }
  auto st = sandbox_.stop(id, std::chrono::milliseconds(opts_.stop_grace_ms));
  if (!st) XOP_LOGN_WARN("server", "session {}: stop: {}", id, st.error().message);
  // The exit code comes once the last output was drained into the log (outside the lock).
  const auto until = std::chrono::steady_clock::now() + kExitCodeWait;
  while (st) {
    auto status = sandbox_.status(id);
    if (!status || status->exit_code || std::chrono::steady_clock::now() >= until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the shim's exit file, bounded by `until`
  }
  std::lock_guard lock(mu_);
  Error err;
  Live* s = find_owned("", id, &err);
  if (s == nullptr) return tl::make_unexpected(err);
  s->busy = false;
  finish_locked(*s, "stopped", reason, cause);
  return view_locked(*s);
}

Result<SessionView> SessionManager::get(const std::string& user, const std::string& id) {
  std::lock_guard lock(mu_);
  Error err;
  Live* s = find_owned(user, id, &err);
  if (s == nullptr) return tl::make_unexpected(err);
  return view_locked(*s);
}

Result<std::vector<SessionView>> SessionManager::list(const std::string& user) {
  std::lock_guard lock(mu_);
  std::vector<SessionView> out;
  for (const auto& [id, s] : sessions_) {
    if (user.empty() || s->row.user == user) out.push_back(view_locked(*s));
  }
  return out;
}

Result<std::string> SessionManager::logs(const std::string& user, const std::string& id, size_t max_bytes) {
  std::string path;
  {
    std::lock_guard lock(mu_);
    Error err;
    Live* s = find_owned(user, id, &err);
    if (s == nullptr) return tl::make_unexpected(err);
    if (s->files_removed) {
      return make_error(ErrorCode::kGone, "the output of session " + id + " was deleted " +
                                              std::to_string(opts_.log_retention_ms / 1000) +
                                              " s after the session ended");
    }
    path = s->dir + "/output.log";
  }
  // The tail of the rotated predecessor, then of the current file.
  auto tail = [](const std::string& p, size_t max) {
    std::ifstream in(p, std::ios::binary | std::ios::ate);
    if (!in) return std::string();
    const auto size = static_cast<size_t>(in.tellg());
    const size_t start = size > max ? size - max : 0;
    in.seekg(static_cast<std::streamoff>(start));
    std::string out(size - start, '\0');
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    out.resize(static_cast<size_t>(in.gcount()));
    return out;
  };
  std::string out = tail(path, max_bytes);
  if (out.size() < max_bytes) out = tail(path + ".1", max_bytes - out.size()) + out;
  return out;
}

void SessionManager::sample_all() {
  // What to read, under the lock; the reads (kernel counters, the driver's status) outside it, so
  // that a create or a stop never waits for a sampling round; the results under the lock again,
  // for the sessions that are still running or frozen and not being started or stopped.
  struct Reading {
    std::string id;
    std::string dir;
    std::optional<SessionNet> net;
    Result<UsageSample> sample = UsageSample{};
    Result<SandboxStatus> status = SandboxStatus{};
    std::optional<int64_t> disk_written;
  };
  std::vector<Reading> readings;
  TimeMs now = 0;
  {
    std::lock_guard lock(mu_);
    now = clock_.now_ms();
    for (auto& [id, s] : sessions_) {
      if (!s->live() && !s->busy && !s->files_removed && now - s->row.stopped_at >= opts_.log_retention_ms) {
        remove_files_locked(*s, /*logs=*/true);
        continue;
      }
      if ((s->row.state != "running" && s->row.state != "frozen") || s->busy) continue;
      Reading r;
      r.id = id;
      r.dir = s->dir;
      r.net = s->net;
      readings.push_back(std::move(r));
    }
  }
  for (auto& r : readings) {
    r.sample = sandbox_.sample(r.id);
    if (r.sample && r.net && opts_.network != nullptr) {
      if (auto b = opts_.network->bytes(*r.net)) r.sample->net_bytes = std::max(r.sample->net_bytes, *b);
    }
    if (r.sample && opts_.loop_disks) {
      if (auto w = session_disk_written_bytes(r.dir, /*final=*/false)) r.disk_written = *w;
    }
    r.status = sandbox_.status(r.id);
  }
  std::lock_guard lock(mu_);
  for (auto& r : readings) {
    auto it = sessions_.find(r.id);
    if (it == sessions_.end()) continue;
    Live* s = it->second.get();
    if ((s->row.state != "running" && s->row.state != "frozen") || s->busy) continue;  // changed meanwhile
    if (r.sample) {
      UsageSample u = *r.sample;
      if (opts_.loop_disks) {
        if (r.disk_written) s->disk_written = std::max(s->disk_written, *r.disk_written);
        u.disk_bytes = u.disk_read_bytes + s->disk_written;
      }
      s->meter.add(now, u);
    }
    const auto& st = r.status;
    if (st && st->state == SandboxState::kStopped) {
      if (!st->exit_code) {
        const auto t = std::chrono::steady_clock::now();
        if (!s->seen_stopped) s->seen_stopped = t;
        if (t - *s->seen_stopped < kExitCodeWait) continue;  // its output is still being drained
      }
      finish_locked(*s, "stopped", describe_exit(*st, s->spec.resources.memory_bytes));
    }
  }
}

void SessionManager::write_records() {
  std::lock_guard lock(mu_);
  const TimeMs now = clock_.now_ms();
  for (auto& [id, s] : sessions_) {
    if (s->busy) continue;
    if (s->final_pending) {
      auto w = write_record_locked(*s, s->row.stopped_at, /*final=*/true);
      s->final_pending = !w;
      if (!w)
        XOP_LOGN_ERROR("server", "session {}: cannot write final usage record (will retry): {}", id, w.error().message);
      continue;
    }
    // A frozen session still holds its reservation: its records go on (the corp charges what the
    // PO still holds and keeps the rest as arrears for an extension).
    if (s->row.state != "running" && s->row.state != "frozen") {
      if (s->row_dirty) save_row_locked(*s);
      continue;
    }
    auto w = write_record_locked(*s, now, /*final=*/false);
    if (!w) XOP_LOGN_ERROR("server", "session {}: cannot write usage record: {}", id, w.error().message);
  }
}

size_t SessionManager::on_credit(const std::vector<PoBalanceView>& pos) {
  std::vector<std::pair<std::string, std::string>> to_stop;  // id, reason
  {
    std::lock_guard lock(mu_);
    const TimeMs now = clock_.now_ms();
    std::map<std::string, const PoBalanceView*> by_po;
    for (const auto& p : pos) by_po[p.po_id] = &p;
    for (auto& [id, s] : sessions_) {
      if (!s->live() || s->busy) continue;
      auto it = by_po.find(s->row.po_id);
      if (it == by_po.end()) continue;
      const PoBalanceView& po = *it->second;
      s->low_funds = po.low_funds;
      if (po.closed || po.closing) {
        to_stop.emplace_back(id, kPoClosedReason);
      } else if (po.exhausted) {
        if (s->row.state != "running") continue;  // already frozen (its deadline stands), or stopping
        if (opts_.freeze_grace_ms == 0) {
          to_stop.emplace_back(id, kFundsExhaustedReason);
          continue;
        }
        if (auto f = sandbox_.freeze(id); !f) {
          // It may have exited meanwhile (sample_all finishes it); otherwise the next answer retries.
          XOP_LOGN_WARN("server", "session {}: purchase order ran dry, but it cannot be frozen: {}", id,
                        f.error().message);
          continue;
        }
        s->row.state = "frozen";
        s->row.frozen_until = now + opts_.freeze_grace_ms;
        save_row_locked(*s);
        XOP_LOGN_INFO("server", "session {}: purchase order {} ran dry, frozen until {} unless extended", id,
                      s->row.po_id, s->row.frozen_until);
      } else if (s->row.state == "frozen") {
        if (auto t = sandbox_.thaw(id); !t) {
          XOP_LOGN_WARN("server", "session {}: purchase order extended, but it cannot be thawed: {}", id,
                        t.error().message);
          continue;
        }
        s->row.state = "running";
        s->row.frozen_until = 0;
        save_row_locked(*s);
        XOP_LOGN_INFO("server", "session {}: purchase order {} extended, running again", id, s->row.po_id);
      }
    }
  }
  for (const auto& [id, reason] : to_stop) {
    XOP_LOGN_INFO("server", "session {}: stopping ({})", id, reason);
    ignore_error(stop("", id, reason, StopCause::kPurchaseOrder),
                 "stopping a session its PO no longer pays for; the next answer retries");
  }
  return to_stop.size();
}

size_t SessionManager::stop_expired_frozen() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    const TimeMs now = clock_.now_ms();
    for (const auto& [id, s] : sessions_) {
      if (s->row.state == "frozen" && !s->busy && now >= s->row.frozen_until) ids.push_back(id);
    }
  }
  for (const auto& id : ids) {
    XOP_LOGN_INFO("server", "session {}: frozen past its grace without an extension, stopping", id);
    ignore_error(stop("", id, kFundsExhaustedReason, StopCause::kPurchaseOrder),
                 "stopping a frozen session after its grace; the next tick retries");
  }
  return ids.size();
}

void SessionManager::stop_all(const std::string& reason) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : sessions_) {
      if (s->live()) ids.push_back(id);
    }
  }
  for (const auto& id : ids)
    ignore_error(stop("", id, reason, StopCause::kEvicted),
                 "stopping every session; one failure must not stop the rest");
}

}  // namespace xop
