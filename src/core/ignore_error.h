// Named, logged ignores. A Result is [[nodiscard]]: code that has a reason to carry on after a
// failure says so here instead of casting to void, and the failure is logged at warn with that
// reason. Never for durable-state writes (state rows, usage records, ledger): those propagate,
// retry or stay pending.
#pragma once

#include <string_view>

#include "core/result.h"

namespace xop {

// Logs `e` at warn as "ignored error (<why>): <code>: <message>".
void log_ignored_error(const Error& e, std::string_view why);

// Drops `r` on purpose; a failure is logged with `why` (which says why carrying on is right).
template <typename T>
void ignore_error(const Result<T>& r, std::string_view why) {
  if (!r) log_ignored_error(r.error(), why);
}

// For a POSIX call returning -1 and errno on failure: logs the errno at warn with `why`.
// Not for use between fork and exec (it may take the logger's lock).
void ignore_errno(long rc, std::string_view why);

// For a POSIX call between fork and exec or in the runtime shim, where nothing may lock or
// allocate: names the reason for carrying on after a failure and drops it without logging.
// Async-signal-safe (it does nothing).
inline void ignore_errno_unlogged(long rc, const char* why) {
  static_cast<void>(rc);
  static_cast<void>(why);
}

}  // namespace xop
