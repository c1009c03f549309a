// The `xop` command line: daemons (corp, xis, server, dev) and client verbs (account, search,
// deploy, sessions, logs, stop, statement). Client verbs use only the public HTTP API.
#pragma once

namespace xop {

int run_cli(int argc, char** argv);

}  // namespace xop
