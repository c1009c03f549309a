// An in-memory Sandbox for unit tests of the code around drivers (session manager, metering):
// start records the spec, tests set counters and make workloads exit. It keeps the driver
// contract that tests/contract/sandbox_contract_test.cpp states for every driver: bad specs are
// refused (validate_sandbox_spec), stop() is TERM then KILL after the grace (a workload marked
// ignore_term() is "killed", exit 137, once the grace passed), an OOM kill is reported as exit
// 137 with oom_kills, counters stay readable until remove(), freeze() reports kPaused until
// thaw() (the counters the test sets are its own business). Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "server/sandbox.h"

namespace xop {

class MockSandbox final : public Sandbox {
 public:
  [[nodiscard]] std::string kind() const override { return "mock"; }
  Status start(const SandboxSpec& spec) override;
  Result<SandboxStatus> status(const std::string& id) override;
  Result<UsageSample> sample(const std::string& id) override;
  Status stop(const std::string& id, std::chrono::milliseconds grace) override;
  Status remove(const std::string& id) override;
  Status freeze(const std::string& id) override;
  Status thaw(const std::string& id) override;

  // Test controls. Unknown ids are ignored.
  void set_usage(const std::string& id, const UsageSample& u);
  void exit(const std::string& id, int code);  // the workload exits by itself
  void oom_kill(const std::string& id);        // the kernel's OOM killer kills it (exit 137)
  void ignore_term(const std::string& id);     // the workload ignores SIGTERM: stop() must KILL
  void fail_next_start(Error e);               // the next start() returns e
  [[nodiscard]] std::optional<SandboxSpec> spec(const std::string& id) const;
  [[nodiscard]] size_t count() const;  // started and not removed
  [[nodiscard]] int stops(const std::string& id) const;

 private:
  struct Box {
    SandboxSpec spec;
    SandboxStatus status;
    UsageSample usage;
    int stops = 0;
    bool ignores_term = false;
  };
  mutable std::mutex mu_;
  std::map<std::string, Box> boxes_;
  std::optional<Error> fail_next_;
};

}  // namespace xop
