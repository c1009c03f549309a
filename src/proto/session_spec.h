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

struct SessionSpec {
  std::string name;                  // a label for humans
  std::string image;                 // "sha256:..." of the image manifest
  std::vector<std::string> command;  // empty: the image's entrypoint + cmd
  std::map<std::string, std::string> env;
  Resources resources;
  int64_t pids = 64;

  friend bool operator==(const SessionSpec&, const SessionSpec&) = default;
};

struct CreateSessionRequest {
  SessionSpec spec;
  SignedDoc purchase_order;
};

// The wire forms, declared once (core/schema.h; docs/formats.md).
const Schema<SessionSpec>& session_spec_schema();
const Schema<CreateSessionRequest>& create_session_request_schema();
Json to_json(const SessionSpec& s);
Result<SessionSpec> session_spec_from_json(const Json& j);
Json to_json(const CreateSessionRequest& r);
Result<CreateSessionRequest> create_session_request_from_json(const Json& j);

}  // namespace xop
