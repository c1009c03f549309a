// Maps (method, path pattern) to handlers. Patterns are literal segments and {name} segments,
// e.g. "/v1/sessions/{id}". Unknown paths get 404, known paths with another method 405, both
// as JSON errors. Each route has its own body-size limit, checked before the body is read, and
// an access rule: kSigned routes need a valid request signature, which HttpServer checks from
// the headers BEFORE reading any body byte (401 otherwise); kOptional routes check a signature
// only when one is sent; kPublic routes check nothing (a handler may still call authenticate()).
// docs/api/*.yaml must agree: a test compares each route's access with the OpenAPI `security`.
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

enum class Access { kPublic, kSigned, kOptional };
// A route whose body HttpServer streams to a file in its spool directory (HttpRequest::body_file)
// instead of memory.
inline constexpr bool kSpoolBody = true;

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    size_t max_body;
    Handler handler;
    Access access = Access::kPublic;
    bool spool = false;
  };

  void add(std::string method, std::string pattern, Handler h, size_t max_body = kDefaultMaxBody,
           Access access = Access::kPublic, bool spool = false);
  // The verifier of kSigned and kOptional routes (the service's own audience). Must outlive
  // every use of the router.
  void set_verifier(RequestVerifier* v) { verifier_ = v; }
  [[nodiscard]] RequestVerifier* verifier() const { return verifier_; }
  // The route a request line names, or null.
  [[nodiscard]] const Route* find(const std::string& method, const std::string& path) const;
  // Never throws: handler exceptions become 500 JSON errors.
  [[nodiscard]] HttpResponse dispatch(const HttpRequest& req) const;
  // The body limit for a request line; the default for unknown routes.
  [[nodiscard]] size_t body_limit(const std::string& method, const std::string& path) const;
  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

 private:
  static HttpResponse call(const Route& r, const HttpRequest& req, const PathParams& params);
  const Route* match(const std::string& method, const std::string& path, PathParams* params, bool* path_known) const;
  std::vector<Route> routes_;
  RequestVerifier* verifier_ = nullptr;
};

}  // namespace xop
