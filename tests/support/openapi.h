// Reading the OpenAPI files in docs/api/ for tests: the operations a service documents (with
// whether each needs a signature and what body it takes), to compare with what its router
// serves and to drive tests over every endpoint.
#pragma once

#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "net/router.h"

namespace xop::testing {

struct ApiOperation {
  std::string method;               // upper case, e.g. "POST"
  std::string path;                 // the documented pattern, e.g. "/v1/sessions/{id}"
  bool signature_required = false;  // effective OpenAPI security (operation's, else the document's)
  bool signature_optional = false;  // security lists both {} and a signature requirement
  bool json_body = false;
  bool binary_body = false;
  bool has_success_response = false;  // some 2xx documented
};

// docs/api/<service>.yaml
std::vector<ApiOperation> load_openapi(const std::string& service);

// The `code` enum of the document's Error schema (components.schemas.Error: {error: {code,
// message}}); empty when the schema or its enum is missing.
std::vector<std::string> openapi_error_codes(const std::string& service);

using RouteSet = std::set<std::pair<std::string, std::string>>;  // (METHOD, pattern)
RouteSet documented_routes(const std::vector<ApiOperation>& ops);
RouteSet served_routes(const Router& router);

// (METHOD, pattern, "public" | "signed" | "optional"): what the OpenAPI security says, and what
// the router enforces before reading a body (Router::Access). They must agree.
using AccessSet = std::set<std::tuple<std::string, std::string, std::string>>;
AccessSet documented_access(const std::vector<ApiOperation>& ops);
AccessSet served_access(const Router& router);

}  // namespace xop::testing
