// Relays SIGINT and SIGTERM to a Cancellation while alive: the handler only writes a byte to a
// pipe (async-signal-safe); a thread reads it and cancels. Later signals are absorbed, so a
// second Ctrl-C cannot kill the CLI in the middle of stopping what it started. The previous
// handlers are restored on destruction.
#pragma once

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

#include "deploy/cancellation.h"

namespace xop {

class InterruptRelay {
 public:
  explicit InterruptRelay(std::shared_ptr<Cancellation> c);
  ~InterruptRelay();
  InterruptRelay(const InterruptRelay&) = delete;
  InterruptRelay& operator=(const InterruptRelay&) = delete;
  // The signal that arrived first (0: none).
  [[nodiscard]] int signal() const { return signal_.load(); }

 private:
  std::shared_ptr<Cancellation> cancel_;
  std::atomic<int> signal_{0};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  std::thread reader_;
};

}  // namespace xop
