#include "net/router_transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/digest.h"
#include "net/request_gate.h"

namespace xop {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A spooled body's file, removed when it goes out of scope (as HttpServer's).
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

}  // namespace

RouterTransport::RouterTransport(std::shared_ptr<const Router> router, std::string remote, std::string spool_dir)
    : router_(std::move(router)), remote_(std::move(remote)), spool_dir_(std::move(spool_dir)) {}

HttpResponse RouterTransport::serve(HttpRequest req, const std::string& body) {
  const Router::Route* route = router_->find(req.method, req.path);
  if (auto refusal = gate_head(*router_, route, req, body.size())) return error_response(*refusal);
  if (route == nullptr) return router_->dispatch(req);  // 404 or 405, body unread
  TempFile spooled;
  if (route->spool && !body.empty()) {
    std::string tmpl =
        (spool_dir_.empty() ? std::filesystem::temp_directory_path().string() : spool_dir_) + "/xop-spool-XXXXXX";
    const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) return error_response(ErrorCode::kInternal, "cannot store the request body");
    spooled.path = tmpl;
    const bool ok = write_all(fd, body);
    ::close(fd);
    if (!ok) return error_response(ErrorCode::kInternal, "cannot store the request body");
    req.body_file = spooled.path;
    req.body_size = body.size();
  } else {
    req.body = body;
  }
  if (auto e = gate_body(req, sha256_hex(body))) return error_response(*e);
  return router_->dispatch(req);
}

Result<HttpResponse> RouterTransport::request(const std::string& method, const std::string& target,
                                              const std::string& body,
                                              const std::map<std::string, std::string>& headers) {
  HttpRequest req;
  req.method = method;
  req.target = target;
  const auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = parse_query(std::string_view(target).substr(q + 1));
  for (const auto& [k, v] : headers) req.headers[lower(k)] = v;
  req.remote = remote_;
  HttpResponse res = serve(std::move(req), body);

  // What HttpClient would have returned.
  HttpResponse out;
  out.status = res.status;
  if (!res.body_file.empty()) {
    std::ifstream in(res.body_file, std::ios::binary);
    if (!in) {
      res = error_response(ErrorCode::kNotFound, "the requested content is gone");
      out.status = res.status;
      out.body = res.body;
    } else {
      std::ostringstream ss;
      ss << in.rdbuf();
      out.body = ss.str();
    }
  } else {
    out.body = std::move(res.body);
  }
  if (method == "HEAD") out.body.clear();
  out.headers["server"] = "xop";
  out.headers["content-type"] = res.content_type;
  for (const auto& [k, v] : res.headers) out.headers[lower(k)] = v;
  if (auto aud = refused_audience(*router_, res.status); !aud.empty()) out.headers[kHeaderAudience] = aud;
  out.content_type = out.headers["content-type"];
  return out;
}

}  // namespace xop
