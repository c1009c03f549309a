#include "proto/peer_answers.h"

#include <fmt/format.h>

#include "core/json_reader.h"
#include "crypto/keys.h"

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

}  // namespace xop
