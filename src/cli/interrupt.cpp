#include "cli/interrupt.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace xop {

namespace {
// One relay at a time (the CLI runs one verb); the write end of its pipe.
std::atomic<int> g_pipe_write{-1};

void on_signal(int sig) {
  const int fd = g_pipe_write.load();
  if (fd < 0) return;
  const auto b = static_cast<unsigned char>(sig);
  const int saved = errno;
  [[maybe_unused]] const ssize_t n = ::write(fd, &b, 1);
  errno = saved;
}
}  // namespace

InterruptRelay::InterruptRelay(std::shared_ptr<Cancellation> c) : cancel_(std::move(c)) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;  // no relay: signals keep their default action
  g_pipe_write.store(fds[1]);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &old_int_);
  ::sigaction(SIGTERM, &sa, &old_term_);
  const int rfd = fds[0];
  reader_ = std::thread([this, rfd] {
    unsigned char b = 0;
    for (;;) {
      const ssize_t n = ::read(rfd, &b, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || b == 0) break;  // 0: the destructor's wake-up
      int expected = 0;
      signal_.compare_exchange_strong(expected, b);
      cancel_->cancel();
    }
    ::close(rfd);
  });
}

InterruptRelay::~InterruptRelay() {
  const int fd = g_pipe_write.load();
  if (fd < 0) return;
  ::sigaction(SIGINT, &old_int_, nullptr);
  ::sigaction(SIGTERM, &old_term_, nullptr);
  const unsigned char zero = 0;
  [[maybe_unused]] const ssize_t n = ::write(fd, &zero, 1);
  if (reader_.joinable()) reader_.join();
  g_pipe_write.store(-1);
  ::close(fd);
}

}  // namespace xop
