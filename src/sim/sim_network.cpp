#include "sim/sim_network.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <vector>

#include "core/ignore_error.h"
#include "net/router_transport.h"

namespace xop {

namespace {

std::string key_of(const Endpoint& ep) { return ep.host + ":" + std::to_string(ep.port); }

}  // namespace

struct SimNetwork::State {
  struct Host {
    std::shared_ptr<RouterTransport> transport;
    bool up = true;
  };
  struct HeldRequest {
    std::string method, target, body;
    std::map<std::string, std::string> headers;
  };
  struct Link {
    LinkFaults faults;
    std::mt19937_64 rng;
    std::vector<HeldRequest> held;
  };
  // What to do with one request to `key`: drawn under the lock, in request order.
  struct Fate {
    bool drop_request = false, drop_answer = false, duplicate = false, hold = false;
  };
  mutable std::mutex mu;
  std::map<std::string, Host> hosts;
  std::map<std::string, Link> links;  // endpoints with faults
  FaultCounts counts;
  std::atomic<uint64_t> requests{0};

  Fate draw(const std::string& key) {
    std::lock_guard lock(mu);
    Fate f;
    auto it = links.find(key);
    if (it == links.end()) return f;
    auto& l = it->second;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    f.drop_request = u(l.rng) < l.faults.drop_request;
    f.drop_answer = u(l.rng) < l.faults.drop_answer;
    f.duplicate = u(l.rng) < l.faults.duplicate;
    f.hold = u(l.rng) < l.faults.deliver_late;
    if (f.drop_request) {
      ++counts.dropped_requests;
      f = Fate{true, false, false, false};
    } else {
      counts.dropped_answers += f.drop_answer ? 1 : 0;
      counts.duplicated += f.duplicate ? 1 : 0;
      counts.delayed += f.hold ? 1 : 0;
    }
    return f;
  }
  void hold(const std::string& key, HeldRequest r) {
    std::lock_guard lock(mu);
    links[key].held.push_back(std::move(r));
  }

  std::shared_ptr<RouterTransport> find(const std::string& key) const {
    std::lock_guard lock(mu);
    auto it = hosts.find(key);
    if (it == hosts.end() || !it->second.up) return nullptr;
    return it->second.transport;
  }
};

namespace {

// One endpoint as seen by a client: resolved per request.
class SimTransport final : public Transport {
 public:
  SimTransport(std::weak_ptr<SimNetwork::State> state, std::string key)
      : state_(std::move(state)), key_(std::move(key)) {}

  Result<HttpResponse> request(const std::string& method, const std::string& target, const std::string& body,
                               const std::map<std::string, std::string>& headers) override {
    auto state = state_.lock();
    auto t = state ? state->find(key_) : nullptr;
    if (!t) return make_error(ErrorCode::kUnavailable, "cannot connect to " + key_ + ": no route to host (simulated)");
    const auto fate = state->draw(key_);
    if (fate.drop_request) {
      return make_error(ErrorCode::kUnavailable, "request to " + key_ + " lost (simulated)");
    }
    state->requests.fetch_add(1);
    if (fate.hold) state->hold(key_, SimNetwork::State::HeldRequest{method, target, body, headers});
    auto answer = t->request(method, target, body, headers);
    if (fate.duplicate) {
      state->requests.fetch_add(1);
      answer = t->request(method, target, body, headers);
    }
    if (fate.drop_answer) return make_error(ErrorCode::kUnavailable, "answer from " + key_ + " lost (simulated)");
    return answer;
  }

 private:
  std::weak_ptr<SimNetwork::State> state_;
  std::string key_;
};

}  // namespace

SimNetwork::SimNetwork() : state_(std::make_shared<State>()) {}

Status SimNetwork::bind(const std::string& url, std::shared_ptr<const Router> router, std::string spool_dir) {
  XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(url));
  if (!router) return invalid("cannot bind " + url + " to no router");
  std::lock_guard lock(state_->mu);
  state_->hosts[key_of(ep)] =
      State::Host{std::make_shared<RouterTransport>(std::move(router), "sim-client", std::move(spool_dir)), true};
  return ok_status();
}

void SimNetwork::unbind(const std::string& url) {
  auto ep = parse_endpoint(url);
  if (!ep) return;
  std::lock_guard lock(state_->mu);
  state_->hosts.erase(key_of(*ep));
}

void SimNetwork::set_reachable(const std::string& url, bool up) {
  auto ep = parse_endpoint(url);
  if (!ep) return;
  std::lock_guard lock(state_->mu);
  if (auto it = state_->hosts.find(key_of(*ep)); it != state_->hosts.end()) it->second.up = up;
}

Connector SimNetwork::connector() const {
  std::weak_ptr<State> weak = state_;
  return [weak](const Endpoint& ep) -> std::shared_ptr<Transport> {
    return std::make_shared<SimTransport>(weak, key_of(ep));
  };
}

uint64_t SimNetwork::requests() const { return state_->requests.load(); }

Status SimNetwork::set_faults(const std::string& url, LinkFaults faults, uint64_t seed) {
  XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(url));
  for (double p : {faults.drop_request, faults.drop_answer, faults.duplicate, faults.deliver_late}) {
    if (!(p >= 0.0 && p <= 1.0)) return invalid("link fault probabilities must be in [0, 1]");
  }
  std::lock_guard lock(state_->mu);
  auto& l = state_->links[key_of(ep)];
  l.faults = faults;
  l.rng.seed(seed);
  return ok_status();
}

size_t SimNetwork::deliver_late(const std::string& url) {
  auto ep = parse_endpoint(url);
  if (!ep) return 0;
  const std::string key = key_of(*ep);
  std::vector<State::HeldRequest> held;
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->links.find(key);
    if (it == state_->links.end()) return 0;
    held.swap(it->second.held);
    std::shuffle(held.begin(), held.end(), it->second.rng);
  }
  auto t = state_->find(key);
  if (!t) return 0;  // the host is down: the copies are lost
  for (const auto& r : held) {
    state_->requests.fetch_add(1);
    ignore_error(t->request(r.method, r.target, r.body, r.headers),
                 "a late copy's answer goes to a client that gave up on it");
  }
  return held.size();
}

FaultCounts SimNetwork::fault_counts() const {
  std::lock_guard lock(state_->mu);
  return state_->counts;
}

}  // namespace xop
