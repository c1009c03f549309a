#include "deploy/user_home.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/file_lock.h"
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

namespace {
constexpr const char* kJournal = "/sessions.jsonl";

Result<DeployedSession> session_from_json(const Json& e, const char* where) {
  JsonReader r(e, where);
  DeployedSession d;
  d.session = r.str("session", 64);
  d.server = r.str("server", 64);
  d.name = r.str("name", 128);
  d.city = r.str("city", 128);
  d.endpoint = r.str("endpoint", 256);
  d.po_id = r.str("po_id", 64);
  d.label = r.opt_str("label", 64).value_or("");
  XOP_RETURN_IF_ERROR(r.finish());
  return d;
}

Json session_to_json(const DeployedSession& d) {
  return Json{{"session", d.session},   {"server", d.server}, {"name", d.name},  {"city", d.city},
              {"endpoint", d.endpoint}, {"po_id", d.po_id},   {"label", d.label}};
}

// Adds or replaces (same session id) `d` in `out`.
void upsert(std::vector<DeployedSession>& out, DeployedSession d) {
  for (auto& e : out) {
    if (e.session == d.session) {
      e = std::move(d);
      return;
    }
  }
  out.push_back(std::move(d));
}

Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(ErrorCode::kInternal, "cannot write " + path + ": " + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}
}  // namespace

Result<std::vector<DeployedSession>> UserHome::load_sessions() const {
  std::vector<DeployedSession> out;
  if (!fs::is_directory(state_dir_)) return out;
  XOP_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(state_dir_ + "/lock", FileLock::Mode::kShared));
  const std::string path = state_dir_ + "/sessions.json";
  auto text = read_file_capped(path, 64u << 20);
  if (!text && text.error().code != ErrorCode::kNotFound) return tl::make_unexpected(text.error());
  if (text) {
    XOP_ASSIGN_OR_RETURN(auto j, parse_json(*text));
    JsonReader top(j, "sessions.json");
    const Json& arr = top.array("sessions", 100000);
    XOP_RETURN_IF_ERROR(top.finish());
    for (const auto& e : arr) {
      XOP_ASSIGN_OR_RETURN(auto d, session_from_json(e, "sessions.json entry"));
      upsert(out, std::move(d));
    }
  }
  auto journal = read_file_capped(state_dir_ + kJournal, 64u << 20);
  if (!journal && journal.error().code != ErrorCode::kNotFound) return tl::make_unexpected(journal.error());
  if (journal) {
    std::istringstream in(*journal);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto j = parse_json(line);
      if (!j) continue;  // a record torn by a crash mid-append: it was never acknowledged
      XOP_ASSIGN_OR_RETURN(auto d, session_from_json(*j, "sessions.jsonl record"));
      upsert(out, std::move(d));
    }
  }
  return out;
}

Status UserHome::save_sessions(const std::vector<DeployedSession>& s) const {
  Json arr = Json::array();
  for (const auto& d : s) arr.push_back(session_to_json(d));
  XOP_RETURN_IF_ERROR(ensure_dir(state_dir_));
  XOP_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(state_dir_ + "/lock", FileLock::Mode::kExclusive));
  XOP_RETURN_IF_ERROR(write_file_atomic(state_dir_ + "/sessions.json", Json{{"sessions", arr}}.dump(2) + "\n"));
  std::error_code ec;
  fs::remove(state_dir_ + kJournal, ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot empty " + state_dir_ + kJournal + ": " + ec.message());
  return {};
}

Status UserHome::append_session(const DeployedSession& d) const {
  XOP_RETURN_IF_ERROR(ensure_dir(state_dir_));
  XOP_ASSIGN_OR_RETURN(auto lock, FileLock::acquire(state_dir_ + "/lock", FileLock::Mode::kExclusive));
  const std::string path = state_dir_ + kJournal;
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::kInternal, "cannot open " + path + ": " + std::strerror(errno));
  std::string line = session_to_json(d).dump() + "\n";
  // After a torn record (no final newline) start a new line, so the torn one stays alone.
  const off_t size = ::lseek(fd, 0, SEEK_END);
  char last = '\n';
  if (size > 0 && ::pread(fd, &last, 1, size - 1) == 1 && last != '\n') line.insert(line.begin(), '\n');
  Status st = write_all(fd, line, path);
  if (st && ::fsync(fd) != 0)
    st = make_error(ErrorCode::kInternal, "cannot fsync " + path + ": " + std::strerror(errno));
  ::close(fd);
  if (st && size == 0) {
    // A new journal: make its directory entry durable too.
    const int dfd = ::open(state_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return st;
}

Result<std::unique_ptr<UserHome::Scratch>> UserHome::make_scratch() const {
  const std::string base = scratch_dir();
  XOP_RETURN_IF_ERROR(ensure_dir(base));
  std::string tmpl = base + "/run-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return make_error(ErrorCode::kInternal,
                      "cannot create a scratch directory in " + base + ": " + std::strerror(errno));
  }
  return std::make_unique<Scratch>(tmpl);
}

UserHome::Scratch::~Scratch() {
  // Only a real directory (not a symlink someone put there) that we created is removed.
  std::error_code ec;
  if (fs::symlink_status(path_, ec).type() != fs::file_type::directory) return;
  fs::remove_all(path_, ec);
}

}  // namespace xop
