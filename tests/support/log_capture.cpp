#include "support/log_capture.h"

#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <mutex>

#include "core/log.h"

namespace xop::testing {

struct LogCapture::Sink final : spdlog::sinks::base_sink<std::mutex> {
  std::vector<Line> lines;  // guarded by base_sink's mutex_
  std::vector<Line> copy() {
    std::lock_guard lock(mutex_);
    return lines;
  }
  void reset() {
    std::lock_guard lock(mutex_);
    lines.clear();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    lines.push_back(Line{std::string(level.data(), level.size()), std::string(msg.payload.data(), msg.payload.size())});
  }
  void flush_() override {}
};

LogCapture::LogCapture(const std::string& logger) : logger_(logger), sink_(std::make_shared<Sink>()) {
  log::named(logger_)->sinks().push_back(sink_);
}

LogCapture::~LogCapture() {
  auto& sinks = log::named(logger_)->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
}

std::vector<LogCapture::Line> LogCapture::lines() const { return sink_->copy(); }

int LogCapture::count(const std::string& level, const std::string& part) const {
  int n = 0;
  for (const auto& l : sink_->copy()) {
    if (l.level == level && l.text.find(part) != std::string::npos) ++n;
  }
  return n;
}

void LogCapture::clear() { sink_->reset(); }

}  // namespace xop::testing
