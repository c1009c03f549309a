#include "core/ignore_error.h"

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace xop {

void log_ignored_error(const Error& e, std::string_view why) {
  XOP_LOG_WARN("ignored error ({}): {}", why, e.to_string());
}

void ignore_errno(long rc, std::string_view why) {
  if (rc >= 0) return;
  const int err = errno;
  XOP_LOG_WARN("ignored error ({}): {}", why, std::strerror(err));
}

}  // namespace xop
