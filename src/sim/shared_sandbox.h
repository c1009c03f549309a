// A Sandbox that forwards to one shared by several owners in turn: the in-process platform gives
// each incarnation of a server (sim/platform.h, restart_server) a SharedSandbox over the same
// SimSandbox, so the workloads outlive the server process as containers outlive a real one.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "server/sandbox.h"

namespace xop {

class SharedSandbox final : public Sandbox {
 public:
  explicit SharedSandbox(std::shared_ptr<Sandbox> inner) : inner_(std::move(inner)) {}

  [[nodiscard]] std::string kind() const override { return inner_->kind(); }
  Status start(const SandboxSpec& spec) override { return inner_->start(spec); }
  Result<SandboxStatus> status(const std::string& id) override { return inner_->status(id); }
  Result<UsageSample> sample(const std::string& id) override { return inner_->sample(id); }
  Status stop(const std::string& id, std::chrono::milliseconds grace) override { return inner_->stop(id, grace); }
  Status remove(const std::string& id) override { return inner_->remove(id); }
  Status freeze(const std::string& id) override { return inner_->freeze(id); }
  Status thaw(const std::string& id) override { return inner_->thaw(id); }

 private:
  std::shared_ptr<Sandbox> inner_;
};

}  // namespace xop
