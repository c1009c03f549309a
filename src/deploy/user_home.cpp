#include "deploy/user_home.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/file_util.h"
#include "core/toml_reader.h"

namespace xop {

namespace fs = std::filesystem;

namespace {
// The home directory holds a private key: it is created owner-only.
Status ensure_dir(const std::string& dir) {
  std::error_code ec;
  if (fs::is_directory(dir)) return {};
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot create " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  return {};
}
}  // namespace

std::string UserHome::default_dir() {
  if (const char* h = std::getenv("XOP_HOME"); h != nullptr && *h != '\0') return h;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/xop";
}

UserHome::UserHome(std::string dir) : dir_(dir), state_dir_(dir), cache_dir_(std::move(dir)) {}
UserHome::UserHome(HomeDirs dirs)
    : dir_(std::move(dirs.config)), state_dir_(std::move(dirs.state)), cache_dir_(std::move(dirs.cache)) {}

Result<KeyPair> UserHome::load_key() const {
  auto k = load_key_file(key_path());
  if (!k && k.error().code == ErrorCode::kNotFound) {
    return make_error(ErrorCode::kNotFound, "no account key in " + dir_ + " (run `xop account create` first)");
  }
  return k;
}

Status UserHome::save_key(const KeyPair& k) const {
  XOP_RETURN_IF_ERROR(ensure_dir(dir_));
  return save_key_file(k, key_path());
}

Result<UserConfig> UserHome::load_config() const {
  const std::string path = dir_ + "/config.toml";
  if (!fs::exists(path)) {
    return make_error(ErrorCode::kNotFound,
                      "no " + path + " (run `xop dev` or `xop account create --corp URL --xis URL`)");
  }
  XOP_ASSIGN_OR_RETURN(auto t, load_toml_file(path));
  TomlReader r(t, "config");
  UserConfig c;
  c.corp_url = r.opt_str("corp_url").value_or("");
  c.xis_url = r.opt_str("xis_url").value_or("");
  XOP_RETURN_IF_ERROR(r.finish());
  return c;
}

Status UserHome::save_config(const UserConfig& c) const {
  toml::table t;
  t.insert("corp_url", c.corp_url);
  t.insert("xis_url", c.xis_url);
  std::stringstream ss;
  ss << t << "\n";
  XOP_RETURN_IF_ERROR(ensure_dir(dir_));
  return write_file_atomic(dir_ + "/config.toml", ss.str());
}

Result<std::vector<DeployedSession>> UserHome::load_sessions() const {
  std::vector<DeployedSession> out;
  const std::string path = state_dir_ + "/sessions.json";
  auto text = read_file_capped(path, 64u << 20);
  if (!text && text.error().code == ErrorCode::kNotFound) return out;
  if (!text) return tl::make_unexpected(text.error());
  XOP_ASSIGN_OR_RETURN(auto j, parse_json(*text));
  JsonReader top(j, "sessions.json");
  const Json& arr = top.array("sessions", 100000);
  XOP_RETURN_IF_ERROR(top.finish());
  for (const auto& e : arr) {
    JsonReader r(e, "sessions.json entry");
    DeployedSession d;
    d.session = r.str("session", 64);
    d.server = r.str("server", 64);
    d.name = r.str("name", 128);
    d.city = r.str("city", 128);
    d.endpoint = r.str("endpoint", 256);
    d.po_id = r.str("po_id", 64);
    d.label = r.opt_str("label", 64).value_or("");
    XOP_RETURN_IF_ERROR(r.finish());
    out.push_back(std::move(d));
  }
  return out;
}

Status UserHome::save_sessions(const std::vector<DeployedSession>& s) const {
  Json arr = Json::array();
  for (const auto& d : s) {
    arr.push_back(Json{{"session", d.session},
                       {"server", d.server},
                       {"name", d.name},
                       {"city", d.city},
                       {"endpoint", d.endpoint},
                       {"po_id", d.po_id},
                       {"label", d.label}});
  }
  XOP_RETURN_IF_ERROR(ensure_dir(state_dir_));
  return write_file_atomic(state_dir_ + "/sessions.json", Json{{"sessions", arr}}.dump(2) + "\n");
}

}  // namespace xop
