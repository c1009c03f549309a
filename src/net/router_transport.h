// A Transport that hands each request to a Router in the same process, with no socket: the
// building block of the simulated platform (issue 13.3), where every daemon runs in one process
// on a simulated clock. Requests pass the same gate as HttpServer's (net/request_gate.h: route
// lookup, the signature checked from the headers before the body, the route's body limit, the
// body digest, public/signed/optional access); header names are lower-cased as the server does;
// a spooled route gets its body in a temporary file (removed after the handler returns). The
// answer looks as HttpClient would return it: lower-case header names with content-type, a
// body_file answer read into the body, no body for HEAD, the audience hint on a 401.
// Not modelled: connection and spool quotas, timeouts, transfer rates.
#pragma once

#include <memory>
#include <string>

#include "net/router.h"
#include "net/transport.h"

namespace xop {

class RouterTransport : public Transport {
 public:
  // `remote` is what handlers see as HttpRequest::remote; `spool_dir` where spooled bodies go
  // (empty: the system temp dir).
  explicit RouterTransport(std::shared_ptr<const Router> router, std::string remote = "in-process",
                           std::string spool_dir = "");

  Result<HttpResponse> request(const std::string& method, const std::string& target, const std::string& body,
                               const std::map<std::string, std::string>& headers) override;

 private:
  HttpResponse serve(HttpRequest req, const std::string& body);
  std::shared_ptr<const Router> router_;
  std::string remote_;
  std::string spool_dir_;
};

}  // namespace xop
