#include "proto/session_spec.h"

#include "crypto/digest.h"
#include "proto/charge.h"
#include "proto/doc_fields.h"
#include "proto/purchase_order.h"

namespace xop {

namespace {

// The environment: at most 256 variables, names non-empty without '=' or NUL, values strings
// without NUL (each of at most 256 and 4096 characters). Absent reads as empty.
void decode_env(JsonReader& r, SessionSpec& s, const char* k) {
  const Json* env = r.opt_object(k);
  if (env == nullptr || !r.ok()) return;
  if (env->size() > 256) return r.fail(k, "more than 256 variables");
  for (auto it = env->begin(); it != env->end(); ++it) {
    if (!it.value().is_string()) return r.fail(std::string(k) + "." + it.key(), "expected a string");
    if (it.key().empty() || it.key().size() > 256 || it.key().find('=') != std::string::npos ||
        it.key().find('\0') != std::string::npos) {
      return r.fail(k, "invalid variable name");
    }
    const auto& v = it.value().get_ref<const std::string&>();
    if (v.size() > 4096 || v.find('\0') != std::string::npos)
      return r.fail(std::string(k) + "." + it.key(), "invalid value");
    s.env[it.key()] = v;
  }
}

std::string check_port(const PortSpec& p) {
  if (p.name.empty() || p.name.size() > 32) return ".name: 1 to 32 characters";
  for (char c : p.name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return ".name: only lower-case letters, digits and '-' are allowed";
    }
  }
  if (p.protocol != "tcp" && p.protocol != "udp") return ".protocol: must be tcp or udp";
  return "";
}

// ports: an optional array of at most kMaxPublishedPorts PortSpec, names and (port, protocol)
// unique; `where` is the array's path. Absent reads as none; none is written as absent (so older
// specs keep their bytes). Decoded outside the schema's table (session_spec_from_json) because the
// reader has no optional arrays.
Result<std::vector<PortSpec>> decode_ports(const Json& raw, const std::string& where) {
  if (raw.is_null()) return std::vector<PortSpec>{};
  if (!raw.is_array()) return invalid(where + ": expected an array");
  if (raw.size() > kMaxPublishedPorts) {
    return invalid(where + ": more than " + std::to_string(kMaxPublishedPorts) + " items");
  }
  std::vector<PortSpec> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    XOP_ASSIGN_OR_RETURN(PortSpec p, port_spec_schema().decode(raw[i], at));
    for (const auto& q : out) {
      if (q.name == p.name) return invalid(at + ".name: duplicate name");
      if (q.port == p.port && q.protocol == p.protocol) return invalid(at + ".port: port and protocol listed twice");
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string check_spec(const SessionSpec& s) {
  if (!is_oci_digest(s.image)) return ".image: must be a sha256 manifest digest";
  for (char c : s.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return ".name: only letters, digits, '-', '_' and '.' are allowed";
    }
  }
  for (const auto& a : s.command) {
    if (a.find('\0') != std::string::npos) return ".command: NUL byte in argument";
  }
  if (s.resources.cpu_millis < 1 || s.resources.cpu_millis > kMaxCpuMillis) {
    return ".resources.cpu_millis: must be at least 1";
  }
  if (s.resources.memory_bytes < (4 << 20) || s.resources.memory_bytes > kMaxMemoryBytes) {
    return ".resources.memory_bytes: must be at least 4 MiB";
  }
  if (s.resources.disk_bytes > kMaxDiskBytes || s.resources.net_bps > kMaxNetBps) return ".resources: out of range";
  return "";
}

}  // namespace

const Schema<PortSpec>& port_spec_schema() {
  static const auto s = Schema<PortSpec>("port")
                            .str("name", &PortSpec::name, 32)
                            .i64("port", &PortSpec::port, 1, 65535)
                            .str_or("protocol", &PortSpec::protocol, "tcp", 8)
                            .check(check_port);
  return s;
}

const Schema<SessionSpec>& session_spec_schema() {
  static const auto s = Schema<SessionSpec>("spec")
                            .str_or("name", &SessionSpec::name, "", 64)
                            .str("image", &SessionSpec::image, 80)
                            .str_array("command", &SessionSpec::command, 256, 4096)
                            .custom(
                                "env", [](const SessionSpec& v) { return Json(v.env); }, decode_env)
                            .object("resources", &SessionSpec::resources, resources_schema())
                            .i64_or("pids", &SessionSpec::pids, 64, 1, kMaxPids)
                            .check(check_spec);
  return s;
}

const Schema<CreateSessionRequest>& create_session_request_schema() {
  static const auto s = Schema<CreateSessionRequest>("request")
                            // The spec's errors name it "spec.…", as a spec alone.
                            .object_with<SessionSpec>(
                                "spec", &CreateSessionRequest::spec, [](const SessionSpec& v) { return to_json(v); },
                                [](const Json& j, const std::string&) { return session_spec_from_json(j); })
                            .object_with<SignedDoc>("purchase_order", &CreateSessionRequest::purchase_order,
                                                    signed_doc_json, signed_doc_of(kPurchaseOrderType));
  return s;
}

Json to_json(const SessionSpec& s) {
  Json j = session_spec_schema().encode(s);
  if (!s.ports.empty()) {
    Json a = Json::array();
    for (const auto& p : s.ports) a.push_back(port_spec_schema().encode(p));
    j["ports"] = std::move(a);
  }
  return j;
}
Result<SessionSpec> session_spec_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("ports")) return session_spec_schema().decode(j);
  Json rest = j;
  rest.erase("ports");
  XOP_ASSIGN_OR_RETURN(SessionSpec s, session_spec_schema().decode(rest));
  XOP_ASSIGN_OR_RETURN(s.ports, decode_ports(j["ports"], "spec.ports"));
  return s;
}
Json to_json(const CreateSessionRequest& r) { return create_session_request_schema().encode(r); }
Result<CreateSessionRequest> create_session_request_from_json(const Json& j) {
  return create_session_request_schema().decode(j);
}

}  // namespace xop
