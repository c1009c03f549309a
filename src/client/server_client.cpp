#include "client/server_client.h"

#include "client/typed_call.h"

namespace xop {

Result<ServerClient> ServerClient::connect(const std::string& url, std::optional<KeyPair> key, const Clock& clock,
                                           const Connector& connector) {
  XOP_ASSIGN_OR_RETURN(auto api, ApiClient::connect(url, std::move(key), clock, connector));
  return ServerClient(std::move(api));
}

Result<std::string> ServerClient::info_key() {
  auto r = api_.call_raw("GET", "/v1/info", "");
  if (!r) return invalid("it cannot be reached: " + r.error().message);
  if (r->status != 200) return invalid("its /v1/info answered " + std::to_string(r->status));
  return decode_info_key(r->body);
}

Result<ServerStatusView> ServerClient::status() {
  return call_typed<ServerStatusView>(api_, "GET", "/v1/status", nullptr, decode_server_status, kMaxStatusBytes);
}

Result<bool> ServerClient::has_blob(const std::string& digest) {
  XOP_RETURN_IF_ERROR(check_path_segment(digest.starts_with("sha256:") ? digest.substr(7) : digest, "digest"));
  XOP_ASSIGN_OR_RETURN(auto res, api_.call_raw("HEAD", "/v1/blobs/" + digest, ""));
  return res.status == 200;
}

Result<BlobStored> ServerClient::put_blob(const std::string& digest, const std::string& data) {
  XOP_RETURN_IF_ERROR(check_path_segment(digest.starts_with("sha256:") ? digest.substr(7) : digest, "digest"));
  const std::string target = "/v1/blobs/" + digest;
  XOP_ASSIGN_OR_RETURN(auto res, api_.call_raw("PUT", target, data, "application/octet-stream"));
  if (res.status < 200 || res.status >= 300) return tl::make_unexpected(error_from_response(res.status, res.body));
  if (res.body.size() > kMaxAnswerBytes)
    return tl::make_unexpected(malformed_answer("PUT", target, "answer too large"));
  auto j = parse_json(res.body, 64);
  if (!j) return tl::make_unexpected(malformed_answer("PUT", target, "not JSON"));
  auto b = decode_blob_stored(*j);
  if (!b) return tl::make_unexpected(malformed_answer("PUT", target, b.error().message));
  return b;
}

Result<SessionInfo> ServerClient::create_session(const CreateSessionRequest& req) {
  return call_typed<SessionInfo>(api_, "POST", "/v1/sessions", to_json(req), decode_session_answer);
}

Result<std::vector<SessionInfo>> ServerClient::sessions() {
  return call_typed<std::vector<SessionInfo>>(api_, "GET", "/v1/sessions", nullptr, decode_sessions_answer,
                                              kMaxSessionsBytes);
}

Result<SessionInfo> ServerClient::session(const std::string& id) {
  XOP_RETURN_IF_ERROR(check_path_segment(id, "session id"));
  return call_typed<SessionInfo>(api_, "GET", "/v1/sessions/" + id, nullptr, decode_session_answer);
}

Result<SessionInfo> ServerClient::stop_session(const std::string& id) {
  XOP_RETURN_IF_ERROR(check_path_segment(id, "session id"));
  return call_typed<SessionInfo>(api_, "DELETE", "/v1/sessions/" + id, nullptr, decode_session_answer);
}

Result<std::string> ServerClient::logs(const std::string& id) {
  XOP_RETURN_IF_ERROR(check_path_segment(id, "session id"));
  return call_typed<std::string>(api_, "GET", "/v1/sessions/" + id + "/logs", nullptr, decode_logs_answer);
}

}  // namespace xop
