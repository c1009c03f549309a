// The user's local files for one profile (deploy/home_dirs.h says where): key.json (Ed25519 seed,
// mode 0600) and config.toml (corp_url, xis_url; unknown keys are errors) in the config
// directory, sessions.json (where each deployed session lives, so `xop sessions` and `xop stop`
// can find it) in the state directory, scratch space in the cache directory.
#pragma once

#include <string>
#include <vector>

#include "core/json_reader.h"
#include "crypto/keys.h"
#include "deploy/home_dirs.h"

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
  // Everything in `dir` (key, config, state, cache).
  explicit UserHome(std::string dir);
  explicit UserHome(HomeDirs dirs);

  // The config directory (key, config.toml, dev-admin.json).
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] const std::string& state_dir() const { return state_dir_; }
  // Per-run scratch space (image unpacking) lives under here.
  [[nodiscard]] std::string scratch_dir() const { return cache_dir_ + "/scratch"; }
  [[nodiscard]] std::string config_path() const { return dir_ + "/config.toml"; }
  [[nodiscard]] std::string key_path() const { return dir_ + "/key.json"; }
  Result<KeyPair> load_key() const;
  Status save_key(const KeyPair& k) const;

  Result<UserConfig> load_config() const;
  Status save_config(const UserConfig& c) const;

  Result<std::vector<DeployedSession>> load_sessions() const;
  Status save_sessions(const std::vector<DeployedSession>& s) const;

 private:
  std::string dir_;
  std::string state_dir_;
  std::string cache_dir_;
};

}  // namespace xop
