// Captures what a named logger (core/log.h: "server", "corp", ...) writes while it lives, so that
// a test can check a failure was reported (e.g. a durable write that failed was logged at error).
// Adds a sink to the logger and removes it on destruction; the logger's level still applies (the
// default "info" lets warnings and errors through). Not for loggers written by other threads while
// the capture is created or destroyed (spdlog's sink list is not guarded).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace xop::testing {

class LogCapture {
 public:
  explicit LogCapture(const std::string& logger);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  struct Line {
    std::string level;  // "debug", "info", "warning", "error", ...
    std::string text;   // the message as formatted
  };
  [[nodiscard]] std::vector<Line> lines() const;
  // How many captured lines at `level` contain `part`.
  [[nodiscard]] int count(const std::string& level, const std::string& part) const;
  void clear();

  struct Sink;

 private:
  std::string logger_;
  std::shared_ptr<Sink> sink_;
};

}  // namespace xop::testing
