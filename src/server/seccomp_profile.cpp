#include "server/seccomp_profile.h"

#include <algorithm>
#include <array>

#include "core/file_util.h"

namespace xop {

// Generated at configure time from data/seccomp/default.json (src/CMakeLists.txt).
extern const char kDefaultSeccompProfileJson[];

namespace {

constexpr size_t kMaxRules = 512;
constexpr size_t kMaxNamesPerRule = 1024;
constexpr size_t kMaxArgs = 6;
constexpr size_t kMaxComment = 4096;
constexpr size_t kMaxCommentLines = 256;

constexpr std::array kActions = {"SCMP_ACT_ALLOW",       "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                 "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",  "SCMP_ACT_LOG"};
// What an unmatched call may get: anything that does not let it through.
constexpr std::array kDefaultActions = {"SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                        "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"};
constexpr std::array kArchitectures = {"SCMP_ARCH_X86_64",  "SCMP_ARCH_X86",     "SCMP_ARCH_X32",
                                       "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",     "SCMP_ARCH_RISCV64",
                                       "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390X",   "SCMP_ARCH_S390",
                                       "SCMP_ARCH_MIPS64",  "SCMP_ARCH_MIPSEL64"};
constexpr std::array kOperators = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                   "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};

template <size_t N>
bool one_of(const std::string& s, const std::array<const char*, N>& set) {
  return std::any_of(set.begin(), set.end(), [&](const char* x) { return s == x; });
}

bool valid_syscall_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// "comment": a string, or an array of strings (a header of several lines). Read and dropped.
void read_comment(JsonReader& r, const Json& j) {
  if (!j.contains("comment")) return;
  if (j["comment"].is_string()) {
    (void)r.opt_str("comment", kMaxComment);
  } else {
    (void)r.str_array("comment", kMaxCommentLines, kMaxComment);
  }
}

Result<Json> parse_arg(const Json& a, const std::string& where) {
  if (!a.is_object()) return invalid(where + ": expected an object");
  JsonReader r(a, where);
  const int64_t index = r.i64("index", 0, 5);
  const int64_t value = r.i64("value", 0);
  const auto value_two = r.opt_i64("valueTwo", 0);
  const std::string op = r.str("op", 64);
  if (r.ok() && !one_of(op, kOperators)) r.fail("op", "unknown operator \"" + op + "\"");
  XOP_RETURN_IF_ERROR(r.finish());
  Json out = {{"index", index}, {"value", value}, {"op", op}};
  if (value_two) out["valueTwo"] = *value_two;
  return out;
}

Result<Json> parse_rule(const Json& j, const std::string& where, bool* allows_execve) {
  if (!j.is_object()) return invalid(where + ": expected an object");
  JsonReader r(j, where);
  read_comment(r, j);
  const std::vector<std::string> names = r.str_array("names", kMaxNamesPerRule, 64);
  if (r.ok() && names.empty()) r.fail("names", "expected at least one system call");
  for (const auto& n : names) {
    if (!r.ok()) break;
    if (!valid_syscall_name(n)) r.fail("names", "\"" + n + "\" is not a system call name ([a-z0-9_], 1-64)");
  }
  const std::string action = r.str("action", 64);
  if (r.ok() && !one_of(action, kActions)) r.fail("action", "unknown action \"" + action + "\"");
  const auto errno_ret = r.opt_i64("errnoRet", 1, 4095);
  if (r.ok() && errno_ret && action != "SCMP_ACT_ERRNO") r.fail("errnoRet", "only with SCMP_ACT_ERRNO");
  Json args = Json::array();
  if (j.contains("args")) {
    const Json& a = r.array("args", kMaxArgs);
    for (size_t i = 0; i < a.size() && r.ok(); ++i) {
      auto arg = parse_arg(a[i], r.path("args[" + std::to_string(i) + "]"));
      if (!arg) {
        r.absorb(tl::make_unexpected(arg.error()));
        break;
      }
      args.push_back(std::move(*arg));
    }
  }
  XOP_RETURN_IF_ERROR(r.finish());
  if (action == "SCMP_ACT_ALLOW" && args.empty() && std::find(names.begin(), names.end(), "execve") != names.end()) {
    *allows_execve = true;
  }
  Json out = {{"names", names}, {"action", action}};
  if (errno_ret) out["errnoRet"] = *errno_ret;
  if (!args.empty()) out["args"] = std::move(args);
  return out;
}

}  // namespace

Result<Json> parse_seccomp_profile(std::string_view text) {
  if (text.size() > kMaxSeccompProfileBytes) {
    return invalid("seccomp profile: larger than " + std::to_string(kMaxSeccompProfileBytes) + " bytes");
  }
  auto doc = parse_json(text, 8);
  if (!doc) return invalid("seccomp profile: " + doc.error().message);
  if (!doc->is_object()) return invalid("seccomp profile: expected a JSON object");
  const Json& j = *doc;
  JsonReader r(j, "seccomp");
  read_comment(r, j);
  const std::string def = r.str("defaultAction", 64);
  if (r.ok() && !one_of(def, kDefaultActions)) {
    r.fail("defaultAction", "\"" + def + "\" lets unlisted calls through; expected an allow list (SCMP_ACT_ERRNO)");
  }
  const auto def_errno = r.opt_i64("defaultErrnoRet", 1, 4095);
  if (r.ok() && def_errno && def != "SCMP_ACT_ERRNO") r.fail("defaultErrnoRet", "only with SCMP_ACT_ERRNO");
  const std::vector<std::string> archs = r.str_array("architectures", 16, 64);
  if (r.ok() && archs.empty()) r.fail("architectures", "expected at least one");
  for (const auto& a : archs) {
    if (!r.ok()) break;
    if (!one_of(a, kArchitectures)) r.fail("architectures", "unknown architecture \"" + a + "\"");
  }
  Json rules = Json::array();
  bool allows_execve = false;
  const Json& sys = r.array("syscalls", kMaxRules);
  if (r.ok() && sys.empty()) r.fail("syscalls", "expected at least one rule");
  for (size_t i = 0; i < sys.size() && r.ok(); ++i) {
    auto rule = parse_rule(sys[i], r.path("syscalls[" + std::to_string(i) + "]"), &allows_execve);
    if (!rule) {
      r.absorb(tl::make_unexpected(rule.error()));
      break;
    }
    rules.push_back(std::move(*rule));
  }
  XOP_RETURN_IF_ERROR(r.finish());
  if (!allows_execve) return invalid("seccomp.syscalls: execve is not allowed unconditionally; no session could start");
  Json out = {{"defaultAction", def}, {"architectures", archs}, {"syscalls", std::move(rules)}};
  if (def_errno) out["defaultErrnoRet"] = *def_errno;
  return out;
}

std::string_view default_seccomp_profile_text() { return kDefaultSeccompProfileJson; }

Result<Json> default_seccomp_profile() {
  static const Result<Json> parsed = parse_seccomp_profile(default_seccomp_profile_text());
  return parsed;
}

Result<Json> load_seccomp_profile(const std::string& path) {
  if (path.empty()) {
    auto d = default_seccomp_profile();
    if (!d) return invalid("the built-in seccomp profile: " + d.error().message);
    return d;
  }
  XOP_ASSIGN_OR_RETURN(std::string text, read_file_capped(path, kMaxSeccompProfileBytes));
  auto p = parse_seccomp_profile(text);
  if (!p) return invalid(path + ": " + p.error().message);
  return p;
}

}  // namespace xop
