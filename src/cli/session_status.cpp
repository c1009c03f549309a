#include "cli/session_status.h"

namespace xop {

bool session_is_live(const std::string& state) {
  return state == "starting" || state == "running" || state == "stopping" || state == "frozen";
}

std::string session_status(const SessionStatusInput& s) {
  // A session whose purchase order ran dry is stopped by its server ("funds-exhausted"; older
  // servers: "purchase order exhausted").
  if (!session_is_live(s.state) && s.reason.find("exhausted") != std::string::npos) return "out of funds";
  if (s.state == "frozen") return "frozen: top up";
  if (s.state == "running" && s.low_funds) return "running: low funds";
  if (session_is_live(s.state)) return s.state;
  if (s.exit_reason == "oom-killed") return "oom-killed";
  if (s.exit_reason == "evicted") return "evicted";
  if (s.exit_reason == "po-exhausted")
    return s.reason.find("closed") != std::string::npos ? "po closed" : "out of funds";
  if (s.exit_reason == "signaled" && s.exit_code && *s.exit_code > 128) {
    return "killed (signal " + std::to_string(*s.exit_code - 128) + ")";
  }
  if (s.exit_reason == "exited" && s.exit_code) return "exited (" + std::to_string(*s.exit_code) + ")";
  if (s.state.empty()) return "unknown";
  return s.state;  // stopped (by you, or at the server's shutdown), failed
}

std::string session_age(TimeMs since, TimeMs now) {
  if (since <= 0 || since > now) return "-";
  const int64_t s = (now - since) / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

}  // namespace xop
