// The user's local files for one profile (deploy/home_dirs.h says where): key.json (Ed25519 seed,
// mode 0600) and config.toml (corp_url, xis_url; unknown keys are errors) in the config
// directory, a cache of sessions in the state directory, scratch space in the cache directory.
// The state directory holds a cache of where the user's sessions live (the platform is the source
// of truth: `xop sessions` asks the corp and servers):
//   sessions.json   a compacted list (written by save_sessions),
//   sessions.jsonl  a journal, one DeployedSession per line, appended by append_session as soon
//                   as a server answers; a torn last line (a crash mid-write) is ignored,
//   lock            the flock every process takes (exclusive to write, shared to read), so
//                   concurrent `xop` processes on one home never lose a record;
// scratch/run-*     in the cache directory: one private scratch directory per run (make_scratch),
//                   removed after it.
#pragma once

#include <memory>
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

  // sessions.json then the journal, in order (a session listed twice: the later record wins).
  Result<std::vector<DeployedSession>> load_sessions() const;
  // Replaces the whole list (sessions.json, atomically) and empties the journal.
  Status save_sessions(const std::vector<DeployedSession>& s) const;
  // Appends one record to the journal and fsyncs it, under the exclusive lock.
  Status append_session(const DeployedSession& d) const;

  // A fresh private directory under scratch_dir() (e.g. for an unpacked image archive); removed
  // with everything in it when the returned object goes.
  class Scratch;
  Result<std::unique_ptr<Scratch>> make_scratch() const;

 private:
  std::string dir_;
  std::string state_dir_;
  std::string cache_dir_;
};

class UserHome::Scratch {
 public:
  explicit Scratch(std::string path) : path_(std::move(path)) {}
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace xop
