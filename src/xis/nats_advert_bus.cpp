#include "xis/nats_advert_bus.h"

#include <fmt/format.h>
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "core/log_backoff.h"

namespace xop {
namespace {

TimeMs steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string nats_error(const std::string& what, natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  return fmt::format("{}: {}{}{}", what, natsStatus_GetText(s), last && *last ? ": " : "", last ? last : "");
}

// The comma-separated URLs of `list`, trimmed of spaces.
std::vector<std::string> split_urls(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string u = list.substr(start, end - start);
    const size_t b = u.find_first_not_of(' ');
    const size_t e = u.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? std::string() : u.substr(b, e - b + 1));
    start = end + 1;
  }
  return out;
}

tl::unexpected<Error> unavailable(std::string message) {
  return make_error(ErrorCode::kUnavailable, std::move(message));
}

// 1..max_len of A-Z a-z 0-9 _ -: what a bucket name may hold, and a subset of what a key may
// (server ids, account ids, always are).
bool token_ok(std::string_view t, size_t max_len) {
  if (t.empty() || t.size() > max_len) return false;
  for (char c : t) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Everything of NATS's one connection holds; destroyed in reverse order. Only the bus thread
// touches it.
struct Connection {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  kvStore* kv = nullptr;
  kvWatcher* watcher = nullptr;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (watcher) {
      kvWatcher_Stop(watcher);
      kvWatcher_Destroy(watcher);
    }
    if (kv) kvStore_Destroy(kv);
    if (js) jsCtx_Destroy(js);
    if (nc) natsConnection_Destroy(nc);
    if (opts) natsOptions_Destroy(opts);
  }
  [[nodiscard]] bool up() const { return nc && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED; }
};

}  // namespace

Status validate_nats_bus_options(const NatsBusOptions& o) {
  if (o.url.empty()) return invalid("nats_url is empty");
  for (const std::string& t : split_urls(o.url)) {
    if (t.rfind("nats://", 0) != 0 || t.size() <= 7 || t.find_first_of(" \t\r\n") != std::string::npos) {
      return invalid("nats_url: '" + t + "' is not a nats://host:port URL");
    }
  }
  if (!token_ok(o.bucket, 64)) return invalid("nats_bucket: '" + o.bucket + "' (1-64 of A-Z a-z 0-9 _ -)");
  if (o.max_age_ms < 1'000) return invalid("the advert bus needs max_age_ms >= 1000");
  if (o.max_queue < 1) return invalid("the advert bus needs max_queue >= 1");
  if (o.poll_ms < 1 || o.retry_min_ms < 1 || o.retry_max_ms < o.retry_min_ms) {
    return invalid("the advert bus needs poll_ms, retry_min_ms >= 1 and retry_max_ms >= retry_min_ms");
  }
  return ok_status();
}

struct NatsAdvertBus::Impl {
  NatsBusOptions opts;
  AdvertReceiver on_advert;

  mutable std::mutex mu;  // queue, own, stats, stop
  std::condition_variable cv;
  std::map<std::string, std::string> queue;  // server -> newest body not yet published
  // Bodies this instance put, by server, so the watcher does not hand them back (their hash).
  std::unordered_map<std::string, size_t> own;
  AdvertBusStats st;
  bool stop = false;
  std::thread thread;

  LogBackoff outage{1'000, 300'000};

  // Connects, binds the bucket (creating it when absent) and starts the watcher.
  Result<std::unique_ptr<Connection>> connect() const {
    auto c = std::make_unique<Connection>();
    natsStatus s = natsOptions_Create(&c->opts);
    const std::vector<std::string> urls = split_urls(opts.url);
    std::vector<const char*> ptrs;
    for (const std::string& u : urls) ptrs.push_back(u.c_str());
    if (s == NATS_OK) s = natsOptions_SetServers(c->opts, ptrs.data(), static_cast<int>(ptrs.size()));
    // Reconnection is this thread's job (it re-reads the bucket after it), not the library's.
    if (s == NATS_OK) s = natsOptions_SetAllowReconnect(c->opts, false);
    if (s == NATS_OK) s = natsOptions_SetTimeout(c->opts, 2'000);
    if (s == NATS_OK && !opts.token.empty()) s = natsOptions_SetToken(c->opts, opts.token.c_str());
    if (s != NATS_OK) return unavailable(nats_error("NATS options", s));
    s = natsConnection_Connect(&c->nc, c->opts);
    if (s != NATS_OK) return unavailable(nats_error("cannot connect to NATS at " + opts.url, s));
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 2'000;
    s = natsConnection_JetStream(&c->js, c->nc, &jo);
    if (s != NATS_OK) return unavailable(nats_error("NATS JetStream", s));
    s = js_KeyValue(&c->kv, c->js, opts.bucket.c_str());
    if (s == NATS_NOT_FOUND) {
      kvConfig kc;
      kvConfig_Init(&kc);
      kc.Bucket = opts.bucket.c_str();
      kc.Description = "XOP XIS adverts: the latest signed advert of every server";
      kc.History = 1;
      kc.TTL = opts.max_age_ms * 1'000'000;  // nanoseconds (the stream's MaxAge)
      kc.MaxValueSize = static_cast<int32_t>(256 * 1024);
      s = js_CreateKeyValue(&c->kv, c->js, &kc);
      if (s != NATS_OK) {
        const std::string why = nats_error("cannot create the NATS key-value bucket " + opts.bucket, s);
        // Another instance may have created it meanwhile.
        s = js_KeyValue(&c->kv, c->js, opts.bucket.c_str());
        if (s != NATS_OK) return unavailable(why + " (is JetStream enabled on the NATS server?)");
      }
    }
    if (s != NATS_OK) {
      return unavailable(nats_error("NATS key-value bucket " + opts.bucket + " (is JetStream enabled?)", s));
    }
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    wo.IgnoreDeletes = true;
    s = kvStore_WatchAll(&c->watcher, c->kv, &wo);
    if (s != NATS_OK) return unavailable(nats_error("NATS bucket watch", s));
    return c;
  }

  // Publishes what is queued; false when the connection failed (what was taken stays queued
  // unless a newer body of the same server arrived meanwhile).
  bool publish_queued(Connection& c) {
    std::map<std::string, std::string> batch;
    {
      std::lock_guard lock(mu);
      batch.swap(queue);
    }
    for (auto it = batch.begin(); it != batch.end(); ++it) {
      uint64_t rev = 0;
      const natsStatus s =
          kvStore_Put(&rev, c.kv, it->first.c_str(), it->second.data(), static_cast<int>(it->second.size()));
      std::lock_guard lock(mu);
      if (s == NATS_OK) {
        ++st.published;
        own[it->first] = std::hash<std::string>{}(it->second);
        continue;
      }
      ++st.publish_failed;
      XOP_LOGN_DEBUG("xis", "advert bus: put of {} failed: {}", it->first, nats_error("put", s));
      // Requeue the rest, each unless superseded meanwhile.
      for (auto r = it; r != batch.end(); ++r) queue.try_emplace(r->first, std::move(r->second));
      return false;
    }
    return true;
  }

  // Hands every pending bucket change to on_advert; false when the connection failed.
  bool drain_watcher(Connection& c, int64_t wait_ms) {
    for (int64_t timeout = wait_ms;; timeout = 0) {
      kvEntry* e = nullptr;
      const natsStatus s = kvWatcher_Next(&e, c.watcher, timeout > 0 ? timeout : 1);
      if (s == NATS_TIMEOUT) return c.up();
      if (s != NATS_OK) return false;
      if (e == nullptr) continue;  // the marker after the bucket's initial values
      const std::string key = kvEntry_Key(e) ? kvEntry_Key(e) : "";
      const std::string_view body(static_cast<const char*>(kvEntry_Value(e)),
                                  static_cast<size_t>(std::max(0, kvEntry_ValueLen(e))));
      const bool put = kvEntry_Operation(e) == kvOp_Put;
      bool mine = false;
      if (put) {
        std::lock_guard lock(mu);
        auto o = own.find(key);
        if (o != own.end() && o->second == std::hash<std::string_view>{}(body)) {
          own.erase(o);
          mine = true;
        } else {
          ++st.received;
        }
      }
      if (put && !mine && on_advert) on_advert(body);
      kvEntry_Destroy(e);
    }
  }

  void set_connected(bool up) {
    std::lock_guard lock(mu);
    st.connected = up;
  }

  // Waits `ms` unless stopped; true when stopped.
  bool wait_or_stop(int64_t ms) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop; });
  }

  bool stopping() {
    std::lock_guard lock(mu);
    return stop;
  }

  void run() {
    int64_t backoff = opts.retry_min_ms;
    while (!stopping()) {
      auto c = connect();
      if (!c) {
        set_connected(false);
        if (outage.failure(steady_ms())) {
          XOP_LOGN_WARN("xis", "advert bus: {} (this XIS serves what it holds; retrying, {} failures)",
                        c.error().message, outage.failures());
        }
        if (wait_or_stop(backoff)) return;
        backoff = std::min(backoff * 2, opts.retry_max_ms);
        continue;
      }
      backoff = opts.retry_min_ms;
      set_connected(true);
      if (outage.success()) {
        XOP_LOGN_INFO("xis", "advert bus: connected again to {}", opts.url);
      } else {
        XOP_LOGN_INFO("xis", "advert bus: sharing adverts through NATS {} bucket {}", opts.url, opts.bucket);
      }
      {
        // Whatever this instance put before is read back as others' now: nothing is lost by it.
        std::lock_guard lock(mu);
        own.clear();
      }
      while (!stopping()) {
        if (!publish_queued(**c)) break;
        bool idle = false;
        {
          std::lock_guard lock(mu);
          idle = queue.empty();
        }
        if (!drain_watcher(**c, idle ? opts.poll_ms : 1)) break;
      }
      set_connected(false);
      if (!stopping() && outage.failure(steady_ms())) {
        XOP_LOGN_WARN("xis", "advert bus: lost the connection to NATS {}; reconnecting", opts.url);
      }
    }
  }
};

Result<std::unique_ptr<NatsAdvertBus>> NatsAdvertBus::start(NatsBusOptions opts, AdvertReceiver on_advert) {
  XOP_RETURN_IF_ERROR(validate_nats_bus_options(opts));
  auto impl = std::make_unique<Impl>();
  impl->opts = std::move(opts);
  impl->on_advert = std::move(on_advert);
  Impl* p = impl.get();
  impl->thread = std::thread([p] { p->run(); });
  return std::unique_ptr<NatsAdvertBus>(new NatsAdvertBus(std::move(impl)));
}

NatsAdvertBus::NatsAdvertBus(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NatsAdvertBus::~NatsAdvertBus() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void NatsAdvertBus::publish(const std::string& server, std::string body) {
  if (!token_ok(server, 128)) return;  // never an account id: nothing to share
  std::lock_guard lock(impl_->mu);
  auto it = impl_->queue.find(server);
  if (it != impl_->queue.end()) {
    it->second = std::move(body);
    ++impl_->st.dropped;
    return;
  }
  if (impl_->queue.size() >= impl_->opts.max_queue) {
    ++impl_->st.dropped;  // the bus is down or slow: this server's next refresh will try again
    return;
  }
  impl_->queue.emplace(server, std::move(body));
}

AdvertBusStats NatsAdvertBus::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->st;
}

}  // namespace xop
