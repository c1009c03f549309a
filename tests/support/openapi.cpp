#include "support/openapi.h"

#include <yaml-cpp/yaml.h>

#include <cctype>

namespace xop::testing {

namespace {
// An empty list, or a list with an empty requirement ({}), means no signature is required.
bool required(const YAML::Node& sec) {
  if (!sec || !sec.IsSequence() || sec.size() == 0) return false;
  for (const auto& req : sec) {
    if (req.IsMap() && req.size() == 0) return false;
  }
  return true;
}
// A list with both an empty requirement and a non-empty one: a signature is optional.
bool optional(const YAML::Node& sec) {
  if (!sec || !sec.IsSequence()) return false;
  bool empty = false;
  bool some = false;
  for (const auto& req : sec) {
    if (req.IsMap() && req.size() == 0) {
      empty = true;
    } else {
      some = true;
    }
  }
  return empty && some;
}
}  // namespace

std::vector<std::string> openapi_error_codes(const std::string& service) {
  const YAML::Node doc = YAML::LoadFile(std::string(XOP_SOURCE_DIR) + "/docs/api/" + service + ".yaml");
  const YAML::Node e = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
  std::vector<std::string> out;
  if (!e || !e.IsSequence()) return out;
  for (const auto& c : e) out.push_back(c.as<std::string>());
  return out;
}

std::vector<ApiOperation> load_openapi(const std::string& service) {
  const YAML::Node doc = YAML::LoadFile(std::string(XOP_SOURCE_DIR) + "/docs/api/" + service + ".yaml");
  std::vector<ApiOperation> out;
  for (const auto& p : doc["paths"]) {
    for (const auto& op : p.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters") continue;
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      ApiOperation o{method, p.first.as<std::string>()};
      const YAML::Node sec = op.second["security"] ? op.second["security"] : doc["security"];
      o.signature_required = required(sec);
      o.signature_optional = optional(sec);
      if (op.second["requestBody"]) {
        const auto content = op.second["requestBody"]["content"];
        o.json_body = static_cast<bool>(content["application/json"]);
        o.binary_body = static_cast<bool>(content["application/octet-stream"]);
      }
      for (const auto& r : op.second["responses"]) {
        o.has_success_response = o.has_success_response || r.first.as<std::string>().rfind('2', 0) == 0;
      }
      out.push_back(std::move(o));
    }
  }
  return out;
}

RouteSet documented_routes(const std::vector<ApiOperation>& ops) {
  RouteSet s;
  for (const auto& o : ops) s.emplace(o.method, o.path);
  return s;
}

RouteSet served_routes(const Router& router) {
  RouteSet s;
  for (const auto& r : router.routes()) s.emplace(r.method, r.pattern);
  return s;
}

AccessSet documented_access(const std::vector<ApiOperation>& ops) {
  AccessSet s;
  for (const auto& o : ops) {
    s.emplace(o.method, o.path, o.signature_required ? "signed" : o.signature_optional ? "optional" : "public");
  }
  return s;
}

AccessSet served_access(const Router& router) {
  AccessSet s;
  for (const auto& r : router.routes()) {
    s.emplace(r.method, r.pattern,
              r.access == Access::kSigned     ? "signed"
              : r.access == Access::kOptional ? "optional"
                                              : "public");
  }
  return s;
}

}  // namespace xop::testing
