#include "xis/xis_peers.h"

#include "client/corp_client.h"
#include "client/server_client.h"
#include "crypto/keys.h"
#include "net/http_client.h"

namespace xop {

Result<RegistryLookup> corp_registry(const std::string& corp_url, Connector connector) {
  XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(corp_url));
  return RegistryLookup([ep, connector = std::move(connector)](
                            const std::string& server_id) -> Result<std::optional<ServerRegistration>> {
    if (!is_account_id(server_id)) return std::optional<ServerRegistration>{};
    // Unsigned (no key), over a transport of its own.
    return CorpClient(ApiClient(connector(ep), ep, std::nullopt)).server_registration(server_id);
  });
}

EndpointKeyLookup endpoint_key(Connector connector) {
  return [connector = std::move(connector)](const std::string& endpoint_url) -> Result<std::string> {
    XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(endpoint_url));
    return ServerClient(ApiClient(connector(ep), ep, std::nullopt)).info_key();
  };
}

Result<RegistryLookup> corp_registry(const std::string& corp_url, std::chrono::milliseconds timeout) {
  return corp_registry(corp_url, [timeout](const Endpoint& ep) -> std::shared_ptr<Transport> {
    return std::make_shared<HttpClient>(ep, timeout, kMaxRegistryAnswer + 4096);
  });
}

EndpointKeyLookup http_endpoint_key(std::chrono::milliseconds timeout) {
  return endpoint_key([timeout](const Endpoint& ep) -> std::shared_ptr<Transport> {
    return std::make_shared<HttpClient>(ep, timeout, kMaxInfoAnswer);
  });
}

}  // namespace xop
