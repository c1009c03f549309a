// A one-way flag that stops a deploy from admitting more work (set on SIGINT/SIGTERM by the CLI).
// Thread-safe; cancel() may be called from any thread (not from a signal handler: see
// cli/interrupt.h, which relays signals to it from a thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace xop {

class Cancellation {
 public:
  void cancel() {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }
  [[nodiscard]] bool cancelled() const {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  // Blocks until cancel() was called.
  void wait() const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return cancelled_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool cancelled_ = false;
};

}  // namespace xop
