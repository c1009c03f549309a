// What `xop sessions` shows in its STATUS and AGE columns, from a server's session view.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/time.h"

namespace xop {

// The parts of a session view (server/server_api.cpp to_json(SessionView)) that decide its status.
struct SessionStatusInput {
  std::string state;        // starting, running, stopping, stopped, failed (or frozen)
  std::string reason;       // why it stopped, in words
  std::string exit_reason;  // exited, signaled, oom-killed, or empty
  std::optional<int64_t> exit_code;
  bool low_funds = false;  // the server's last word from the corp: its PO is low on funds
};

// One short phrase: "running", "running: low funds" (its purchase order has fewer than the corp's
// low_funds_intervals charging intervals left), "starting", "exited (3)", "killed (signal 9)",
// "oom-killed", "out of funds" (stopped: its purchase order ran dry), "frozen: top up" (its PO ran
// dry; `xop extend` before its server's freeze_grace passes), "stopped", "failed".
std::string session_status(const SessionStatusInput& s);
// Whether the session still runs (or is about to): starting, running, stopping, frozen.
bool session_is_live(const std::string& state);
// A compact age from a timestamp to now: "5s", "3m", "2h", "4d"; "-" when unknown (0 or later).
std::string session_age(TimeMs since, TimeMs now);

}  // namespace xop
