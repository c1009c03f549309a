// The answers of a XenoServer's API (docs/api/server.yaml), declared once: the server encodes
// them with to_json() and client/server_client.h decodes them strictly (unknown, missing or
// mistyped fields are kInvalidArgument naming the field).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json_reader.h"
#include "core/resources.h"

namespace xop {

// A session as the server shows it ({"session": ...} in POST /v1/sessions, GET and DELETE
// /v1/sessions/{id}; items of GET /v1/sessions).
// A published port of a session: its workload's `port` is reached at `endpoint` (the server's
// public host and `host_port`).
struct SessionEndpointInfo {
  std::string name;
  std::string protocol;  // tcp | udp
  int64_t port = 0;
  int64_t host_port = 0;
  std::string endpoint;  // "host:port"
};
// A session's place on its server's session network (absent: loopback only, or released).
struct SessionNetworkInfo {
  std::string address;  // the session's own address on the server's bridge
  std::vector<SessionEndpointInfo> endpoints;
};

struct SessionInfo {
  std::string id;
  std::string user;
  std::string po_id;
  std::string state;
  std::string reason;
  int64_t created_at = 0;
  int64_t started_at = 0;
  int64_t stopped_at = 0;
  Json spec = Json::object();  // the SessionSpec as submitted (proto/session_spec.h)
  int64_t records = 0;         // last usage record sequence number
  Usage usage;
  int64_t memory_bytes = 0;
  int64_t claimed = 0;  // micros
  std::optional<int64_t> exit_code;
  std::string exit_reason;
  // Credit control (absent from older servers: false / 0): the corp's last answer said the
  // session's PO is low on funds; while "frozen", when the server stops it unless it is extended.
  bool low_funds = false;
  int64_t frozen_until = 0;
  std::optional<SessionNetworkInfo> network;
};
Json to_json(const SessionInfo& s);
Result<SessionInfo> decode_session_info(const Json& j, const std::string& where = "session");
// {"session": <SessionInfo>}.
Json session_answer_json(const SessionInfo& s);
Result<SessionInfo> decode_session_answer(const Json& j);
// {"sessions": [<SessionInfo>...]}.
Result<std::vector<SessionInfo>> decode_sessions_answer(const Json& j);

// GET /v1/sessions/{id}/logs: {"logs": <text>}.
Json logs_answer_json(const std::string& logs);
Result<std::string> decode_logs_answer(const Json& j);

// PUT /v1/blobs/{digest}.
struct BlobStored {
  std::string digest;
  int64_t size = 0;
};
Json to_json(const BlobStored& b);
Result<BlobStored> decode_blob_stored(const Json& j);

}  // namespace xop
