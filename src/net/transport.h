// How a client's request reaches a service: over HTTP (HttpClient), or in-process to a Router
// (RouterTransport, for the simulated platform of issue 13.3). One contract for both, so callers
// such as ApiClient run the same code whichever carries their requests.
#pragma once

#include <map>
#include <string>

#include "core/result.h"
#include "net/http.h"

namespace xop {

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request and returns the service's answer. Failing to reach the service is
  // kUnavailable; any HTTP status (including 4xx/5xx) is a successful Result. Safe to call from
  // several threads.
  virtual Result<HttpResponse> request(const std::string& method, const std::string& target, const std::string& body,
                                       const std::map<std::string, std::string>& headers) = 0;
};

}  // namespace xop
