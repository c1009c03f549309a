// Daemons log through named loggers (core/log.h): each line carries the daemon's name.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "core/log.h"

namespace xop {
namespace {

TEST(LogNamedTest, LinesCarryTheLoggerName) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("xop-test", sink);
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::drop("xop.testdaemon");  // a fresh named logger picks up the sink above
  XOP_LOGN_INFO("testdaemon", "registered with the corp {}", "http://corp");
  XOP_LOGN_DEBUG("testdaemon", "not shown at info");
  XOP_LOGN_ERROR("testdaemon", "failed {}", 3);
  spdlog::drop("xop.testdaemon");
  spdlog::set_default_logger(previous);
  const std::string text = out.str();
  EXPECT_NE(text.find("info testdaemon: registered with the corp http://corp"), std::string::npos) << text;
  EXPECT_NE(text.find("error testdaemon: failed 3"), std::string::npos) << text;
  EXPECT_EQ(text.find("not shown"), std::string::npos) << text;
}

// Several daemons in one process (`xop dev`, the simulated platform) share the default sinks:
// each line still carries its own logger's name, not the last-created one's, and lines of the
// default logger carry none.
TEST(LogNamedTest, LoggersSharingSinksKeepTheirOwnNames) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("xop-test", sink);
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
  spdlog::drop("xop.firstdaemon");
  spdlog::drop("xop.seconddaemon");
  XOP_LOGN_INFO("firstdaemon", "one");
  XOP_LOGN_INFO("seconddaemon", "two");
  XOP_LOGN_INFO("firstdaemon", "three");
  XOP_LOG_INFO("four");
  spdlog::drop("xop.firstdaemon");
  spdlog::drop("xop.seconddaemon");
  spdlog::set_default_logger(previous);
  const std::string text = out.str();
  EXPECT_NE(text.find("info firstdaemon: one"), std::string::npos) << text;
  EXPECT_NE(text.find("info seconddaemon: two"), std::string::npos) << text;
  EXPECT_NE(text.find("info firstdaemon: three"), std::string::npos) << text;
  EXPECT_NE(text.find("info four"), std::string::npos) << text;
}

}  // namespace
}  // namespace xop
