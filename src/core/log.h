// Structured logging: one line per event, "message key=value ...". Backed by spdlog.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace xop::log {

// Sets the global level ("debug", "info", "warn", "error", "off"). Unknown names keep "info".
void init(const std::string& level);

}  // namespace xop::log

#define XOP_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define XOP_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define XOP_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define XOP_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
