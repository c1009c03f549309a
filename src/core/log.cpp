#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace xop::log {

void init(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("xop");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  auto lvl = spdlog::level::from_str(level);
  spdlog::set_level(lvl == spdlog::level::off && level != "off" ? spdlog::level::info : lvl);
}

std::shared_ptr<spdlog::logger> named(const std::string& name) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto l = spdlog::get("xop." + name)) return l;
  const auto& sinks = spdlog::default_logger()->sinks();
  auto l = std::make_shared<spdlog::logger>("xop." + name, sinks.begin(), sinks.end());
  l->set_level(spdlog::default_logger()->level());
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ " + name + ": %v");
  spdlog::register_logger(l);
  return l;
}

}  // namespace xop::log
