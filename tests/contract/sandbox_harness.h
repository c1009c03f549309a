// The driver harness of the Sandbox contract suite (sandbox_contract_test.cpp), in the manner of
// Nomad's driver test harness: one harness per driver turns a driver-neutral Workload into a spec
// that driver can run, lets simulated workloads progress, and says what a removed sandbox left
// behind. Adding a driver (a microVM one) is one more make_*_harness() in harness_for().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/sandbox.h"

namespace xop::testing {

// What the workload does, independently of the driver.
enum class Workload {
  kExit3,              // exits with code 3 at once
  kBurnKnownCpu,       // burns kKnownBurnNs of its own CPU time (kernel's per-task count), exits 0
  kSpinExitingOnTerm,  // spins until SIGTERM, then exits
  kSpinIgnoringTerm,   // spins and ignores SIGTERM: only SIGKILL stops it
  kExceedMemory,       // allocates beyond its memory limit: the OOM killer kills it
};

// The CPU kBurnKnownCpu burns, measured by the workload itself from /proc/self/stat (not by the
// driver's counter, which the suite checks against it).
inline constexpr int64_t kKnownBurnNs = 1'000'000'000;

class SandboxHarness {
 public:
  virtual ~SandboxHarness() = default;
  virtual Sandbox& sandbox() = 0;
  // A valid spec running `w`, with an id unused so far.
  virtual SandboxSpec spec(Workload w) = 0;
  // Lets simulated workloads progress (the mock's stand-in for the kernel); real drivers: no-op.
  // The suite calls it on every poll.
  virtual void drive() {}
  // Notes the workload's processes while it runs, for leftovers().
  virtual void note_processes(const std::string& /*id*/) {}
  // What `id` left behind after remove(): cgroups, runtime state, live processes, mounts.
  virtual std::vector<std::string> leftovers(const std::string& id) = 0;
  // The CPU the workload used as the kernel counts it, read by the harness itself (real drivers:
  // the session cgroup's cpuacct.usage or cpu.stat, not through the driver's counter); nullopt
  // where there is no kernel (the mock and sim drivers: the suite uses sample()).
  virtual std::optional<int64_t> kernel_cpu_ns(const std::string& /*id*/) { return std::nullopt; }
};

// The harness for `driver` ("mock", "sim", "runc", "crun"), or null with `why` saying why that driver
// cannot run on this machine (not root, runtime missing, or a trivial container failed).
std::unique_ptr<SandboxHarness> harness_for(const std::string& driver, std::string& why);

}  // namespace xop::testing
