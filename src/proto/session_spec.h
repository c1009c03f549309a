// What a user asks a XenoServer to run: an OCI image (by manifest digest, its blobs already
// uploaded), an optional command and environment overriding the image's, and the resources to
// reserve. Sent with a corp-signed purchase order in POST /v1/sessions.
#pragma once

#include <map>
#include <vector>

#include "core/resources.h"
#include "crypto/signed_doc.h"

namespace xop {

inline constexpr int64_t kMaxPids = 4096;
inline constexpr size_t kMaxPublishedPorts = 16;

// A port the session's workload listens on, to be published on a host port of the server
// (docs/formats.md "Published ports"). name: 1..32 of [a-z0-9-], unique in the spec; port
// 1..65535; protocol "tcp" (the default) or "udp"; (port, protocol) unique in the spec.
struct PortSpec {
  std::string name;
  int64_t port = 0;
  std::string protocol = "tcp";

  friend bool operator==(const PortSpec&, const PortSpec&) = default;
};

struct SessionSpec {
  std::string name;                  // a label for humans
  std::string image;                 // "sha256:..." of the image manifest
  std::vector<std::string> command;  // empty: the image's entrypoint + cmd
  std::map<std::string, std::string> env;
  Resources resources;
  int64_t pids = 64;
  std::vector<PortSpec> ports;  // at most kMaxPublishedPorts; absent on the wire when empty

  friend bool operator==(const SessionSpec&, const SessionSpec&) = default;
};

struct CreateSessionRequest {
  SessionSpec spec;
  SignedDoc purchase_order;
};

// The wire forms, declared once (core/schema.h; docs/formats.md).
const Schema<PortSpec>& port_spec_schema();
const Schema<SessionSpec>& session_spec_schema();
const Schema<CreateSessionRequest>& create_session_request_schema();
Json to_json(const SessionSpec& s);
Result<SessionSpec> session_spec_from_json(const Json& j);
Json to_json(const CreateSessionRequest& r);
Result<CreateSessionRequest> create_session_request_from_json(const Json& j);

}  // namespace xop
