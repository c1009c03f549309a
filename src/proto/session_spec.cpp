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

Json to_json(const SessionSpec& s) { return session_spec_schema().encode(s); }
Result<SessionSpec> session_spec_from_json(const Json& j) { return session_spec_schema().decode(j); }
Json to_json(const CreateSessionRequest& r) { return create_session_request_schema().encode(r); }
Result<CreateSessionRequest> create_session_request_from_json(const Json& j) {
  return create_session_request_schema().decode(j);
}

}  // namespace xop
