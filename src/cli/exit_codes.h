// The documented exit codes of `xop` (docs/cli.md): scripts may rely on them.
#pragma once

namespace xop {

inline constexpr int kExitOk = 0;       // success
inline constexpr int kExitFailure = 1;  // any other failure (network, server refused, ...)
inline constexpr int kExitUsage = 2;    // usage error: unknown verb or flag, bad value, missing argument
inline constexpr int kExitPartial = 3;  // partial success: some of the work was done (e.g. 2 of 3 sessions placed)
inline constexpr int kExitInterrupted = 130;  // interrupted (SIGINT/SIGTERM) with nothing left running (128 + SIGINT)

}  // namespace xop
