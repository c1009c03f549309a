#include "cli/daemon.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/file_util.h"

namespace xop {

void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void wait_for_termination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
}

Status announce(const std::string& what, const std::string& url, const std::string& port_file) {
  std::printf("%s listening on %s\n", what.c_str(), url.c_str());
  std::fflush(stdout);
  if (port_file.empty()) return {};
  return write_file_atomic(port_file, url + "\n");
}

Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return invalid("--listen: expected host:port, e.g. 127.0.0.1:0");
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535) return invalid("--listen: invalid port");
  return std::make_pair(listen.substr(0, colon), static_cast<uint16_t>(port));
}

}  // namespace xop

namespace xop {

void add_daemon_flags(CLI::App* cmd, const ConfigTable& table, DaemonFlags* f) {
  cmd->add_option("--config", f->config, "TOML config file; every key below is also a flag, and a flag wins");
  for (const auto& o : table.options()) {
    std::string names = o.flag;
    for (const auto& a : o.flag_aliases) names += "," + a;
    CLI::Option* opt = nullptr;
    if (o.type == ConfigType::kBool) {
      opt = cmd->add_flag(names, f->on[o.key], ConfigTable::help_line(o));
      f->bools.push_back(o.key);
    } else {
      opt = cmd->add_option(names, f->text[o.key], ConfigTable::help_line(o));
    }
    f->options.emplace_back(o.key, opt);
  }
}

ConfigFlags DaemonFlags::given() const {
  ConfigFlags out;
  for (const auto& [key, opt] : options) {
    if (opt->count() == 0) continue;
    if (std::find(bools.begin(), bools.end(), key) != bools.end()) {
      out.emplace_back(key, on.at(key) ? "true" : "false");
    } else {
      out.emplace_back(key, text.at(key));
    }
  }
  return out;
}

}  // namespace xop
