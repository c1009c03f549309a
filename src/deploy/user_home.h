// The user's local state in $XOP_HOME (default ~/.config/xop): key.json (Ed25519 seed, mode 0600),
// config.toml (corp_url, xis_url; unknown keys are errors), sessions.json (where each deployed
// session lives, so `xop sessions` and `xop stop` can find it).
#pragma once

#include <string>
#include <vector>

#include "core/json_reader.h"
#include "crypto/keys.h"

namespace xop {

struct UserConfig {
  std::string corp_url;
  std::string xis_url;
};

struct DeployedSession {
  std::string session;
  std::string server;  // server account id
  std::string name;    // server name
  std::string city;
  std::string endpoint;
  std::string po_id;
  std::string label;  // manifest name
};

class UserHome {
 public:
  // $XOP_HOME, else $HOME/.config/xop.
  static std::string default_dir();
  explicit UserHome(std::string dir);

  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] std::string key_path() const { return dir_ + "/key.json"; }
  Result<KeyPair> load_key() const;
  Status save_key(const KeyPair& k) const;

  Result<UserConfig> load_config() const;
  Status save_config(const UserConfig& c) const;

  Result<std::vector<DeployedSession>> load_sessions() const;
  Status save_sessions(const std::vector<DeployedSession>& s) const;

 private:
  std::string dir_;
};

}  // namespace xop
