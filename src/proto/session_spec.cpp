#include "proto/session_spec.h"

#include "crypto/digest.h"
#include "proto/charge.h"
#include "proto/purchase_order.h"

namespace xop {

Json to_json(const SessionSpec& s) {
  return Json{
      {"name", s.name}, {"image", s.image}, {"command", s.command}, {"env", s.env}, {"resources", to_json(s.resources)},
      {"pids", s.pids}};
}

Result<SessionSpec> session_spec_from_json(const Json& j) {
  JsonReader r(j, "spec");
  SessionSpec s;
  s.name = r.opt_str("name", 64).value_or("");
  s.image = r.str("image", 80);
  s.command = r.str_array("command", 256, 4096);
  const Json* env = r.opt_object("env");
  const Json& res = r.object("resources");
  s.pids = r.opt_i64("pids", 1, kMaxPids).value_or(64);
  XOP_RETURN_IF_ERROR(r.finish());
  if (!is_oci_digest(s.image)) return invalid("spec.image: must be a sha256 manifest digest");
  for (char c : s.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return invalid("spec.name: only letters, digits, '-', '_' and '.' are allowed");
    }
  }
  if (env != nullptr) {
    if (env->size() > 256) return invalid("spec.env: more than 256 variables");
    for (auto it = env->begin(); it != env->end(); ++it) {
      if (!it.value().is_string()) return invalid("spec.env." + it.key() + ": expected a string");
      if (it.key().empty() || it.key().size() > 256 || it.key().find('=') != std::string::npos ||
          it.key().find('\0') != std::string::npos) {
        return invalid("spec.env: invalid variable name");
      }
      const auto& v = it.value().get_ref<const std::string&>();
      if (v.size() > 4096 || v.find('\0') != std::string::npos)
        return invalid("spec.env." + it.key() + ": invalid value");
      s.env[it.key()] = v;
    }
  }
  for (const auto& a : s.command) {
    if (a.find('\0') != std::string::npos) return invalid("spec.command: NUL byte in argument");
  }
  XOP_ASSIGN_OR_RETURN(s.resources, resources_from_json(res, "spec.resources"));
  if (s.resources.cpu_millis < 1 || s.resources.cpu_millis > kMaxCpuMillis) {
    return invalid("spec.resources.cpu_millis: must be at least 1");
  }
  if (s.resources.memory_bytes < (4 << 20) || s.resources.memory_bytes > kMaxMemoryBytes) {
    return invalid("spec.resources.memory_bytes: must be at least 4 MiB");
  }
  if (s.resources.disk_bytes > kMaxDiskBytes || s.resources.net_bps > kMaxNetBps) {
    return invalid("spec.resources: out of range");
  }
  return s;
}

Json to_json(const CreateSessionRequest& r) {
  return Json{{"spec", to_json(r.spec)}, {"purchase_order", r.purchase_order.to_json()}};
}

Result<CreateSessionRequest> create_session_request_from_json(const Json& j) {
  JsonReader r(j, "request");
  const Json& spec = r.object("spec");
  const Json& po = r.object("purchase_order");
  XOP_RETURN_IF_ERROR(r.finish());
  CreateSessionRequest out;
  XOP_ASSIGN_OR_RETURN(out.spec, session_spec_from_json(spec));
  XOP_ASSIGN_OR_RETURN(out.purchase_order, SignedDoc::from_json(po, kPurchaseOrderType));
  return out;
}

}  // namespace xop
