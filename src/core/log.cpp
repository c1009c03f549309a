#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace xop::log {

void init(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("xop");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  auto lvl = spdlog::level::from_str(level);
  spdlog::set_level(lvl == spdlog::level::off && level != "off" ? spdlog::level::info : lvl);
}

}  // namespace xop::log
