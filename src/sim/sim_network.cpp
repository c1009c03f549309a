#include "sim/sim_network.h"

#include <atomic>
#include <map>
#include <mutex>

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
  mutable std::mutex mu;
  std::map<std::string, Host> hosts;
  std::atomic<uint64_t> requests{0};

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
    state->requests.fetch_add(1);
    return t->request(method, target, body, headers);
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

}  // namespace xop
