#include "sim/sim_sandbox.h"

#include <charconv>
#include <string_view>

#include "server/sandbox_bundle.h"

namespace xop {

namespace {

// The value of `name` in `env` ("KEY=value" entries; the last one wins), if any.
std::optional<std::string_view> env_value(const std::vector<std::string>& env, std::string_view name) {
  std::optional<std::string_view> v;
  for (const auto& e : env) {
    const std::string_view kv(e);
    if (kv.size() > name.size() && kv.substr(0, name.size()) == name && kv[name.size()] == '=') {
      v = kv.substr(name.size() + 1);
    }
  }
  return v;
}

Result<int64_t> env_int(const std::vector<std::string>& env, std::string_view name, int64_t fallback, int64_t max) {
  auto v = env_value(env, name);
  if (!v) return fallback;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 0 || n > max) {
    return invalid(std::string(name) + " must be an integer between 0 and " + std::to_string(max) + ", not \"" +
                   std::string(*v) + "\"");
  }
  return n;
}

constexpr int64_t kExitedByKill = 128 + 9;
constexpr int64_t kExitedByTerm = 128 + 15;

}  // namespace

SimSandbox::SimSandbox(const Clock& clock, Wait wait) : clock_(clock), wait_(std::move(wait)) {}

int64_t SimSandbox::frozen_until(const Box& b, TimeMs t) {
  return b.frozen_ms + (b.frozen_since ? std::max<TimeMs>(0, t - *b.frozen_since) : 0);
}

// Ends a frozen spell at `now`: its length counts as frozen, and a self-exit moves that much later.
void SimSandbox::thaw_box(Box& b, TimeMs now) {
  if (!b.frozen_since) return;
  const int64_t spell = std::max<TimeMs>(0, now - *b.frozen_since);
  b.frozen_ms += spell;
  if (b.exits_at) *b.exits_at += spell;
  b.frozen_since.reset();
}

void SimSandbox::settle(Box& b, TimeMs now) {
  if (!b.ended_at && !b.frozen_since && b.exits_at && now >= *b.exits_at) {
    b.ended_at = *b.exits_at;
    b.ended_code = b.exit_code;
  }
}

Status SimSandbox::start(const SandboxSpec& spec) {
  XOP_RETURN_IF_ERROR(validate_sandbox_spec(spec));
  Box b;
  XOP_ASSIGN_OR_RETURN(b.millicores, env_int(spec.env, "XOP_SIM_CPU_MILLICORES", 0, 1'000'000));
  XOP_ASSIGN_OR_RETURN(b.memory_bytes, env_int(spec.env, "XOP_SIM_MEMORY_BYTES", int64_t{1} << 20, int64_t{1} << 50));
  XOP_ASSIGN_OR_RETURN(const int64_t code, env_int(spec.env, "XOP_SIM_EXIT_CODE", 0, 255));
  XOP_ASSIGN_OR_RETURN(const int64_t ignore, env_int(spec.env, "XOP_SIM_IGNORE_TERM", 0, 1));
  const bool exits = env_value(spec.env, "XOP_SIM_EXIT_AFTER_MS").has_value();
  XOP_ASSIGN_OR_RETURN(const int64_t after, env_int(spec.env, "XOP_SIM_EXIT_AFTER_MS", 0, int64_t{1} << 40));
  b.millicores = std::min<int64_t>(b.millicores, spec.reserved.cpu_millis);
  b.exit_code = static_cast<int>(code);
  b.ignores_term = ignore == 1;
  std::lock_guard lock(mu_);
  if (boxes_.contains(spec.id)) return make_error(ErrorCode::kConflict, "sandbox " + spec.id + " exists");
  b.started_at = clock_.now_ms();
  if (exits) b.exits_at = b.started_at + after;
  if (b.memory_bytes > spec.reserved.memory_bytes) {
    b.ended_at = b.started_at;
    b.ended_code = static_cast<int>(kExitedByKill);
    b.oom_kills = 1;
  }
  boxes_.emplace(spec.id, b);
  return ok_status();
}

Result<SandboxStatus> SimSandbox::status(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
  Box& b = it->second;
  settle(b, clock_.now_ms());
  SandboxStatus s;
  s.state = b.ended_at ? SandboxState::kStopped : b.frozen_since ? SandboxState::kPaused : SandboxState::kRunning;
  s.exit_code = b.ended_code;
  s.oom_kills = b.oom_kills;
  return s;
}

Result<UsageSample> SimSandbox::sample(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
  Box& b = it->second;
  settle(b, clock_.now_ms());
  const TimeMs until = b.ended_at ? *b.ended_at : clock_.now_ms();
  UsageSample u;
  u.cpu_ns = b.millicores * std::max<TimeMs>(0, until - b.started_at - frozen_until(b, until)) * 1000;
  u.memory_bytes = b.ended_at ? 0 : b.memory_bytes;
  return u;
}

Status SimSandbox::stop(const std::string& id, std::chrono::milliseconds grace) {
  bool ignores = false;
  {
    std::lock_guard lock(mu_);
    auto it = boxes_.find(id);
    if (it == boxes_.end()) return ok_status();
    Box& b = it->second;
    settle(b, clock_.now_ms());
    if (b.ended_at) return ok_status();
    thaw_box(b, clock_.now_ms());  // a frozen workload is thawed first, as the real drivers do
    if (!b.ignores_term) {
      b.ended_at = clock_.now_ms();
      b.ended_code = static_cast<int>(kExitedByTerm);
      return ok_status();
    }
    ignores = true;
  }
  if (ignores && wait_) wait_(grace);  // the grace passes (unlocked: others may sample meanwhile)
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return ok_status();
  Box& b = it->second;
  settle(b, clock_.now_ms());
  if (!b.ended_at) {
    b.ended_at = clock_.now_ms();
    b.ended_code = static_cast<int>(kExitedByKill);
  }
  return ok_status();
}

Status SimSandbox::freeze(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
  Box& b = it->second;
  settle(b, clock_.now_ms());
  if (b.ended_at) return make_error(ErrorCode::kConflict, "sandbox " + id + " has stopped");
  if (!b.frozen_since) b.frozen_since = clock_.now_ms();
  return ok_status();
}

Status SimSandbox::thaw(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = boxes_.find(id);
  if (it == boxes_.end()) return make_error(ErrorCode::kNotFound, "no sandbox " + id);
  Box& b = it->second;
  settle(b, clock_.now_ms());
  if (b.ended_at) return make_error(ErrorCode::kConflict, "sandbox " + id + " has stopped");
  thaw_box(b, clock_.now_ms());
  return ok_status();
}

Status SimSandbox::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  boxes_.erase(id);
  return ok_status();
}

size_t SimSandbox::count() const {
  std::lock_guard lock(mu_);
  return boxes_.size();
}

}  // namespace xop
