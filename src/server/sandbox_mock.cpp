#include "server/sandbox_mock.h"

#include <thread>

#include "server/sandbox_bundle.h"

namespace xop {

Status MockSandbox::start(const SandboxSpec& spec) {
  std::lock_guard lock(mu_);
  if (fail_next_) {
    Error e = *fail_next_;
    fail_next_.reset();
    return tl::make_unexpected(std::move(e));
  }
  XOP_RETURN_IF_ERROR(validate_sandbox_spec(spec));
  if (boxes_.contains(spec.id)) return make_error(ErrorCode::kConflict, "sandbox " + spec.id + " exists");
  Box b;
  b.spec = spec;
  b.status.state = SandboxState::kRunning;
  boxes_.emplace(spec.id, std::move(b));
  return ok_status();
}

Result<SandboxStatus> MockSandbox::status(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
  return it->second.status;
}

Result<UsageSample> MockSandbox::sample(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
  return it->second.usage;
}

Status MockSandbox::stop(const std::string& id, std::chrono::milliseconds grace) {
  std::unique_lock lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return ok_status();
  ++it->second.stops;
  if (it->second.status.state == SandboxState::kStopped) return ok_status();
  int code = 128 + 15;  // SIGTERM
  if (it->second.ignores_term) {
    // The grace a real driver waits for the workload before SIGKILL: simulated time would let a
    // caller that waits less than the grace go unnoticed.
    lock.unlock();
    std::this_thread::sleep_for(grace);
    lock.lock();
    it = boxes_.find(id);
    if (it == boxes_.end() || it->second.status.state == SandboxState::kStopped) return ok_status();
    code = 128 + 9;  // SIGKILL
  }
  it->second.status.state = SandboxState::kStopped;
  it->second.status.exit_code = code;
  return ok_status();
}

Status MockSandbox::freeze(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
  if (it->second.status.state == SandboxState::kStopped) {
    return make_error(ErrorCode::kConflict, "sandbox " + id + " has stopped");
  }
  it->second.status.state = SandboxState::kPaused;
  return ok_status();
}

Status MockSandbox::thaw(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
  if (it->second.status.state == SandboxState::kStopped) {
    return make_error(ErrorCode::kConflict, "sandbox " + id + " has stopped");
  }
  it->second.status.state = SandboxState::kRunning;
  return ok_status();
}

Status MockSandbox::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  boxes_.erase(id);
  return ok_status();
}

void MockSandbox::set_usage(const std::string& id, const UsageSample& u) {
  std::lock_guard lock(mu_);
  if (auto it = boxes_.find(id); it != boxes_.end()) it->second.usage = u;
}

void MockSandbox::exit(const std::string& id, int code) {
  std::lock_guard lock(mu_);
  if (auto it = boxes_.find(id); it != boxes_.end()) {
    it->second.status.state = SandboxState::kStopped;
    it->second.status.exit_code = code;
  }
}

void MockSandbox::oom_kill(const std::string& id) {
  std::lock_guard lock(mu_);
  if (auto it = boxes_.find(id); it != boxes_.end()) {
    it->second.status.state = SandboxState::kStopped;
    it->second.status.exit_code = 128 + 9;
    ++it->second.status.oom_kills;
  }
}

void MockSandbox::ignore_term(const std::string& id) {
  std::lock_guard lock(mu_);
  if (auto it = boxes_.find(id); it != boxes_.end()) it->second.ignores_term = true;
}

void MockSandbox::fail_next_start(Error e) {
  std::lock_guard lock(mu_);
  fail_next_ = std::move(e);
}

std::optional<SandboxSpec> MockSandbox::spec(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return std::nullopt;
  return it->second.spec;
}

size_t MockSandbox::count() const {
  std::lock_guard lock(mu_);
  return boxes_.size();
}

int MockSandbox::stops(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  return it == boxes_.end() ? 0 : it->second.stops;
}

std::unique_ptr<Sandbox> make_mock_sandbox() { return std::make_unique<MockSandbox>(); }

}  // namespace xop
