#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>
#include <string_view>

namespace xop::log {

namespace {

constexpr std::string_view kNamedPrefix = "xop.";

// %* : "<name>: " for a named logger ("xop.<name>"), nothing for the default one. The sinks are
// shared by every logger, so the name must come from each message, not from a per-logger pattern
// (a pattern set on one logger is set on the shared sinks, and the last one set would label all).
class NameFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string_view name(msg.logger_name.data(), msg.logger_name.size());
    if (name.size() <= kNamedPrefix.size() || name.substr(0, kNamedPrefix.size()) != kNamedPrefix) return;
    const std::string_view shown = name.substr(kNamedPrefix.size());
    dest.append(shown.data(), shown.data() + shown.size());
    dest.append(std::string_view(": "));
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return spdlog::details::make_unique<NameFlag>();
  }
};

std::unique_ptr<spdlog::formatter> line_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<NameFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*%v");
  return f;
}

}  // namespace

void init(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("xop");
  spdlog::set_default_logger(logger);
  spdlog::set_formatter(line_formatter());
  auto lvl = spdlog::level::from_str(level);
  spdlog::set_level(lvl == spdlog::level::off && level != "off" ? spdlog::level::info : lvl);
}

std::shared_ptr<spdlog::logger> named(const std::string& name) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto l = spdlog::get(std::string(kNamedPrefix) + name)) return l;
  const auto& sinks = spdlog::default_logger()->sinks();
  auto l = std::make_shared<spdlog::logger>(std::string(kNamedPrefix) + name, sinks.begin(), sinks.end());
  l->set_level(spdlog::default_logger()->level());
  l->set_formatter(line_formatter());  // on the shared sinks: the same formatter for every logger
  spdlog::register_logger(l);
  return l;
}

}  // namespace xop::log
