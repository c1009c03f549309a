// A Sandbox whose workloads live on a clock (the simulated platform's stand-in for the kernel):
// a workload is described by its environment, so an image or a manifest says what it does and a
// test knows the ground truth independently of the meter:
//   XOP_SIM_CPU_MILLICORES=N   burns N thousandths of a core (at most the reserved cpu_millis,
//                              as CFS would allow) from its start; default 0
//   XOP_SIM_MEMORY_BYTES=N     holds N bytes (default 1 MiB); above the reserved memory the
//                              OOM killer kills it at once (exit 137, one OOM kill)
//   XOP_SIM_EXIT_AFTER_MS=T    exits by itself T ms after its start (default: never)
//   XOP_SIM_EXIT_CODE=C        ...with code C (0..255, default 0)
//   XOP_SIM_IGNORE_TERM=1      ignores SIGTERM: stop() waits the whole grace, then kills (137)
// cpu_ns at time t is exactly N * (min(t, exit) - start - frozen) * 1000, where `frozen` is the
// time spent frozen (freeze() .. thaw()); a frozen workload does not progress, so its own exit
// comes that much later. Malformed values are refused at
// start() (kInvalidArgument). A stop's grace is spent through `wait` (the platform advances its
// simulated clock; the contract suite sleeps). It keeps the driver contract of
// tests/contract/sandbox_contract_test.cpp. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "core/clock.h"
#include "server/sandbox.h"

namespace xop {

class SimSandbox final : public Sandbox {
 public:
  using Wait = std::function<void(std::chrono::milliseconds)>;
  SimSandbox(const Clock& clock, Wait wait);

  [[nodiscard]] std::string kind() const override { return "sim"; }
  Status start(const SandboxSpec& spec) override;
  Result<SandboxStatus> status(const std::string& id) override;
  Result<UsageSample> sample(const std::string& id) override;
  Status stop(const std::string& id, std::chrono::milliseconds grace) override;
  Status remove(const std::string& id) override;
  Status freeze(const std::string& id) override;
  Status thaw(const std::string& id) override;

  // Started and not removed.
  [[nodiscard]] size_t count() const;

 private:
  struct Box {
    TimeMs started_at = 0;
    int64_t millicores = 0;
    int64_t memory_bytes = 0;
    std::optional<TimeMs> exits_at;  // by itself, with exit_code
    int exit_code = 0;
    bool ignores_term = false;
    std::optional<TimeMs> ended_at;  // stopped or OOM-killed: counters freeze here
    std::optional<TimeMs> frozen_since;
    int64_t frozen_ms = 0;  // spent frozen before frozen_since
    std::optional<int> ended_code;
    int64_t oom_kills = 0;
  };
  // The box's state at `now` (an exit time reached ends it).
  static void settle(Box& b, TimeMs now);
  // Time spent frozen up to `t`.
  static int64_t frozen_until(const Box& b, TimeMs t);
  static void thaw_box(Box& b, TimeMs now);

  const Clock& clock_;
  Wait wait_;
  mutable std::mutex mu_;
  std::map<std::string, Box> boxes_;
};

}  // namespace xop
