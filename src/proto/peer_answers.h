// Answers XIS reads from peers it does not trust before it stores an advert (docs/xis.md,
// "Trust"): the corp's GET /v1/servers/{id} (is the signer a registered server, who owns it?) and
// an advertised endpoint's GET /v1/info (which key does the server there hold?). Their decoders are
// pure, bounded and never throw whatever the input (fuzzed by tests/fuzz/fuzz_xis_bodies.cpp); the
// typed clients (CorpClient::server_registration, ServerClient::info_key) call them under the
// caps below.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace xop {

struct ServerRegistration {
  std::string server;      // account id
  std::string public_key;  // base64, as registered
  std::string owner;       // owner account id; empty if none
};

// Largest answers read from the corp and from an advertised endpoint.
inline constexpr size_t kMaxRegistryAnswer = size_t{16} * 1024;
inline constexpr size_t kMaxInfoAnswer = size_t{1} << 20;  // a server's info lists its images

// Decodes GET /v1/servers/{id}: 200 {"server": {"id", "public_key", "owner"?, ...}} (id must be
// `server_id`) is a registration, 404 is nullopt, anything else an error (kUnavailable).
Result<std::optional<ServerRegistration>> decode_registry_answer(const std::string& server_id, int status,
                                                                 std::string_view body);
// Decodes a 200 GET /v1/info body: an object whose "public_key" is a valid base64 Ed25519 key.
Result<std::string> decode_info_key(std::string_view body);

}  // namespace xop
