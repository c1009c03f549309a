// Shared plumbing for the daemon subcommands: waiting for SIGINT/SIGTERM, and announcing the
// bound URL (stdout line "listening on URL" and, with --port-file, an atomically written file
// holding the URL, which tests and scripts poll for).
#pragma once

#include <string>

#include "core/result.h"

namespace xop {

// Blocks SIGINT/SIGTERM in the calling thread (call before starting any thread).
void block_termination_signals();
// Waits until SIGINT or SIGTERM arrives.
void wait_for_termination();
Status announce(const std::string& what, const std::string& url, const std::string& port_file);
// "host:port" -> host, port.
Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& listen);

}  // namespace xop

#include <CLI/CLI.hpp>
#include <map>

#include "core/config_table.h"

namespace xop {

// A daemon's command line: --config FILE plus one flag per option of its config table (the flag's
// help names the TOML key, type and default). After parsing, given() lists the flags set explicitly.
struct DaemonFlags {
  std::string config;
  std::map<std::string, std::string> text;
  std::map<std::string, bool> on;
  std::vector<std::pair<std::string, CLI::Option*>> options;
  std::vector<std::string> bools;
  [[nodiscard]] ConfigFlags given() const;
};
void add_daemon_flags(CLI::App* cmd, const ConfigTable& table, DaemonFlags* f);

}  // namespace xop
