#include "client/connector.h"

#include "net/http_client.h"

namespace xop {

Connector http_connector() {
  return [](const Endpoint& ep) -> std::shared_ptr<Transport> { return std::make_shared<HttpClient>(ep); };
}

}  // namespace xop
