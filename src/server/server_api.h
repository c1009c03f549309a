// The XenoServer HTTP API (docs/api/server.yaml): info, image blobs, sessions.
#pragma once

#include <functional>
#include <memory>

#include "crypto/request_signature.h"
#include "net/router.h"
#include "server/image_store.h"
#include "server/session_manager.h"

namespace xop {

struct ServerApiDeps {
  SessionManager* sessions = nullptr;
  ImageStore* images = nullptr;
  RequestVerifier* verifier = nullptr;
  const Clock* clock = nullptr;  // expiry of blob grants; default: the system clock
  std::function<Json()> info;    // GET /v1/info body
  // GET /v1/status body for the authenticated `caller` (account id): the owner's view of the
  // server; refuses anyone but the server's owner and the server's own key (kPermissionDenied).
  // Unset: the route answers 404.
  std::function<Result<Json>(const std::string& caller)> status;
  // Account ids that may evict (DELETE) any session on this server: its owner and its own key.
  // Empty: only a session's user stops it.
  std::vector<std::string> evictors;
};

std::shared_ptr<Router> make_server_api(ServerApiDeps deps);

Json to_json(const SessionView& v);

}  // namespace xop
