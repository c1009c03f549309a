// A platform of separate `xop` processes on loopback for integration tests: `xop corp`,
// `xop xis` and N `xop server`, each bound to port 0 and announcing its URL in a port file.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "support/test_support.h"

namespace xop::testing {

struct ProcessPlatformOptions {
  int servers = 3;
  std::string runtime = "runc";
  int64_t charging_interval_ms = 1000;
  int64_t sample_interval_ms = 200;
  int64_t stop_grace_ms = 500;
  int64_t freeze_grace_ms = 0;  // credit control: a dry PO's session is stopped at once
  // Server i's [network] table. Empty: enabled = false (several servers on one host would share
  // the default bridge and pool).
  std::function<std::string(int)> network_toml = nullptr;
};

class ProcessPlatform {
 public:
  explicit ProcessPlatform(ProcessPlatformOptions opts);
  ~ProcessPlatform();

  // Empty on success, else what went wrong (with the daemons' logs).
  std::string start();

  [[nodiscard]] const std::string& corp_url() const { return corp_url_; }
  [[nodiscard]] const std::string& xis_url() const { return xis_url_; }
  [[nodiscard]] const std::vector<std::string>& server_urls() const { return server_urls_; }
  [[nodiscard]] const KeyPair& admin() const { return admin_; }
  [[nodiscard]] const KeyPair& owner() const { return owner_; }
  [[nodiscard]] const TempDir& dir() const { return dir_; }
  [[nodiscard]] int server_pid(size_t i) const { return servers_.at(i)->pid(); }

  // kill -9 of the corp process; then restart_corp() starts a new `xop corp` on the same data
  // directory and port (the servers keep their corp_url). Empty on success, else what went wrong.
  std::string kill_corp();
  std::string restart_corp();

  // kill -9 of server `i`, then a new `xop server` on the same data directory and a new port
  // (its sessions are re-adopted); server_urls() has the new URL. Empty on success.
  std::string restart_server(size_t i);

  // A registered user funded with `credits`.
  KeyPair new_user(const std::string& name, int64_t credits);
  std::string logs() const;

 private:
  std::string wait_for_url(const std::string& port_file, ChildProcess& child);
  std::unique_ptr<ChildProcess> spawn_corp(const std::string& listen, const std::string& log);

  ProcessPlatformOptions opts_;
  TempDir dir_;
  KeyPair admin_ = KeyPair::generate();
  KeyPair owner_ = KeyPair::generate();
  std::unique_ptr<ChildProcess> corp_;
  int corp_restarts_ = 0;
  std::string corp_past_logs_;
  std::unique_ptr<ChildProcess> xis_;
  std::unique_ptr<ChildProcess> spawn_server(size_t i, const std::string& log);
  std::vector<std::unique_ptr<ChildProcess>> servers_;
  int server_restarts_ = 0;
  std::string corp_url_;
  std::string xis_url_;
  std::vector<std::string> server_urls_;
};

}  // namespace xop::testing
