#include "xis/xis_peers.h"

#include <fmt/format.h>

#include "crypto/keys.h"
#include "net/http.h"
#include "net/http_client.h"

namespace xop {
namespace {

const Json* string_field(const Json& obj, const char* key, size_t max_len) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().size() > max_len) return nullptr;
  return &*it;
}

}  // namespace

Result<std::optional<ServerRegistration>> decode_registry_answer(const std::string& server_id, int status,
                                                                 std::string_view body) {
  if (status == 404) return std::optional<ServerRegistration>{};
  if (status != 200) return make_error(ErrorCode::kUnavailable, fmt::format("the corp answered {}", status));
  if (body.size() > kMaxRegistryAnswer) return make_error(ErrorCode::kUnavailable, "the corp's answer is too large");
  auto j = parse_json(body);
  if (!j || !j->is_object()) return make_error(ErrorCode::kUnavailable, "the corp's answer is not a JSON object");
  auto s = j->find("server");
  if (s == j->end() || !s->is_object()) return make_error(ErrorCode::kUnavailable, "the corp's answer has no server");
  const Json* id = string_field(*s, "id", 64);
  const Json* key = string_field(*s, "public_key", 128);
  if (id == nullptr || key == nullptr || id->get<std::string>() != server_id) {
    return make_error(ErrorCode::kUnavailable, "the corp's answer is about another server or malformed");
  }
  auto pk = PublicKey::from_base64(key->get<std::string>());
  if (!pk || pk->account_id() != server_id) {
    return make_error(ErrorCode::kUnavailable, "the corp's answer has a key that is not the server's");
  }
  ServerRegistration r{server_id, key->get<std::string>(), ""};
  if (auto o = s->find("owner"); o != s->end()) {
    const Json* owner = string_field(*s, "owner", 64);
    if (owner == nullptr || !is_account_id(owner->get<std::string>())) {
      return make_error(ErrorCode::kUnavailable, "the corp's answer has a malformed owner");
    }
    r.owner = owner->get<std::string>();
  }
  return std::optional<ServerRegistration>(std::move(r));
}

Result<std::string> decode_info_key(std::string_view body) {
  if (body.size() > kMaxInfoAnswer) return invalid("its /v1/info answer is too large");
  auto j = parse_json(body);
  if (!j || !j->is_object()) return invalid("its /v1/info answer is not a JSON object");
  const Json* key = string_field(*j, "public_key", 128);
  if (key == nullptr) return invalid("its /v1/info answer has no public_key");
  auto pk = PublicKey::from_base64(key->get<std::string>());
  if (!pk) return invalid("its /v1/info public_key is not a key");
  return pk->base64();
}

Result<RegistryLookup> corp_registry(const std::string& corp_url, Connector connector) {
  XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(corp_url));
  return RegistryLookup([ep, connector = std::move(connector)](
                            const std::string& server_id) -> Result<std::optional<ServerRegistration>> {
    if (!is_account_id(server_id)) return std::optional<ServerRegistration>{};
    auto r = connector(ep)->request("GET", "/v1/servers/" + server_id, "", {});
    if (!r) return make_error(ErrorCode::kUnavailable, "the corp cannot be reached: " + r.error().message);
    return decode_registry_answer(server_id, r->status, r->body);
  });
}

EndpointKeyLookup endpoint_key(Connector connector) {
  return [connector = std::move(connector)](const std::string& endpoint_url) -> Result<std::string> {
    XOP_ASSIGN_OR_RETURN(auto ep, parse_endpoint(endpoint_url));
    auto r = connector(ep)->request("GET", "/v1/info", "", {});
    if (!r) return invalid("it cannot be reached: " + r.error().message);
    if (r->status != 200) return invalid(fmt::format("its /v1/info answered {}", r->status));
    return decode_info_key(r->body);
  };
}

Result<RegistryLookup> corp_registry(const std::string& corp_url, std::chrono::milliseconds timeout) {
  return corp_registry(corp_url, [timeout](const Endpoint& ep) -> std::shared_ptr<Transport> {
    return std::make_shared<HttpClient>(ep, timeout, kMaxRegistryAnswer + 4096);
  });
}

EndpointKeyLookup http_endpoint_key(std::chrono::milliseconds timeout) {
  return endpoint_key([timeout](const Endpoint& ep) -> std::shared_ptr<Transport> {
    return std::make_shared<HttpClient>(ep, timeout, kMaxInfoAnswer);
  });
}

}  // namespace xop
