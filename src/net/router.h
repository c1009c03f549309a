// Maps (method, path pattern) to handlers. Patterns are literal segments and {name} segments,
// e.g. "/v1/sessions/{id}". Unknown paths get 404, known paths with another method 405, both
// as JSON errors. Each route has its own body-size limit, checked before the body is read.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "net/http.h"

namespace xop {

using PathParams = std::map<std::string, std::string>;
using Handler = std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

inline constexpr size_t kDefaultMaxBody = 1 << 20;  // 1 MiB

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    size_t max_body;
    Handler handler;
  };

  void add(std::string method, std::string pattern, Handler h, size_t max_body = kDefaultMaxBody);
  // Never throws: handler exceptions become 500 JSON errors.
  [[nodiscard]] HttpResponse dispatch(const HttpRequest& req) const;
  // The body limit for a request line; the default for unknown routes.
  [[nodiscard]] size_t body_limit(const std::string& method, const std::string& path) const;
  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

 private:
  const Route* match(const std::string& method, const std::string& path, PathParams* params, bool* path_known) const;
  std::vector<Route> routes_;
};

}  // namespace xop
