// What XIS asks others before it stores an advert (docs/xis.md, "Trust"):
//  - the corp: is the advert's signer a registered server account, and who owns it?
//    (GET <corp>/v1/servers/{id}, public and read-only; docs/api/corp.yaml)
//  - the advertised endpoint: which key does the server answering there hold?
//    (GET <endpoint>/v1/info, public; its "public_key")
// Both are hooks so that tests can stand in for them; the HTTP versions are bounded (timeout,
// response-size cap) and their answers are decoded strictly by the pure decoders below, which
// never throw whatever the input (fuzzed with the other XIS bodies).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "client/connector.h"
#include "core/result.h"

namespace xop {

struct ServerRegistration {
  std::string server;      // account id
  std::string public_key;  // base64, as registered
  std::string owner;       // owner account id; empty if none
};

// The corp's answer for `server_id`: a registration, nullopt when the corp says it is not a
// registered server account, or an error (kUnavailable) when it could not be asked.
using RegistryLookup = std::function<Result<std::optional<ServerRegistration>>(const std::string& server_id)>;
// The base64 public key of the server answering at `endpoint_url`, or an error saying why not.
using EndpointKeyLookup = std::function<Result<std::string>(const std::string& endpoint_url)>;

struct XisPeers {
  RegistryLookup registry;         // empty: anyone with a key may advertise (standalone tests)
  EndpointKeyLookup endpoint_key;  // empty: endpoints are not checked for possession
};

// Largest answers read from the corp and from an advertised endpoint.
inline constexpr size_t kMaxRegistryAnswer = size_t{16} * 1024;
inline constexpr size_t kMaxInfoAnswer = size_t{1} << 20;  // a server's info lists its images
inline constexpr std::chrono::milliseconds kPeerTimeout{2000};

// Decodes GET /v1/servers/{id}: 200 {"server": {"id", "public_key", "owner"?, ...}} (id must be
// `server_id`) is a registration, 404 is nullopt, anything else an error (kUnavailable).
Result<std::optional<ServerRegistration>> decode_registry_answer(const std::string& server_id, int status,
                                                                 std::string_view body);
// Decodes a 200 GET /v1/info body: an object whose "public_key" is a valid base64 Ed25519 key.
Result<std::string> decode_info_key(std::string_view body);

// The hooks over `connector` (one transport per look-up; the simulated platform's connector serves
// endpoints in-process). corp_registry() fails for a malformed corp URL.
Result<RegistryLookup> corp_registry(const std::string& corp_url, Connector connector);
EndpointKeyLookup endpoint_key(Connector connector);
// The HTTP hooks: a bounded HTTP client per look-up (timeout, answer-size cap).
Result<RegistryLookup> corp_registry(const std::string& corp_url, std::chrono::milliseconds timeout = kPeerTimeout);
EndpointKeyLookup http_endpoint_key(std::chrono::milliseconds timeout = kPeerTimeout);

}  // namespace xop
