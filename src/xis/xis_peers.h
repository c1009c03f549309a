// What XIS asks others before it stores an advert (docs/xis.md, "Trust"):
//  - the corp: is the advert's signer a registered server account, and who owns it?
//    (GET <corp>/v1/servers/{id}, public and read-only; docs/api/corp.yaml)
//  - the advertised endpoint: which key does the server answering there hold?
//    (GET <endpoint>/v1/info, public; its "public_key")
// Both are hooks so that tests can stand in for them; the real ones ask through the typed clients
// (CorpClient::server_registration, ServerClient::info_key), bounded (timeout, response-size cap)
// and decoded strictly by the pure decoders of proto/peer_answers.h, which never throw whatever the
// input (fuzzed with the other XIS bodies).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "client/connector.h"
#include "core/result.h"
#include "proto/peer_answers.h"

namespace xop {

// The corp's answer for `server_id`: a registration, nullopt when the corp says it is not a
// registered server account, or an error (kUnavailable) when it could not be asked.
using RegistryLookup = std::function<Result<std::optional<ServerRegistration>>(const std::string& server_id)>;
// The base64 public key of the server answering at `endpoint_url`, or an error saying why not.
using EndpointKeyLookup = std::function<Result<std::string>(const std::string& endpoint_url)>;

struct XisPeers {
  RegistryLookup registry;         // empty: anyone with a key may advertise (standalone tests)
  EndpointKeyLookup endpoint_key;  // empty: endpoints are not checked for possession
};

inline constexpr std::chrono::milliseconds kPeerTimeout{2000};

// The hooks over `connector` (one transport per look-up; the simulated platform's connector serves
// endpoints in-process). corp_registry() fails for a malformed corp URL.
Result<RegistryLookup> corp_registry(const std::string& corp_url, Connector connector);
EndpointKeyLookup endpoint_key(Connector connector);
// The HTTP hooks: a bounded HTTP client per look-up (timeout, answer-size cap).
Result<RegistryLookup> corp_registry(const std::string& corp_url, std::chrono::milliseconds timeout = kPeerTimeout);
EndpointKeyLookup http_endpoint_key(std::chrono::milliseconds timeout = kPeerTimeout);

}  // namespace xop
