// xop-shim: the per-session monitor's launcher (server/sandbox_process.h, spawn_with_shim). The
// daemon's detached shim re-executes itself as this tiny static program, so that each session
// costs the host a few hundred KiB instead of a copy of the daemon's memory. Not for people: its
// command line is server/shim_core.h's launcher protocol.
#include "server/shim_core.h"

int main(int argc, char** argv) { return xop::shim::launcher_main(argc, argv); }
