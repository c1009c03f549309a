// The typed client of a XenoServer's API (docs/api/server.yaml): blobs and sessions, answers
// strictly decoded by proto/server_answers.h through client/typed_call.h. The only place outside
// the server that knows its paths. Errors as for CorpClient (client/corp_client.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/api_client.h"
#include "proto/peer_answers.h"
#include "proto/server_answers.h"
#include "proto/server_status.h"
#include "proto/session_spec.h"

namespace xop {

class ServerClient {
 public:
  explicit ServerClient(ApiClient api) : api_(std::move(api)) {}
  static Result<ServerClient> connect(const std::string& url, std::optional<KeyPair> key,
                                      const Clock& clock = SystemClock::instance(), const Connector& connector = {});

  ApiClient& api() { return api_; }

  // GET /v1/info as XIS asks it of an advertised endpoint it does not trust (xis/xis_peers.h): the
  // base64 public key of the server answering there, decoded by decode_info_key
  // (proto/peer_answers.h) under its cap of kMaxInfoAnswer bytes. Errors are kInvalidArgument
  // saying why in words fit for XIS's refusal ("it cannot be reached: ...", "its /v1/info
  // answered 503", "its /v1/info answer is too large").
  Result<std::string> info_key();
  // GET /v1/status: the owner's view of the server (signed by its owner or the server's key).
  Result<ServerStatusView> status();

  // HEAD /v1/blobs/{digest}: true when the server has the blob and lets the caller read it.
  Result<bool> has_blob(const std::string& digest);
  // PUT /v1/blobs/{digest}.
  Result<BlobStored> put_blob(const std::string& digest, const std::string& data);
  Result<SessionInfo> create_session(const CreateSessionRequest& req);  // POST /v1/sessions
  Result<std::vector<SessionInfo>> sessions();                          // GET /v1/sessions (the caller's)
  Result<SessionInfo> session(const std::string& id);                   // GET /v1/sessions/{id}
  Result<SessionInfo> stop_session(const std::string& id);              // DELETE /v1/sessions/{id}
  Result<std::string> logs(const std::string& id);                      // GET /v1/sessions/{id}/logs

  static constexpr size_t kMaxStatusBytes = size_t{64} << 20;
  static constexpr size_t kMaxSessionsBytes = size_t{64} << 20;

 private:
  ApiClient api_;
};

}  // namespace xop
