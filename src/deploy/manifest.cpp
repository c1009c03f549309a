#include "deploy/manifest.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/file_util.h"
#include "core/units.h"

namespace xop {

namespace {

// Strict access to one YAML mapping, like JsonReader.
class YamlReader {
 public:
  YamlReader(const YAML::Node& n, std::string where) : n_(n), where_(std::move(where)) {
    if (!n_.IsMap()) fail("", "expected a mapping");
  }
  YAML::Node get(const char* key) {
    seen_.insert(key);
    if (err_) return YAML::Node();
    return n_[key];
  }
  std::optional<std::string> str(const char* key, size_t max_len) {
    auto v = get(key);
    if (!v || v.IsNull()) return std::nullopt;
    if (!v.IsScalar()) {
      fail(key, "expected a string");
      return std::nullopt;
    }
    auto s = v.as<std::string>();
    if (s.size() > max_len) {
      fail(key, "too long");
      return std::nullopt;
    }
    return s;
  }
  std::optional<int64_t> i64(const char* key, int64_t min, int64_t max) {
    auto v = get(key);
    if (!v || v.IsNull()) return std::nullopt;
    int64_t x = 0;
    if (!v.IsScalar() || !YAML::convert<int64_t>::decode(v, x)) {
      fail(key, "expected an integer");
      return std::nullopt;
    }
    if (x < min || x > max) {
      fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return x;
  }
  // A size: a string with a unit ("64MiB", "1GiB") or an integer count of bytes (core/units.h).
  std::optional<int64_t> size(const char* key, int64_t min, int64_t max) {
    auto v = get(key);
    if (!v || v.IsNull()) return std::nullopt;
    if (!v.IsScalar()) {
      fail(key, "expected a size like \"64MiB\"");
      return std::nullopt;
    }
    auto x = parse_size(v.as<std::string>());
    if (!x) {
      fail(key, x.error().message);
      return std::nullopt;
    }
    if (*x < min || *x > max) {
      fail(key, "must be between " + format_size(min) + " and " + format_size(max));
      return std::nullopt;
    }
    return *x;
  }
  std::optional<double> num(const char* key, double min, double max) {
    auto v = get(key);
    if (!v || v.IsNull()) return std::nullopt;
    double x = 0;
    if (!v.IsScalar() || !YAML::convert<double>::decode(v, x) || !std::isfinite(x)) {
      fail(key, "expected a number");
      return std::nullopt;
    }
    if (x < min || x > max) {
      fail(key, "out of range");
      return std::nullopt;
    }
    return x;
  }
  void fail(const std::string& key, const std::string& what) {
    if (!err_) err_ = Error{ErrorCode::kInvalidArgument, where_ + (key.empty() ? "" : "." + key) + ": " + what};
  }
  void absorb(const Status& s) {
    if (!s && !err_) err_ = s.error();
  }
  Status finish() {
    if (err_) return tl::make_unexpected(*err_);
    for (const auto& kv : n_) {
      const auto k = kv.first.IsScalar() ? kv.first.as<std::string>() : std::string("?");
      if (!seen_.contains(k)) return invalid(where_ + "." + k + ": unknown key");
    }
    return {};
  }

 private:
  const YAML::Node& n_;
  std::string where_;
  std::set<std::string> seen_;
  std::optional<Error> err_;
};

Result<Money> money_field(const YAML::Node& v, const std::string& where) {
  if (!v.IsScalar()) return invalid(where + ": expected an amount of credits like \"1.5\"");
  auto m = parse_credits(v.as<std::string>());
  if (!m) return invalid(where + ": " + m.error().message);
  if (m->micros() <= 0) return invalid(where + ": must be positive");
  return m;
}

}  // namespace

Result<DeployManifest> parse_manifest(std::string_view yaml_text, const std::string& base_dir) {
  if (yaml_text.size() > kMaxManifestBytes) return invalid("manifest larger than 256 KiB");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return invalid("manifest is not valid YAML: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  try {
    DeployManifest m;
    YamlReader r(root, "manifest");
    m.name = r.str("name", 64).value_or("app");
    auto image = r.str("image", 4096);
    auto command = r.get("command");
    auto env = r.get("env");
    auto res = r.get("resources");
    m.count = r.i64("count", 1, 1000).value_or(1);
    auto near = r.get("near");
    auto price = r.get("max_price_per_hour");
    auto budget = r.get("budget");
    auto ports = r.get("ports");
    XOP_RETURN_IF_ERROR(r.finish());
    if (!image || image->empty()) return invalid("manifest.image: required (an OCI image layout directory)");
    m.image = (image->front() == '/' || base_dir.empty()) ? *image : base_dir + "/" + *image;
    if (command && !command.IsNull()) {
      if (!command.IsSequence() || command.size() > 256) return invalid("manifest.command: expected a list of strings");
      for (const auto& a : command) {
        if (!a.IsScalar()) return invalid("manifest.command: expected a list of strings");
        m.command.push_back(a.as<std::string>());
      }
    }
    if (env && !env.IsNull()) {
      if (!env.IsMap() || env.size() > 256) return invalid("manifest.env: expected a mapping of strings");
      for (const auto& kv : env) {
        if (!kv.first.IsScalar() || !kv.second.IsScalar())
          return invalid("manifest.env: expected a mapping of strings");
        m.env[kv.first.as<std::string>()] = kv.second.as<std::string>();
      }
    }
    if (!res || !res.IsMap()) return invalid("manifest.resources: required mapping");
    YamlReader rr(res, "manifest.resources");
    m.resources.cpu_millis = rr.i64("cpu_millis", 1, 1'000'000).value_or(0);
    // memory and disk take sizes with units; memory_mib and disk_mib (integers) are the older form.
    const auto memory = rr.size("memory", 4LL << 20, 1LL << 44);
    const auto memory_mib = rr.i64("memory_mib", 4, 1 << 24);
    const auto disk = rr.size("disk", 0, 1LL << 50);
    const auto disk_mib = rr.i64("disk_mib", 0, 1LL << 30);
    if (memory && memory_mib) rr.fail("memory", "give memory or memory_mib, not both");
    if (disk && disk_mib) rr.fail("disk", "give disk or disk_mib, not both");
    m.resources.memory_bytes = memory ? *memory : memory_mib.value_or(0) << 20;
    m.resources.disk_bytes = disk ? *disk : disk_mib.value_or(0) << 20;
    m.resources.net_bps = rr.i64("net_mbps", 0, 10'000'000).value_or(0) * 1'000'000;
    m.pids = rr.i64("pids", 1, kMaxPids).value_or(64);
    XOP_RETURN_IF_ERROR(rr.finish());
    if (m.resources.cpu_millis == 0) return invalid("manifest.resources.cpu_millis: required");
    if (m.resources.memory_bytes == 0)
      return invalid("manifest.resources.memory: required (e.g. \"64MiB\"; or memory_mib: 64)");
    if (near && !near.IsNull()) {
      YamlReader nr(near, "manifest.near");
      const auto lat = nr.num("lat", -90, 90);
      const auto lon = nr.num("lon", -180, 180);
      XOP_RETURN_IF_ERROR(nr.finish());
      if (!lat || !lon) return invalid("manifest.near: needs lat and lon");
      m.near = GeoPoint{std::llround(*lat * 1e6), std::llround(*lon * 1e6)};
    }
    if (price && !price.IsNull()) {
      XOP_ASSIGN_OR_RETURN(auto p, money_field(price, "manifest.max_price_per_hour"));
      m.max_price_per_hour = p;
    }
    if (!budget || budget.IsNull()) return invalid("manifest.budget: required (credits held per session)");
    XOP_ASSIGN_OR_RETURN(m.budget, money_field(budget, "manifest.budget"));
    if (ports && !ports.IsNull()) {
      if (!ports.IsSequence() || ports.size() > kMaxPublishedPorts) {
        return invalid("manifest.ports: expected a list of at most " + std::to_string(kMaxPublishedPorts) +
                       " {name, port, protocol}");
      }
      for (size_t i = 0; i < ports.size(); ++i) {
        const YAML::Node p = ports[i];
        const std::string where = "manifest.ports[" + std::to_string(i) + "]";
        if (!p.IsMap()) return invalid(where + ": expected a mapping {name, port, protocol}");
        YamlReader pr(p, where);
        PortSpec ps;
        ps.name = pr.str("name", 32).value_or("");
        ps.port = pr.i64("port", 1, 65535).value_or(0);
        ps.protocol = pr.str("protocol", 8).value_or("tcp");
        XOP_RETURN_IF_ERROR(pr.finish());
        if (ps.name.empty()) return invalid(where + ".name: required");
        if (ps.port == 0) return invalid(where + ".port: required");
        m.ports.push_back(std::move(ps));
      }
    }
    // The spec's own validation (names, env, ports) applies too.
    SessionSpec probe;
    probe.name = m.name;
    probe.image = "sha256:" + std::string(64, '0');
    probe.command = m.command;
    probe.env = m.env;
    probe.resources = m.resources;
    probe.pids = m.pids;
    probe.ports = m.ports;
    XOP_RETURN_IF_ERROR(session_spec_from_json(to_json(probe)));
    return m;
  } catch (const YAML::Exception& e) {
    return invalid(std::string("manifest: ") + e.what());
  }
}

Result<DeployManifest> load_manifest(const std::string& path) {
  auto text = read_file_capped(path, kMaxManifestBytes);
  if (!text && text.error().code == ErrorCode::kNotFound) {
    return make_error(ErrorCode::kNotFound, "cannot read manifest " + path);
  }
  if (!text) return invalid("manifest larger than 256 KiB");
  return parse_manifest(*text, std::filesystem::path(path).parent_path().string());
}

}  // namespace xop
