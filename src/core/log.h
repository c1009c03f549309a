// Structured logging: one line per event, "message key=value ...". Backed by spdlog.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace xop::log {

// Sets the global level ("debug", "info", "warn", "error", "off"). Unknown names keep "info".
void init(const std::string& level);
// The named logger ("corp", "xis", "server", "cli"): created on first use with the default
// logger's sinks and the global level; its lines carry the name.
std::shared_ptr<spdlog::logger> named(const std::string& name);

}  // namespace xop::log

#define XOP_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define XOP_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define XOP_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define XOP_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
// Logging to a named logger: XOP_LOGN_INFO("server", "registered with the corp {}", url).
#define XOP_LOGN_DEBUG(name, ...) ::xop::log::named(name)->debug(__VA_ARGS__)
#define XOP_LOGN_INFO(name, ...) ::xop::log::named(name)->info(__VA_ARGS__)
#define XOP_LOGN_WARN(name, ...) ::xop::log::named(name)->warn(__VA_ARGS__)
#define XOP_LOGN_ERROR(name, ...) ::xop::log::named(name)->error(__VA_ARGS__)
