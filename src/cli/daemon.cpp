#include "cli/daemon.h"

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
