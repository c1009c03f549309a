// GET /v1/status of a XenoServer (docs/api/server.yaml): the owner's view of it (`xop server
// status`). Declared once as Schema tables: the server encodes with to_json(), clients
// (client/server_client.h) decode strictly (unknown, missing or mistyped fields are
// kInvalidArgument naming the field, e.g. "server_status.sessions[0].claimed: ...").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/resources.h"
#include "core/schema.h"

namespace xop {

struct ServerRegistrationStatus {
  std::string corp_url;
  bool registered = false;
  int64_t registered_at = 0;  // 0: not yet
};

// Usage deliveries to the corp.
struct CorpDeliveryStatus {
  bool reachable = true;
  int64_t delivery_failures = 0;  // in a row
  std::string error;              // the last failure's, or empty
};

struct AdvertStatus {
  std::string xis_url;
  std::string state;  // "accepted" | "failing" | "none" | "disabled"
  int64_t last_accepted_at = 0;
  int64_t age_ms = -1;  // since last_accepted_at; -1: never accepted
  int64_t ttl_ms = 0;
  int64_t interval_ms = 0;
  bool fresh = false;
  std::string error;
};

// A hosted session, briefly.
struct HostedSession {
  std::string id;
  std::string user;
  std::string state;
  int64_t started_at = 0;
  int64_t stopped_at = 0;
  int64_t claimed = 0;  // micros
};

struct ServerStatusView {
  std::string server;  // the server's account id
  std::string name;
  std::string owner;
  int64_t now = 0;
  ServerRegistrationStatus registration;
  CorpDeliveryStatus corp;
  AdvertStatus advert;
  Resources capacity;
  Resources in_use;
  Resources free;
  std::vector<HostedSession> sessions;
};

// At most this many hosted sessions in one answer.
inline constexpr size_t kMaxStatusSessions = size_t{1} << 20;

const Schema<ServerStatusView>& server_status_schema();
Json to_json(const ServerStatusView& s);
Result<ServerStatusView> decode_server_status(const Json& j);

}  // namespace xop
