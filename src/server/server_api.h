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
};

std::shared_ptr<Router> make_server_api(ServerApiDeps deps);

Json to_json(const SessionView& v);

}  // namespace xop
