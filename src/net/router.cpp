#include "net/router.h"

#include <exception>

#include "core/log.h"

namespace xop {
namespace {
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const auto j = path.find('/', i);
    out.push_back(path.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j;
  }
  return out;
}
}  // namespace

void Router::add(std::string method, std::string pattern, Handler h, size_t max_body, Access access, bool spool) {
  auto segs = split_path(pattern);
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(segs), max_body, std::move(h), access, spool});
}

const Router::Route* Router::find(const std::string& method, const std::string& path) const {
  PathParams p;
  bool known = false;
  return match(method, path, &p, &known);
}

const Router::Route* Router::match(const std::string& method, const std::string& path, PathParams* params,
                                   bool* path_known) const {
  const auto segs = split_path(path);
  *path_known = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    PathParams p;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const auto& pat = r.segments[i];
      if (pat.size() > 2 && pat.front() == '{' && pat.back() == '}') {
        p[pat.substr(1, pat.size() - 2)] = segs[i];
      } else {
        ok = pat == segs[i];
      }
    }
    if (!ok) continue;
    *path_known = true;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      *params = std::move(p);
      return &r;
    }
  }
  return nullptr;
}

size_t Router::body_limit(const std::string& method, const std::string& path) const {
  PathParams p;
  bool known = false;
  const auto* r = match(method, path, &p, &known);
  return r != nullptr ? r->max_body : kDefaultMaxBody;
}

HttpResponse Router::dispatch(const HttpRequest& req) const {
  PathParams params;
  bool known = false;
  const auto* r = match(req.method, req.path, &params, &known);
  if (r == nullptr) {
    if (known) return error_response(ErrorCode::kMethodNotAllowed, req.method + " is not allowed on " + req.path);
    return error_response(ErrorCode::kNotFound, "no such endpoint: " + req.path);
  }
  const bool check =
      r->access == Access::kSigned || (r->access == Access::kOptional && !req.header(kHeaderSignature).empty());
  if (check && !req.caller) {
    // Not verified by HttpServer (e.g. a request dispatched directly): verify headers and body here.
    if (verifier_ == nullptr) return error_response(ErrorCode::kInternal, "route needs a verifier; none is set");
    auto key = verifier_->verify(req.method, req.target, req.signature(), req.body);
    if (!key) return error_response(key.error());
    HttpRequest verified = req;
    verified.caller = std::move(*key);
    return call(*r, verified, params);
  }
  return call(*r, req, params);
}

HttpResponse Router::call(const Route& r, const HttpRequest& req, const PathParams& params) {
  try {
    return r.handler(req, params);
  } catch (const std::exception& e) {
    XOP_LOG_ERROR("handler {} {} threw: {}", req.method, req.path, e.what());
    return error_response(ErrorCode::kInternal, "internal error");
  } catch (...) {
    XOP_LOG_ERROR("handler {} {} threw a non-standard exception", req.method, req.path);
    return error_response(ErrorCode::kInternal, "internal error");
  }
}

}  // namespace xop
